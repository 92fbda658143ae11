import pytest


@pytest.fixture(autouse=True)
def stand_in_settings(settings, notification_stand_ins):
    """This process reaches the stand-ins as the workers do (channel tests send from here)."""
    settings.NOTIFICATION_WEBHOOK_ALLOWED_HOSTS = [notification_stand_ins.allowed_host]
    settings.SAFE_HTTP_ALLOWED_HOSTS = [notification_stand_ins.allowed_host]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", notification_stand_ins.smtp.port


@pytest.fixture
def stand_ins(notification_stand_ins):
    return notification_stand_ins
