"""`manage.py rotate_encryption_keys`: secrets stored under key A (and under the keys from before
ENCRYPTION_KEYS) are re-encrypted under B, after which A can be dropped and everything still works:
a credential resolves, a webhook trigger's signature verifies, a notification channel sends."""

import base64
import hashlib
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from executions.models import WebhookTrigger
from integrations.errors import CredentialUnreadable
from integrations.models import Credential
from integrations.selectors import credential_resolve
from integrations.services import credential_create
from notifications import services as notification_services
from notifications.dispatch import channel_webhook
from notifications.models import NotificationChannel
from tests.executions.test_triggers import create_trigger, deliver, webhook_graph

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def rotate(*args: str) -> list[str]:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue().splitlines()


def legacy_token(purpose: str, material: str, text: str) -> str:
    """A token as stored before ENCRYPTION_KEYS: under SHA-256(purpose + ":" + material)."""
    key = base64.urlsafe_b64encode(hashlib.sha256(f"{purpose}:{material}".encode()).digest())
    return Fernet(key).encrypt(text.encode()).decode()


@pytest.fixture
def stored_under_a(settings, auth_client, user, notification_stand_ins):
    """A credential, two triggers and two notification channels (one of each from before
    ENCRYPTION_KEYS), the DingTalk channel signed with a secret."""
    settings.ENCRYPTION_KEYS = [KEY_A]
    settings.NOTIFICATION_WEBHOOK_ALLOWED_HOSTS = [notification_stand_ins.allowed_host]
    settings.SAFE_HTTP_ALLOWED_HOSTS = [notification_stand_ins.allowed_host]
    credential = credential_create(user=user, provider="openai", type="api_key", title="K", api_key="sk-rotate-me")
    graph = webhook_graph(auth_client)
    trigger = create_trigger(auth_client, graph)
    legacy_trigger = create_trigger(auth_client, graph)
    WebhookTrigger.objects.filter(id=legacy_trigger["id"]).update(
        secret_encrypted=legacy_token("webhook-trigger-secret", settings.SECRET_KEY, legacy_trigger["secret"])
    )
    url = notification_stand_ins.http.dingtalk(secret="SECrotate")
    channel = notification_services.channel_create(
        user=user, kind="dingtalk", name="ops", webhook_url=url, secret="SECrotate"
    )
    legacy_url = notification_stand_ins.http.slack()
    legacy_channel = NotificationChannel.objects.create(
        user=user,
        kind="slack",
        name="old",
        url_masked="…",
        webhook_url_encrypted=legacy_token("notification-webhook", settings.SECRET_KEY, legacy_url),
    )
    return {
        "credential": credential,
        "triggers": [trigger, legacy_trigger],
        "channel": channel,
        "url": url,
        "legacy_channel": (legacy_channel, legacy_url),
    }


def test_rotating_moves_every_secret_to_the_first_key_so_the_old_one_can_go(
    settings, auth_client, api_client, user, stored_under_a, notification_stand_ins
):
    credential = stored_under_a["credential"]
    settings.ENCRYPTION_KEYS = [KEY_B, KEY_A]

    report = rotate("--batch-size", "1")

    assert report[:3] == [
        "credentials: 1 re-encrypted, 0 already under the first key, 0 undecryptable",
        "trigger secrets: 2 re-encrypted, 0 already under the first key, 0 undecryptable",
        "notification channels: 2 re-encrypted, 0 already under the first key, 0 undecryptable",
    ]
    # Idempotent: a second run finds nothing to do.
    assert rotate()[:3] == [
        "credentials: 0 re-encrypted, 1 already under the first key, 0 undecryptable",
        "trigger secrets: 0 re-encrypted, 2 already under the first key, 0 undecryptable",
        "notification channels: 0 re-encrypted, 2 already under the first key, 0 undecryptable",
    ]

    settings.ENCRYPTION_KEYS = [KEY_B]
    settings.SECRET_KEY = "the-legacy-material-is-gone-too-0123456789abcdef"

    resolved = credential_resolve(user_id=user.id, credential_id=str(credential.id), provider="openai")
    assert resolved.api_key.get_secret_value() == "sk-rotate-me"
    for trigger in stored_under_a["triggers"]:
        response = deliver(api_client, trigger, {"name": "Ada"})
        assert response.status_code == 202, response.json()
    sent = auth_client.post(f"/api/v1/notifications/channels/{stored_under_a['channel'].id}/test")
    assert sent.status_code == 200, sent.content
    [seen] = notification_stand_ins.http.requests(stored_under_a["url"])
    assert seen.problem is None  # signed with the secret, which decrypted under B
    legacy_channel, legacy_url = stored_under_a["legacy_channel"]
    legacy_channel.refresh_from_db()
    assert channel_webhook(legacy_channel) == (legacy_url, "")
    for row in (
        Credential.objects.get(id=credential.id).secrets_encrypted,
        *NotificationChannel.objects.exclude(secret_encrypted="").values_list("secret_encrypted", flat=True),
        *NotificationChannel.objects.values_list("webhook_url_encrypted", flat=True),
        *WebhookTrigger.objects.values_list("secret_encrypted", flat=True),
    ):
        Fernet(KEY_B).decrypt(row.encode())


def test_without_rotating_dropping_the_old_key_breaks_them(settings, user, api_client, stored_under_a):
    settings.ENCRYPTION_KEYS = [KEY_B]

    with pytest.raises(CredentialUnreadable):
        credential_resolve(user_id=user.id, credential_id=str(stored_under_a["credential"].id), provider="openai")
    assert deliver(api_client, stored_under_a["triggers"][0], {"name": "Ada"}).status_code == 401


def test_rows_no_key_decrypts_are_reported_and_left_while_the_rest_rotate(settings, user, stored_under_a):
    lost = credential_create(user=user, provider="groq", type="api_key", title="Lost", api_key="gsk-lost")
    lost_token = Fernet(Fernet.generate_key()).encrypt(b'{"api_key": "gsk-lost"}').decode()
    Credential.objects.filter(id=lost.id).update(secrets_encrypted=lost_token)
    settings.ENCRYPTION_KEYS = [KEY_B, KEY_A]

    with pytest.raises(CommandError, match=str(lost.id)):
        rotate()

    assert Credential.objects.get(id=lost.id).secrets_encrypted == lost_token
    rotated = Credential.objects.get(id=stored_under_a["credential"].id).secrets_encrypted
    assert Fernet(KEY_B).decrypt(rotated.encode())
