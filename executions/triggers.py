"""Webhook triggers: an outside system starts a graph by POSTing signed JSON to the trigger's URL.

Signature: `X-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw request body keyed with the
trigger's secret (the UTF-8 bytes of the string shown once when the trigger was created), as GitHub
signs its webhooks. The secret is stored encrypted under ENCRYPTION_KEYS (autogpt_platform.encryption).

Payload to inputs: each top-level key of the JSON object that names one of the graph's inputs
becomes that input; if the graph has an input named "payload", or a Generic Webhook Trigger node
(whose `payload` pin it fills), it receives the whole object (over a top-level "payload" key);
every other key is ignored.

Replays: a delivery that carries `X-Delivery-Id` is recorded (TriggerDelivery, unique per trigger);
the same id again within TRIGGER_REPLAY_WINDOW_SECONDS answers with the original execution and
starts nothing. Deliveries without the header are not protected against replays.
"""

import hashlib
import hmac
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import status

from accounts.models import User
from agents.models import GraphVersion
from agents.selectors import graph_exists, graph_get_for_user, graph_input_schema
from agents.validation import WEBHOOK_PAYLOAD_INPUT, has_webhook_trigger
from autogpt_platform.encryption import LEGACY_TRIGGER_SECRET, InvalidToken, decrypt_text, encrypt_text
from autogpt_platform.errors import ApplicationError, ConflictError, FieldError, NotFoundError
from autogpt_platform.json_limits import JsonTooDeepError, check_depth

from .models import TriggerDelivery, TriggerKind, WebhookTrigger
from .services import execution_create

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature-256"
DELIVERY_ID_HEADER = "X-Delivery-Id"
SIGNATURE_PREFIX = "sha256="
PAYLOAD_INPUT = WEBHOOK_PAYLOAD_INPUT
DELIVERY_ID_MAX_LENGTH = 200


