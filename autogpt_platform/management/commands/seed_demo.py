import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from agents.autogpt_format import graph_from_export
from agents.blocks.llm import AITextGeneratorBlock
from agents.services import graph_create
from integrations.llm.local_model import llm_default_model
from store.services import submission_create, submission_review

EXAMPLE_AGENTS = Path(settings.BASE_DIR) / "agents" / "examples"
STORE_EXAMPLE = "Calculator agent"


class Command(BaseCommand):
    help = (
        "Create the demo user (with the example agents, the calculator published in the store) and the demo admin, "
        "idempotently, and print their credentials."
    )

    def handle(self, *args, **options):
        accounts = [
            (settings.DEMO_USER_EMAIL, settings.DEMO_USER_PASSWORD, False),
            (settings.DEMO_ADMIN_EMAIL, settings.DEMO_ADMIN_PASSWORD, True),
        ]
        users = {}
        for email, password, is_admin in accounts:
            user = User.objects.filter(email=email).first()
            if user is None:
                create = User.objects.create_superuser if is_admin else User.objects.create_user
                user = create(email=email, password=password, name="Demo admin" if is_admin else "Demo user")
            if not is_admin:
                self._seed_examples(user)
            users[is_admin] = user
            label = "admin (Django admin at /admin/)" if is_admin else "user"
            self.stdout.write(f"Demo {label}: {email} / {password}")
        self._publish_first_example(demo=users[False], admin=users[True])

    def _seed_examples(self, user: User) -> None:
        """Each example agent the demo user has none of by name (so that a new example reaches an
        existing demo user). LLM nodes get the model of the moment: the embedded model when no
        provider key is set, else that provider's default; a graph keeps it once seeded."""
        names = set(user.graphs.values_list("versions__name", flat=True))
        model = llm_default_model()
        for example in sorted(EXAMPLE_AGENTS.glob("*.json")):
            data = json.loads(example.read_text())
            if data["name"] in names:
                continue
            for node in data["nodes"]:
                if node["block_id"] == AITextGeneratorBlock.id:
                    node["input_default"]["model"] = model
            graph_create(user=user, **graph_from_export(data))

    def _publish_first_example(self, *, demo: User, admin: User) -> None:
        """So that the store has an agent to browse and add."""
        graph = demo.graphs.filter(versions__name=STORE_EXAMPLE).order_by("created_at").first()
        if graph is None or hasattr(graph, "store_listing"):
            return
        version = graph.versions.get(version=graph.active_version)
        submission = submission_create(
            user=demo,
            graph_id=graph.id,
            graph_version=version.version,
            slug="calculator",
            name=version.name,
            sub_heading="An example agent",
            description=version.description,
            categories=["example"],
        )
        submission_review(reviewer=admin, version_id=submission.id, is_approved=True, comments="Seeded demo agent.")
