"""Placeholder: the LLM model registry replaces this file. integrations.providers asks it which
models each provider offers."""


def models_for_provider(provider: str) -> list[str]:
    return []
