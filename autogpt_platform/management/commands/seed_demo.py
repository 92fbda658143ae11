from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User


class Command(BaseCommand):
    help = "Create the demo user and the demo admin (idempotent) and print their credentials."

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
            label = "admin (Django admin at /admin/)" if is_admin else "user"
            self.stdout.write(f"Demo {label}: {email} / {password}")
