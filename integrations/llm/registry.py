"""The model registry: which provider serves a model, how much it reads and writes, what it costs.

Names and limits follow AutoGPT's `LlmModel` list for the providers this platform speaks to
(openai, anthropic, groq, open_router, ollama) plus the embedded `local` model. Prices are list
prices in US dollars per million tokens when written down here: estimates, for the usage shown
per execution, not a bill. Models served by Ollama, by an OpenAI-compatible server or by the
embedded llama.cpp server are whatever the server has, so any name is accepted for them.
"""

from dataclasses import dataclass, replace

from django.conf import settings

OPENAI = "openai"
ANTHROPIC = "anthropic"
GROQ = "groq"
OPEN_ROUTER = "open_router"
OLLAMA = "ollama"
OPENAI_COMPATIBLE = "openai_compatible"
LOCAL = "local"

PROVIDERS = (OPENAI, ANTHROPIC, GROQ, OPEN_ROUTER, OLLAMA, OPENAI_COMPATIBLE, LOCAL)
# Providers whose servers hold whatever models their operator pulled: unknown names are allowed.
OPEN_MODEL_PROVIDERS = frozenset({OLLAMA, OPENAI_COMPATIBLE, LOCAL})
PROVIDER_TITLES = {
    OPENAI: "OpenAI",
    ANTHROPIC: "Anthropic",
    GROQ: "Groq",
    OPEN_ROUTER: "OpenRouter",
    OLLAMA: "Ollama",
    OPENAI_COMPATIBLE: "OpenAI-compatible server",
    LOCAL: "the embedded local model",
}

# AutoGPT's default model for its LLM blocks (GPT-4o for Smart Decision Maker).
DEFAULT_MODEL = "gpt-4o"
LOCAL_MODEL = "smollm2-135m-instruct"


@dataclass(frozen=True)
class LlmModel:
    name: str
    provider: str
    context_window: int
    max_output_tokens: int
    price_in_per_million: float = 0.0
    price_out_per_million: float = 0.0
    supports_tools: bool = True

    @property
    def is_known(self) -> bool:
        return MODELS.get(self.name) == self


class UnknownModel(ValueError):
    """A model name no provider here serves. The message is meant for the user."""


def _models(provider: str, rows: list[tuple]) -> dict[str, LlmModel]:
    return {row[0]: LlmModel(row[0], provider, *row[1:]) for row in rows}


