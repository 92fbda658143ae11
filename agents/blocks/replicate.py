"""Replicate Flux Advanced Model: AutoGPT's block (backend/blocks/replicate/flux_advanced.py), with
its id, pins and defaults, on Replicate's HTTP API at REPLICATE_BASE_URL, spoken directly (as the
`replicate` SDK does for `client.run(model, wait=False)`): `POST /v1/models/{owner}/{name}/predictions`
creates a prediction, `GET /v1/predictions/{id}` is polled every REPLICATE_POLL_SECONDS until it
ends (REPLICATE_MAX_WAIT_SECONDS at most), and a stopped run cancels it.
"""

import os
import re
import time
from enum import StrEnum
from typing import Any

from django.conf import settings

from integrations.provider_http import REPLICATE, ProviderError

from .base import (
    BlockCategory,
    BlockContext,
    BlockError,
    BlockOutput,
    BlockSchema,
    BlockTestCase,
    ExecutionCancelled,
    SchemaField,
)
from .credentials import (
    TEST_CREDENTIAL_ID,
    CredentialsField,
    CredentialsMeta,
    IntegrationBlock,
    mock_credential,
    secret_text,
)
from .registry import register

PROVIDER = "replicate"
ENDED = ("succeeded", "failed", "canceled")
_PREDICTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
TEST_RESULT = "https://replicate.com/output/generated-image-url.jpg"


class ReplicateFluxModelName(StrEnum):
    FLUX_SCHNELL = "Flux Schnell"
    FLUX_PRO = "Flux Pro"
    FLUX_PRO1_1 = "Flux Pro 1.1"

    @property
    def api_name(self) -> str:
        return {
            ReplicateFluxModelName.FLUX_SCHNELL: "black-forest-labs/flux-schnell",
            ReplicateFluxModelName.FLUX_PRO: "black-forest-labs/flux-pro",
            ReplicateFluxModelName.FLUX_PRO1_1: "black-forest-labs/flux-1.1-pro",
        }[self]


class ImageType(StrEnum):
    WEBP = "webp"
    JPG = "jpg"
    PNG = "png"


def extract_result(output: Any) -> str:
    """AutoGPT's reading of a prediction's output: a file URL (the first of a list), the pieces of
    a text joined, or a message when there is none."""
    if isinstance(output, list) and output:
        first = output[0]
        if isinstance(first, str):
            return first if first.startswith(("http://", "https://", "data:")) else "".join(map(str, output))
        return str(first)
    if isinstance(output, str) and output:
        return output
    return "No output received"


