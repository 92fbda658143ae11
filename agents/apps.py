from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every process imports its blocks at start-up: the LLM blocks import the provider SDKs,
        # seconds of CPU that must not land on a server's first request or a worker's first run.
        from .blocks import load_blocks  # noqa: PLC0415  (block modules import models: only once apps are ready)

        load_blocks()
