from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "executions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Models are loaded only now; importing schedules connects the cleanup of beat rows.
        from . import schedules  # noqa: F401, PLC0415