class SignatureError(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "invalid_signature"


class PayloadTooLargeError(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"


# --- the secret ---------------------------------------------------------------------------------
def _encrypt_secret(secret: str) -> str:
    return encrypt_text(secret)


def trigger_secret(trigger: WebhookTrigger) -> str:
    """The trigger's secret in plain text (raises InvalidToken when its key left ENCRYPTION_KEYS)."""
    return decrypt_text(trigger.secret_encrypted, legacy_purpose=LEGACY_TRIGGER_SECRET)


def signature_for(secret: str, body: bytes) -> str:
    """The X-Signature-256 value a sender puts on body."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- selectors ----------------------------------------------------------------------------------
def trigger_list(*, user: User, graph_id: uuid.UUID) -> QuerySet[WebhookTrigger]:
    if not graph_exists(user=user, graph_id=graph_id):
        raise NotFoundError("Graph not found.")
    return WebhookTrigger.objects.filter(user=user, graph_id=graph_id).order_by("-created_at")


def trigger_get(*, user: User, trigger_id: uuid.UUID) -> WebhookTrigger:
    trigger = WebhookTrigger.objects.filter(id=trigger_id, user=user).first()
    if trigger is None:
        raise NotFoundError("Trigger not found.")
    return trigger


def trigger_get_for_ingress(*, trigger_id: uuid.UUID) -> WebhookTrigger:
    """Any user's trigger: the ingress is authenticated by the signature, not by a user."""
    trigger = WebhookTrigger.objects.filter(id=trigger_id, user__is_active=True).select_related("user").first()
    if trigger is None:
        raise NotFoundError("Trigger not found.")
    return trigger


def trigger_input_names(trigger: WebhookTrigger) -> set[str]:
    """The graph's input names; with "payload" when a Generic Webhook Trigger node takes it."""
    version = graph_get_for_user(user=trigger.user, graph_id=trigger.graph_id, version=trigger.graph_version)
    names = set(graph_input_schema(version)["properties"])
    if has_webhook_trigger(version):
        names.add(WEBHOOK_PAYLOAD_INPUT)
    return names


# --- services -----------------------------------------------------------------------------------
def trigger_create(
    *, user: User, graph_id: uuid.UUID, graph_version: int | None = None, name: str = ""
) -> tuple[WebhookTrigger, str]:
    """A new trigger of one of the user's graphs, and its secret in plain text (shown only now)."""
    if not graph_exists(user=user, graph_id=graph_id):
        raise NotFoundError("Graph not found.")
    if graph_version is not None and not GraphVersion.objects.filter(graph_id=graph_id, version=graph_version).exists():
        raise FieldError("graph_version", f"This graph has no version {graph_version}.")
    secret = secrets.token_urlsafe(32)
    trigger = WebhookTrigger.objects.create(
        user=user,
        graph_id=graph_id,
        graph_version=graph_version,
        name=name,
        secret_encrypted=_encrypt_secret(secret),
    )
    return trigger, secret


def trigger_update(
    *, user: User, trigger_id: uuid.UUID, is_paused: bool | None = None, name: str | None = None
) -> WebhookTrigger:
    trigger = trigger_get(user=user, trigger_id=trigger_id)
    changed = []
    if is_paused is not None:
        trigger.is_paused = is_paused
        changed.append("is_paused")
    if name is not None:
        trigger.name = name
        changed.append("name")
    if changed:
        trigger.save(update_fields=changed)
    return trigger


def trigger_delete(*, user: User, trigger_id: uuid.UUID) -> None:
    trigger_get(user=user, trigger_id=trigger_id).delete()


def _check_signature(trigger: WebhookTrigger, body: bytes, signature: str | None) -> None:
    if not signature:
        raise SignatureError(f"The {SIGNATURE_HEADER} header is missing.")
    provided = signature.strip().lower()
    if not provided.isascii() or not provided.startswith(SIGNATURE_PREFIX):
        raise SignatureError(f"The {SIGNATURE_HEADER} header must be 'sha256=<hex HMAC-SHA256 of the body>'.")
    try:
        secret = trigger_secret(trigger)
    except InvalidToken:
        logger.error(
            "Trigger %s: its secret cannot be decrypted (was its key dropped from ENCRYPTION_KEYS?)", trigger.id
        )
        raise SignatureError("The signature does not match the body.") from None
    if not hmac.compare_digest(provided.encode(), signature_for(secret, body).encode()):
        raise SignatureError("The signature does not match the body.")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _parse_payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApplicationError("The body is not valid JSON.", code="parse_error") from None
    try:
        check_depth(payload)  # what runs the graph walks the inputs recursively
    except JsonTooDeepError as exc:
        raise FieldError("body", exc.problem) from None
    if not isinstance(payload, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(payload), "a number")
        raise FieldError("body", f"The body must be a JSON object, not {kind}.")
    return payload


def _clean_delivery_id(delivery_id: str | None) -> str:
    delivery_id = (delivery_id or "").strip()
    if len(delivery_id) > DELIVERY_ID_MAX_LENGTH:
        raise FieldError(DELIVERY_ID_HEADER, f"At most {DELIVERY_ID_MAX_LENGTH} characters.")
    if "\x00" in delivery_id:
        raise FieldError(DELIVERY_ID_HEADER, "May not contain NUL characters.")
    return delivery_id


def payload_to_inputs(payload: dict[str, Any], input_names: set[str]) -> dict[str, Any]:
    """Top-level keys that name an input become that input; an input named "payload" gets the
    whole object; other keys are ignored."""
    inputs = {key: value for key, value in payload.items() if key in input_names}
    if PAYLOAD_INPUT in input_names:
        inputs[PAYLOAD_INPUT] = payload
    return inputs


@dataclass
class IngressResult:
    execution_id: uuid.UUID | None
    status: str | None
    replayed: bool


def _replay_window() -> timedelta:
    return timedelta(seconds=settings.TRIGGER_REPLAY_WINDOW_SECONDS)


def _record_delivery(trigger: WebhookTrigger, delivery_id: str) -> TriggerDelivery | None:
    """Record the delivery, or None when the same id was accepted within the window. The insert
    comes first, so that of two concurrent deliveries of one id exactly one gets through."""
    TriggerDelivery.objects.filter(
        trigger=trigger, delivery_id=delivery_id, received_at__lt=timezone.now() - _replay_window()
    ).delete()
    try:
        with transaction.atomic():
            return TriggerDelivery.objects.create(trigger=trigger, delivery_id=delivery_id)
    except IntegrityError:
        return None


def trigger_ingress(
    *, trigger: WebhookTrigger, body: bytes, signature: str | None, delivery_id: str | None = None
) -> IngressResult:
    """Verify a delivery and start the trigger's graph with the payload mapped onto its inputs.
    Checks in order: size (413), signature (401), paused (409), JSON object (400), replay, inputs
    (400). Raised errors roll the request back, so a refused delivery records nothing."""
    if len(body) > settings.TRIGGER_MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"The body is larger than {settings.TRIGGER_MAX_BODY_BYTES} bytes.")
    _check_signature(trigger, body, signature)
    if trigger.is_paused:
        raise ConflictError("This trigger is paused.", code="trigger_paused")
    payload = _parse_payload(body)
    delivery_id = _clean_delivery_id(delivery_id)

    delivery = None
    if delivery_id:
        delivery = _record_delivery(trigger, delivery_id)
        if delivery is None:
            original = (
                TriggerDelivery.objects.filter(trigger=trigger, delivery_id=delivery_id)
                .select_related("graph_execution")
                .first()
            )
            graph_exec = original.graph_execution if original else None
            return IngressResult(
                execution_id=graph_exec.id if graph_exec else None,
                status=graph_exec.status if graph_exec else None,
                replayed=True,
            )

    inputs = payload_to_inputs(payload, trigger_input_names(trigger))
    graph_exec = execution_create(
        user=trigger.user,
        graph_id=trigger.graph_id,
        graph_version=trigger.graph_version,
        inputs=inputs,
        trigger_kind=TriggerKind.TRIGGER,
        trigger_id=str(trigger.id),
    )
    if delivery is not None:
        delivery.graph_execution = graph_exec
        delivery.save(update_fields=["graph_execution"])
    return IngressResult(execution_id=graph_exec.id, status=graph_exec.status, replayed=False)


def trigger_delivery_purge_expired() -> int:
    """Forget deliveries older than the replay window; returns how many were deleted."""
    deleted, _ = TriggerDelivery.objects.filter(received_at__lt=timezone.now() - _replay_window()).delete()
    return deleted
