import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from agents.services import graph_import

EXAMPLE_AGENTS = Path(settings.BASE_DIR) / "agents" / "examples"


class Command(BaseCommand):
    help = (
        "Create the demo user (with the example agents) and the demo admin, idempotently, and print their credentials."
    )

    def handle(self, *args, **options):
        accounts = [
            (settings.DEMO_USER_EMAIL, settings.DEMO_USER_PASSWORD, False),
            (settings.DEMO_ADMIN_EMAIL, settings.DEMO_ADMIN_PASSWORD, True),
        ]
        for email, password, is_admin in accounts:
            user = User.objects.filter(email=email).first()
            if user is None:
                create = User.objects.create_superuser if is_admin else User.objects.create_user
                user = create(email=email, password=password, name="Demo admin" if is_admin else "Demo user")
            if not is_admin and not user.graphs.exists():
                for example in sorted(EXAMPLE_AGENTS.glob("*.json")):
                    graph_import(user=user, data=json.loads(example.read_text()))
            label = "admin (Django admin at /admin/)" if is_admin else "user"
            self.stdout.write(f"Demo {label}: {email} / {password}")
