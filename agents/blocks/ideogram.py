"""Ideogram Model: AutoGPT's block (backend/blocks/ideogram.py), with its id, pins and defaults, on
Ideogram's API at IDEOGRAM_BASE_URL: `POST /v1/ideogram-v3/generate` for V_3, `POST /generate`
for the older models, and `POST /upscale` (multipart, the generated image sent back) for AI
Upscale; the key in the `Api-Key` header.
"""

from enum import StrEnum
from typing import Any

from integrations.provider_http import IDEOGRAM, ProviderError, multipart_body

from .base import BlockCategory, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .credentials import (
    TEST_CREDENTIAL_ID,
    CredentialsField,
    CredentialsMeta,
    IntegrationBlock,
    mock_credential,
    secret_text,
)
from .registry import register

PROVIDER = "ideogram"
TEST_IMAGE_URL = "https://ideogram.ai/api/images/test-generated-image-url.png"
TEST_UPSCALED_URL = "https://ideogram.ai/api/images/test-upscaled-image-url.png"


class IdeogramModelName(StrEnum):
    V3 = "V_3"
    V2 = "V_2"
    V1 = "V_1"
    V1_TURBO = "V_1_TURBO"
    V2_TURBO = "V_2_TURBO"


class MagicPromptOption(StrEnum):
    AUTO = "AUTO"
    ON = "ON"
    OFF = "OFF"


class StyleType(StrEnum):
    AUTO = "AUTO"
    GENERAL = "GENERAL"
    REALISTIC = "REALISTIC"
    DESIGN = "DESIGN"
    RENDER_3D = "RENDER_3D"
    ANIME = "ANIME"


class ColorPalettePreset(StrEnum):
    NONE = "NONE"
    EMBER = "EMBER"
    FRESH = "FRESH"
    JUNGLE = "JUNGLE"
    MAGIC = "MAGIC"
    MELON = "MELON"
    MOSAIC = "MOSAIC"
    PASTEL = "PASTEL"
    ULTRAMARINE = "ULTRAMARINE"


class AspectRatio(StrEnum):
    ASPECT_10_16 = "ASPECT_10_16"
    ASPECT_16_10 = "ASPECT_16_10"
    ASPECT_9_16 = "ASPECT_9_16"
    ASPECT_16_9 = "ASPECT_16_9"
    ASPECT_3_2 = "ASPECT_3_2"
    ASPECT_2_3 = "ASPECT_2_3"
    ASPECT_4_3 = "ASPECT_4_3"
    ASPECT_3_4 = "ASPECT_3_4"
    ASPECT_1_1 = "ASPECT_1_1"
    ASPECT_1_3 = "ASPECT_1_3"
    ASPECT_3_1 = "ASPECT_3_1"


class UpscaleOption(StrEnum):
    AI_UPSCALE = "AI Upscale"
    NO_UPSCALE = "No Upscale"


def v3_aspect_ratio(aspect_ratio: str) -> str:
    """ASPECT_16_9 -> 16x9, the V3 endpoint's form."""
    return aspect_ratio.removeprefix("ASPECT_").replace("_", "x")


