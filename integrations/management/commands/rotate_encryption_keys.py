"""`python manage.py rotate_encryption_keys`: every stored secret re-encrypted under the first key of
ENCRYPTION_KEYS (credentials, trigger secrets, notification channels). Run it after putting a new
key first; once it reports no failures, the old keys can be dropped from ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand, CommandError

from integrations.key_rotation import DEFAULT_BATCH_SIZE, encryption_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first key of ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Rows per transaction (default 200)."
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        results = encryption_keys_rotate(batch_size=batch_size)
        for result in results:
            self.stdout.write(
                f"{result.kind}: {result.rotated} re-encrypted, {result.current} already under the first key, "
                f"{result.failed} undecryptable"
            )
        failed = [result for result in results if result.failed]
        if failed:
            listing = "; ".join(f"{result.kind}: {', '.join(result.failed_ids)}" for result in failed)
            raise CommandError(
                f"No key in ENCRYPTION_KEYS decrypts these rows (left as they were): {listing}. "
                "Keep the old keys until they are re-created or deleted."
            )
        self.stdout.write(self.style.SUCCESS("Every stored secret is under the first key of ENCRYPTION_KEYS."))
