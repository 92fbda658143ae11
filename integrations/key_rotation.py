"""Re-encrypting every stored secret under the first key of ENCRYPTION_KEYS
(`manage.py rotate_encryption_keys`), after which older keys can be dropped.

The encrypted columns are listed here, by model label, so that one command covers every app
without importing their models. A column added elsewhere must be added to ENCRYPTED_COLUMNS.
"""

import logging
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from autogpt_platform.encryption import (
    LEGACY_NOTIFICATION_WEBHOOK,
    LEGACY_TRIGGER_SECRET,
    InvalidToken,
    reencrypt_text,
)

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 200


@dataclass(frozen=True)
class EncryptedColumns:
    kind: str  # how the command's report names them
    model: str  # "app_label.ModelName"
    fields: tuple[str, ...]
    legacy_purpose: str | None = None  # rows from before ENCRYPTION_KEYS decrypt under this


ENCRYPTED_COLUMNS = (
    EncryptedColumns("credentials", "integrations.Credential", ("secrets_encrypted",)),
    EncryptedColumns("trigger secrets", "executions.WebhookTrigger", ("secret_encrypted",), LEGACY_TRIGGER_SECRET),
    EncryptedColumns(
        "notification channels",
        "notifications.NotificationChannel",
        ("webhook_url_encrypted", "secret_encrypted"),
        LEGACY_NOTIFICATION_WEBHOOK,
    ),
)


@dataclass
class RotationResult:
    kind: str
    rotated: int = 0  # rows re-encrypted under the first key
    current: int = 0  # rows that already were
    failed_ids: list[str] = field(default_factory=list)  # rows no key decrypts, left as they were

    @property
    def failed(self) -> int:
        return len(self.failed_ids)


def _rotate_batch(model, columns: EncryptedColumns, after, batch_size: int, result: RotationResult):
    """One transaction: lock the next batch of rows, re-encrypt what needs it. The last pk seen, or
    None when there were no rows left."""
    with transaction.atomic():
        rows = model.objects.order_by("pk").select_for_update().only("pk", *columns.fields)
        if after is not None:
            rows = rows.filter(pk__gt=after)
        batch = list(rows[:batch_size])
        changed = []
        for row in batch:
            try:
                new_values = {
                    name: reencrypt_text(token, legacy_purpose=columns.legacy_purpose)
                    for name in columns.fields
                    if (token := getattr(row, name))
                }
            except InvalidToken:
                result.failed_ids.append(str(row.pk))
                logger.error("%s %s: no key in ENCRYPTION_KEYS decrypts it; left as it is", columns.kind, row.pk)
                continue
            new_values = {name: value for name, value in new_values.items() if value is not None}
            if not new_values:
                result.current += 1
                continue
            for name, value in new_values.items():
                setattr(row, name, value)
            changed.append(row)
        if changed:
            model.objects.bulk_update(changed, columns.fields)
        result.rotated += len(changed)
    return batch[-1].pk if batch else None


def encryption_keys_rotate(*, batch_size: int = DEFAULT_BATCH_SIZE) -> list[RotationResult]:
    """Re-encrypt every stored secret that is not under the first key of ENCRYPTION_KEYS, in
    batches of batch_size rows, each batch one transaction. Idempotent: a second run finds every
    row current. Rows no key decrypts are reported (by id) and left untouched."""
    results = []
    for columns in ENCRYPTED_COLUMNS:
        model = apps.get_model(columns.model)
        result = RotationResult(columns.kind)
        last = None
        while (last := _rotate_batch(model, columns, last, batch_size, result)) is not None:
            pass
        results.append(result)
    return results