def _first_url(response, secrets: list[str], doing: str) -> str:
    if not response.ok:
        raise BlockError(str(IDEOGRAM.refused(response, doing, secrets)))
    try:
        return str(response.json()["data"][0]["url"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise BlockError(f"Ideogram sent an answer without an image while {doing}.") from None


@register
class IdeogramModelBlock(IntegrationBlock):
    """Generates an image from a prompt with Ideogram's models (V_3 by default), optionally
    upscaled, and outputs its URL."""

    id = "6ab085e2-20b3-4055-bc3e-08036e01eca6"
    name = "Ideogram Model"
    provider = PROVIDER
    categories = {BlockCategory.AI, BlockCategory.MULTIMEDIA}

    class Input(BlockSchema):
        credentials: CredentialsMeta | None = CredentialsField(
            PROVIDER, description="Your Ideogram API key. Without one, the platform's is used."
        )
        prompt: str = SchemaField(description="Text prompt for image generation.", title="Prompt")
        ideogram_model_name: IdeogramModelName = SchemaField(
            IdeogramModelName.V3, description="The image generation model.", title="Image Generation Model"
        )
        aspect_ratio: AspectRatio = SchemaField(
            AspectRatio.ASPECT_1_1, description="Aspect ratio for the generated image.", title="Aspect Ratio"
        )
        upscale: UpscaleOption = SchemaField(
            UpscaleOption.NO_UPSCALE, description="Upscale the generated image.", title="Upscale Image"
        )
        magic_prompt_option: MagicPromptOption = SchemaField(
            MagicPromptOption.AUTO, description="Whether to use MagicPrompt to enhance the prompt.", advanced=True
        )
        seed: int | None = SchemaField(None, description="Random seed, for reproducible generation.", advanced=True)
        style_type: StyleType = SchemaField(
            StyleType.AUTO, description="Style type to apply (V_2 and above).", advanced=True
        )
        negative_prompt: str | None = SchemaField(
            None, description="Description of what to exclude from the image.", advanced=True
        )
        color_palette_name: ColorPalettePreset = SchemaField(
            ColorPalettePreset.NONE, description="Color palette preset; NONE to skip (V_2 models).", advanced=True
        )
        custom_color_palette: list[str] | None = SchemaField(
            None,
            description="Color hex codes of a custom palette (V_2 and V_2_TURBO), used when color_palette_name "
            "is NONE.",
            advanced=True,
        )

    class Output(BlockOutput):
        result: str = SchemaField(description="Generated image URL.")

    test_cases = [
        BlockTestCase(
            {
                "ideogram_model_name": IdeogramModelName.V2,
                "prompt": "A futuristic cityscape at sunset",
                "aspect_ratio": AspectRatio.ASPECT_1_1,
                "upscale": UpscaleOption.NO_UPSCALE,
                "magic_prompt_option": MagicPromptOption.AUTO,
                "seed": None,
                "style_type": StyleType.AUTO,
                "negative_prompt": None,
                "color_palette_name": ColorPalettePreset.NONE,
                "custom_color_palette": ["#000030", "#1C0C47", "#9900FF", "#4285F4", "#FFFFFF"],
                "credentials": {"id": TEST_CREDENTIAL_ID, "provider": PROVIDER, "type": "api_key"},
            },
            [("result", TEST_IMAGE_URL)],
            mocks={
                "run_model": lambda **kwargs: TEST_IMAGE_URL,
                "upscale_image": lambda **kwargs: TEST_UPSCALED_URL,
                "credential": mock_credential(PROVIDER),
            },
        ),
        BlockTestCase(
            {"prompt": "A cat", "upscale": "AI Upscale"},
            [("result", TEST_UPSCALED_URL)],
            description="AI Upscale sends the generated image to the upscaler",
            mocks={
                "run_model": lambda **kwargs: TEST_IMAGE_URL,
                "upscale_image": lambda api_key, image_url: TEST_UPSCALED_URL if image_url == TEST_IMAGE_URL else "",
                "credential": mock_credential(PROVIDER),
            },
        ),
    ]

    def run(self, input_data, context):
        api_key = secret_text(self.credential(context, input_data.credentials).api_key)
        result = self.run_model(
            api_key=api_key,
            model_name=input_data.ideogram_model_name.value,
            prompt=input_data.prompt,
            seed=input_data.seed,
            aspect_ratio=input_data.aspect_ratio.value,
            magic_prompt_option=input_data.magic_prompt_option.value,
            style_type=input_data.style_type.value,
            negative_prompt=input_data.negative_prompt,
            color_palette_name=input_data.color_palette_name.value,
            custom_colors=input_data.custom_color_palette,
        )
        if input_data.upscale == UpscaleOption.AI_UPSCALE:
            result = self.upscale_image(api_key=api_key, image_url=result)
        yield "result", result

    def run_model(
        self,
        *,
        api_key: str,
        model_name: str,
        prompt: str,
        seed: int | None,
        aspect_ratio: str,
        magic_prompt_option: str,
        style_type: str,
        negative_prompt: str | None,
        color_palette_name: str,
        custom_colors: list[str] | None,
    ) -> str:
        """The generated image's URL: V_3 on its own endpoint, the others on the legacy one."""
        if model_name == IdeogramModelName.V3:
            path = "/v1/ideogram-v3/generate"
            body: dict[str, Any] = {
                "prompt": prompt,
                "aspect_ratio": v3_aspect_ratio(aspect_ratio),
                "magic_prompt": magic_prompt_option,
                "style_type": style_type,
            }
            request = body
        else:
            path = "/generate"
            request = {
                "prompt": prompt,
                "model": model_name,
                "aspect_ratio": aspect_ratio,
                "magic_prompt_option": magic_prompt_option,
            }
            if model_name in (IdeogramModelName.V2, IdeogramModelName.V2_TURBO):
                request["style_type"] = style_type
                if color_palette_name != ColorPalettePreset.NONE:
                    request["color_palette"] = {"name": color_palette_name}
                elif custom_colors:
                    request["color_palette"] = {"members": [{"color_hex": color} for color in custom_colors]}
            body = {"image_request": request}
        if seed is not None:
            request["seed"] = seed
        if negative_prompt:
            request["negative_prompt"] = negative_prompt
        try:
            response = IDEOGRAM.request(
                "POST", IDEOGRAM.url(path), headers={"Api-Key": api_key}, json=body, secrets=[api_key]
            )
        except ProviderError as exc:
            raise BlockError(str(exc)) from None
        return _first_url(response, [api_key], "generating the image")

    def upscale_image(self, *, api_key: str, image_url: str) -> str:
        """The upscaled image's URL: the image is downloaded (the SSRF policy applies unless it is
        on Ideogram's API host) and sent to the upscaler."""
        try:
            image = IDEOGRAM.request("GET", image_url, secrets=[api_key])
            if not image.ok:
                raise BlockError(f"The generated image could not be downloaded (HTTP {image.status}).")
            body, content_type = multipart_body(
                {"image_request": "{}"}, {"image_file": ("image.png", image.content, "image/png")}
            )
            response = IDEOGRAM.request(
                "POST",
                IDEOGRAM.url("/upscale"),
                headers={"Api-Key": api_key, "Content-Type": content_type},
                body=body,
                secrets=[api_key],
            )
        except ProviderError as exc:
            raise BlockError(str(exc)) from None
        return _first_url(response, [api_key], "upscaling the image")