@register
class ReplicateFluxAdvancedModelBlock(IntegrationBlock):
    """Generates an image with a Flux model on Replicate (Schnell, Pro or Pro 1.1) with advanced
    settings, and outputs its URL."""

    id = "90f8c45e-e983-4644-aa0b-b4ebe2f531bc"
    name = "Replicate Flux Advanced Model"
    provider = PROVIDER
    categories = {BlockCategory.AI, BlockCategory.MULTIMEDIA}

    class Input(BlockSchema):
        credentials: CredentialsMeta | None = CredentialsField(
            PROVIDER, description="Your Replicate API key. Without one, the platform's is used."
        )
        prompt: str = SchemaField(description="Text prompt for image generation.", title="Prompt")
        replicate_model_name: ReplicateFluxModelName = SchemaField(
            ReplicateFluxModelName.FLUX_SCHNELL, description="The Flux model.", title="Image Generation Model"
        )
        seed: int | None = SchemaField(None, description="Random seed, for reproducible generation.", title="Seed")
        steps: int = SchemaField(25, description="Number of diffusion steps.", title="Steps")
        guidance: float = SchemaField(
            3,
            description="Adherence to the prompt against image quality and diversity: higher follows the prompt "
            "more closely.",
            title="Guidance",
        )
        interval: float = SchemaField(
            2,
            description="Variance of the possible outputs: low follows the prompt more consistently.",
            title="Interval",
        )
        aspect_ratio: str = SchemaField(
            "1:1", description="Aspect ratio: 1:1, 16:9, 2:3, 3:2, 4:5, 5:4 or 9:16.", title="Aspect Ratio"
        )
        output_format: ImageType = SchemaField(ImageType.WEBP, description="File format of the image.")
        output_quality: int = SchemaField(80, description="Quality from 0 to 100 (not for png).")
        safety_tolerance: int = SchemaField(2, description="Safety tolerance, 1 (strictest) to 5 (most permissive).")

    class Output(BlockOutput):
        result: str = SchemaField(description="Generated output.")
        error: str = SchemaField(description="Error message if the model run failed.")

    test_cases = [
        BlockTestCase(
            {
                "credentials": {"id": TEST_CREDENTIAL_ID, "provider": PROVIDER, "type": "api_key"},
                "replicate_model_name": ReplicateFluxModelName.FLUX_SCHNELL,
                "prompt": "A beautiful landscape painting of a serene lake at sunrise",
                "seed": None,
                "steps": 25,
                "guidance": 3.0,
                "interval": 2.0,
                "aspect_ratio": "1:1",
                "output_format": ImageType.PNG,
                "output_quality": 80,
                "safety_tolerance": 2,
            },
            [("result", TEST_RESULT)],
            mocks={"run_model": lambda *args, **kwargs: TEST_RESULT, "credential": mock_credential(PROVIDER)},
        ),
        BlockTestCase(
            {"prompt": "dog", "replicate_model_name": "Flux Pro 1.1", "seed": 7, "output_format": "png"},
            [("result", "black-forest-labs/flux-1.1-pro seed=7 png")],
            description="the model's API name and the inputs are sent",
            mocks={
                "run_model": lambda context, **kw: f"{kw['model_name']} seed={kw['seed']} {kw['output_format']}",
                "credential": mock_credential(PROVIDER),
            },
        ),
    ]

    def run(self, input_data, context):
        api_key = secret_text(self.credential(context, input_data.credentials).api_key)
        seed = input_data.seed if input_data.seed is not None else int.from_bytes(os.urandom(4), "big")
        yield (
            "result",
            self.run_model(
                context,
                api_key=api_key,
                model_name=input_data.replicate_model_name.api_name,
                prompt=input_data.prompt,
                seed=seed,
                steps=input_data.steps,
                guidance=input_data.guidance,
                interval=input_data.interval,
                aspect_ratio=input_data.aspect_ratio,
                output_format=input_data.output_format.value,
                output_quality=input_data.output_quality,
                safety_tolerance=input_data.safety_tolerance,
            ),
        )

    def run_model(self, context: BlockContext, *, api_key: str, model_name: str, **model_input: Any) -> str:
        """Create a prediction of the model's latest version, wait until it ends, and read its output."""
        headers = {"Authorization": f"Bearer {api_key}"}
        prediction = self._call(
            "POST", f"/v1/models/{model_name}/predictions", headers, api_key, {"input": model_input}
        )
        prediction_id = str(prediction.get("id") or "")
        if not _PREDICTION_ID.match(prediction_id):
            raise BlockError("Replicate did not say which prediction it created.")
        deadline = time.monotonic() + settings.REPLICATE_MAX_WAIT_SECONDS
        try:
            while prediction.get("status") not in ENDED:
                if time.monotonic() > deadline:
                    self._cancel(prediction_id, headers, api_key)
                    raise BlockError(
                        f"The Replicate prediction did not finish within {settings.REPLICATE_MAX_WAIT_SECONDS:g} s."
                    )
                context.sleep(settings.REPLICATE_POLL_SECONDS)
                prediction = self._call("GET", f"/v1/predictions/{prediction_id}", headers, api_key)
        except ExecutionCancelled:
            self._cancel(prediction_id, headers, api_key)
            raise
        if prediction["status"] != "succeeded":
            error = prediction.get("error")
            raise BlockError(f"Replicate prediction {prediction['status']}" + (f": {error}" if error else "."))
        return extract_result(prediction.get("output"))

    def _call(self, method: str, path: str, headers: dict, api_key: str, body: Any = None) -> dict[str, Any]:
        try:
            response = REPLICATE.request(method, REPLICATE.url(path), headers=headers, json=body, secrets=[api_key])
        except ProviderError as exc:
            raise BlockError(str(exc)) from None
        if not response.ok:
            raise BlockError(str(REPLICATE.refused(response, "running the model", [api_key])))
        try:
            prediction = response.json()
        except ValueError:
            prediction = None
        if not isinstance(prediction, dict):
            raise BlockError("Replicate sent an answer that is not a prediction.")
        return prediction

    def _cancel(self, prediction_id: str, headers: dict, api_key: str) -> None:
        """Best effort: a prediction left running would still be billed."""
        try:
            REPLICATE.request(
                "POST", REPLICATE.url(f"/v1/predictions/{prediction_id}/cancel"), headers=headers, secrets=[api_key]
            )
        except ProviderError:
            pass