# name, context window, max output tokens, $ in / $ out per million tokens, calls tools
MODELS: dict[str, LlmModel] = {
    **_models(
        OPENAI,
        [
            ("o3-mini", 200_000, 100_000, 1.10, 4.40),
            ("o3-2025-04-16", 200_000, 100_000, 2.00, 8.00),
            ("o1", 200_000, 100_000, 15.00, 60.00),
            ("o1-mini", 128_000, 65_536, 1.10, 4.40, False),
            ("gpt-5.2-2025-12-11", 400_000, 128_000, 1.75, 14.00),
            ("gpt-5.1-2025-11-13", 400_000, 128_000, 1.25, 10.00),
            ("gpt-5-2025-08-07", 400_000, 128_000, 1.25, 10.00),
            ("gpt-5-mini-2025-08-07", 400_000, 128_000, 0.25, 2.00),
            ("gpt-5-nano-2025-08-07", 400_000, 128_000, 0.05, 0.40),
            ("gpt-5-chat-latest", 400_000, 16_384, 1.25, 10.00),
            ("gpt-4.1-2025-04-14", 1_047_576, 32_768, 2.00, 8.00),
            ("gpt-4.1-mini-2025-04-14", 1_047_576, 32_768, 0.40, 1.60),
            ("gpt-4o-mini", 128_000, 16_384, 0.15, 0.60),
            ("gpt-4o", 128_000, 16_384, 2.50, 10.00),
            ("gpt-4-turbo", 128_000, 4_096, 10.00, 30.00),
        ],
    ),
    **_models(
        ANTHROPIC,
        [
            ("claude-opus-4-1-20250805", 200_000, 32_000, 15.00, 75.00),
            ("claude-opus-4-20250514", 200_000, 32_000, 15.00, 75.00),
            ("claude-sonnet-4-20250514", 200_000, 64_000, 3.00, 15.00),
            ("claude-opus-4-5-20251101", 200_000, 64_000, 5.00, 25.00),
            ("claude-sonnet-4-5-20250929", 200_000, 64_000, 3.00, 15.00),
            ("claude-haiku-4-5-20251001", 200_000, 64_000, 1.00, 5.00),
            ("claude-opus-4-6", 200_000, 128_000, 5.00, 25.00),
            ("claude-sonnet-4-6", 200_000, 64_000, 3.00, 15.00),
            ("claude-3-7-sonnet-20250219", 200_000, 64_000, 3.00, 15.00),
            ("claude-3-5-sonnet-latest", 200_000, 8_192, 3.00, 15.00),
            ("claude-3-5-haiku-latest", 200_000, 8_192, 0.80, 4.00),
            ("claude-3-haiku-20240307", 200_000, 4_096, 0.25, 1.25),
        ],
    ),
    **_models(
        GROQ,
        [
            ("llama-3.3-70b-versatile", 128_000, 32_768, 0.59, 0.79),
            ("llama-3.1-8b-instant", 128_000, 8_192, 0.05, 0.08),
            ("llama3-70b-8192", 8_192, 8_192, 0.59, 0.79),
            ("llama3-8b-8192", 8_192, 8_192, 0.05, 0.08),
        ],
    ),
    **_models(
        OLLAMA,
        [
            ("llama3.3", 8_192, 4_096),
            ("llama3.2", 8_192, 4_096),
            ("llama3", 8_192, 4_096, 0.0, 0.0, False),
            ("llama3.1:405b", 8_192, 4_096),
            ("dolphin-mistral:latest", 32_768, 4_096, 0.0, 0.0, False),
        ],
    ),
    **_models(
        OPEN_ROUTER,
        [
            ("openai/gpt-oss-120b", 131_072, 131_072, 0.10, 0.50),
            ("openai/gpt-oss-20b", 131_072, 32_768, 0.05, 0.20),
            ("google/gemini-2.5-pro", 1_048_576, 65_536, 1.25, 10.00),
            ("google/gemini-2.5-flash", 1_048_576, 65_535, 0.30, 2.50),
            ("google/gemini-2.0-flash-001", 1_048_576, 8_192, 0.10, 0.40),
            ("google/gemini-2.0-flash-lite-001", 1_048_576, 8_192, 0.075, 0.30),
            ("mistralai/mistral-nemo", 128_000, 4_096, 0.02, 0.04),
            ("cohere/command-r-08-2024", 128_000, 4_096, 0.15, 0.60),
            ("cohere/command-r-plus-08-2024", 128_000, 4_096, 2.50, 10.00),
            ("deepseek/deepseek-chat", 64_000, 2_048, 0.30, 0.85),
            ("deepseek/deepseek-r1-0528", 163_840, 163_840, 0.50, 2.15, False),
            ("perplexity/sonar", 127_000, 8_000, 1.00, 1.00, False),
            ("perplexity/sonar-pro", 200_000, 8_000, 3.00, 15.00, False),
            ("perplexity/sonar-reasoning-pro", 128_000, 8_000, 2.00, 8.00, False),
            ("perplexity/sonar-deep-research", 128_000, 16_000, 2.00, 8.00, False),
            ("nousresearch/hermes-3-llama-3.1-405b", 131_000, 4_096, 1.00, 1.00),
            ("amazon/nova-lite-v1", 300_000, 5_120, 0.06, 0.24),
            ("amazon/nova-pro-v1", 300_000, 5_120, 0.80, 3.20),
            ("microsoft/phi-4", 16_384, 16_384, 0.07, 0.14, False),
            ("meta-llama/llama-4-scout", 131_072, 131_072, 0.08, 0.30),
            ("meta-llama/llama-4-maverick", 1_048_576, 1_000_000, 0.15, 0.60),
            ("x-ai/grok-4", 256_000, 256_000, 3.00, 15.00),
            ("x-ai/grok-4-fast", 2_000_000, 30_000, 0.20, 0.50),
            ("moonshotai/kimi-k2", 131_000, 131_000, 0.50, 2.40),
            ("qwen/qwen3-coder", 262_144, 262_144, 0.22, 0.95),
        ],
    ),
    **_models(LOCAL, [(LOCAL_MODEL, 8_192, 2_048, 0.0, 0.0, False)]),
}

# What an unknown model on an open server is assumed to handle: the server is the judge.
_OPEN_MODEL_DEFAULT = LlmModel(name="", provider=OLLAMA, context_window=8_192, max_output_tokens=4_096)


def model_get(name: str, provider: str | None = None) -> LlmModel:
    """The model called `name`. Unknown names are accepted for Ollama, OpenAI-compatible servers,
    the local model and, when OPENAI_BASE_URL is set, the openai provider (provider given, or
    Ollama when none is), with permissive limits; a known
    name asked of another open provider (`llama3.2` on a vLLM server) is served by that provider."""
    name = str(name or "").strip()
    if not name:
        raise UnknownModel("No model was chosen.")
    known = MODELS.get(name)
    if known is not None and (provider is None or provider == known.provider):
        return known
    if provider is None:
        provider = OLLAMA
    # OPENAI_BASE_URL points the openai provider at another server (vLLM, LM Studio, a llama.cpp
    # server): that server, not this list, knows its models.
    if provider in OPEN_MODEL_PROVIDERS or (provider == OPENAI and settings.OPENAI_BASE_URL):
        base = known or _OPEN_MODEL_DEFAULT
        return replace(base, name=name, provider=provider, price_in_per_million=0.0, price_out_per_million=0.0)
    if known is not None:  # e.g. an OpenAI model asked of an OpenRouter credential
        raise UnknownModel(f"'{name}' is a {PROVIDER_TITLES[known.provider]} model, not one of {_title(provider)}.")
    raise UnknownModel(f"{_title(provider)} has no model '{name}' here.")


def _title(provider: str) -> str:
    return PROVIDER_TITLES.get(provider, provider)


def models_for_provider(provider: str) -> list[str]:
    """The known model names of a provider, sorted."""
    return sorted(name for name, model in MODELS.items() if model.provider == provider)


def estimate_cost(model: LlmModel | str, input_tokens: int, output_tokens: int) -> float:
    """US dollars, from the list prices above (0 for local and self-hosted models)."""
    if isinstance(model, str):
        try:
            model = model_get(model)
        except UnknownModel:
            return 0.0
    cost = (input_tokens * model.price_in_per_million + output_tokens * model.price_out_per_million) / 1_000_000
    return round(cost, 8)
