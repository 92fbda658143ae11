from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.test import override_settings
from rest_framework.test import APIClient

from autogpt_platform.broker import queues_upgrade
from autogpt_platform.queues import CeleryQueue
from notifications.models import Delivery, DeliveryStatus
from tests import processes
from tests.clients import client_for
from tests.factories import UserFactory
from tests.llm_replies import llm_env
from tests.notifications.stand_ins import StandIns
from tests.stand_ins.integrations import IntegrationStandIns
from tests.stand_ins.llm import LlmStandIn
from tests.storage import local_storages


@pytest.fixture(scope="session", autouse=True)
def broker_quorum_queues():
    """agent_executions is a quorum queue: replace the classic one an older checkout declared in this
    virtual host before anything publishes to it (autogpt_platform/broker.py)."""
    try:
        queues_upgrade(settings.CELERY_BROKER_URL, settings.CELERY_TASK_QUEUES, timeout=3)
    except OSError:
        pass  # no broker: the tests that need one say so


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.fixture
def creator(db):
    return UserFactory(email="ada@example.com")


@pytest.fixture
def creator_client(creator):
    return client_for(creator)


@pytest.fixture
def media_root(tmp_path) -> Path:
    """Default storage in a fresh directory, so that nothing lands in var/."""
    root = tmp_path / "media"
    root.mkdir()
    with override_settings(MEDIA_ROOT=root, MEDIA_URL="/media/", STORAGES=local_storages(root)):
        yield root


@pytest.fixture
def files_root(tmp_path) -> Path:
    """Users' files (the "user_files" storage) in a fresh directory."""
    root = tmp_path / "user_files"
    root.mkdir()
    storages = {
        **local_storages(tmp_path / "media"),
        "user_files": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    with override_settings(STORAGES=storages):
        yield root


@pytest.fixture(scope="session")
def notification_stand_ins():
    """Notifications: a local SMTP server and Slack/DingTalk stand-ins, started before any worker so
    that workers get their addresses in the environment (tests/notifications/stand_ins.py)."""
    stand_ins = StandIns()
    yield stand_ins
    stand_ins.stop()


# Set once the session's worker runs: from then on it consumes every test's deliveries.
_worker_started = False


@pytest.fixture(autouse=True)
def settle_notification_deliveries(request):
    """Runs notify their users after a test's last assertion: the worker sends those deliveries
    while the test database is being flushed, and a TRUNCATE racing them can deadlock. Transactional
    tests wait, at most a few seconds, until no delivery is being sent or about to be: also those
    that do not ask for the worker, which, once a test started it, consumes their deliveries too."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if not (_worker_started and marker and marker.kwargs.get("transaction")):
        return
    in_flight = Delivery.objects.filter(
        Q(status=DeliveryStatus.SENDING) | Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=True)
    )
    try:
        processes.wait_until(lambda: not in_flight.exists(), timeout=5, interval=0.05)
    except TimeoutError:
        pass


@pytest.fixture(scope="session")
def llm_stand_in_server():
    """One LLM stand-in (tests/stand_ins/llm.py) for the session, started before any worker so that
    workers get its address as every provider's host."""
    stand_in = LlmStandIn()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def llm(llm_stand_in_server, settings):
    """The stand-in with nothing scripted, and this process's LLM settings pointing at it."""
    llm_stand_in_server.reset()
    for name, value in llm_env(llm_stand_in_server).items():
        setattr(settings, name, float(value) if name == "LLM_TIMEOUT_SECONDS" else value)
    settings.LLM_MAX_RETRIES = 2
    yield llm_stand_in_server
    llm_stand_in_server.reset()


@pytest.fixture(scope="session")
def integration_stand_ins():
    """The integration blocks' providers, SMTP server and web servers (tests/stand_ins/integrations.py),
    started before any worker so that workers get their addresses."""
    stand_ins = IntegrationStandIns()
    yield stand_ins
    stand_ins.stop()


@pytest.fixture
def providers(integration_stand_ins, settings):
    """The providers' stand-ins with nothing scripted, and this process's settings pointing at them."""
    integration_stand_ins.providers.reset()
    for name, value in integration_stand_ins.env().items():
        if name != "SAFE_HTTP_ALLOWED_HOSTS":
            setattr(settings, name, float(value) if name.endswith("_SECONDS") else value)
    yield integration_stand_ins.providers
    integration_stand_ins.providers.reset()


@pytest.fixture(scope="session")
def live_worker(django_db_setup, django_db_blocker, notification_stand_ins, llm_stand_in_server, integration_stand_ins):
    """One real Celery worker process consuming every queue, on the real broker and test database."""
    integrations = integration_stand_ins.env()
    allowed = ",".join([notification_stand_ins.env["SAFE_HTTP_ALLOWED_HOSTS"], integrations["SAFE_HTTP_ALLOWED_HOSTS"]])
    env = {
        **notification_stand_ins.env,
        **llm_env(llm_stand_in_server),
        **integrations,
        "SAFE_HTTP_ALLOWED_HOSTS": allowed,
    }
    worker = processes.celery_worker("all", [queue.value for queue in CeleryQueue], env=env)
    global _worker_started
    _worker_started = True
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def live_beat(django_db_setup, django_db_blocker):
    beat = processes.celery_beat()
    yield beat
    beat.stop()


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker):
    """A real daphne serving the ASGI application (REST + /ws) on the test database."""
    port = processes.free_port()
    server = processes.daphne(port)
    yield f"127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def close_stray_connections(django_db_setup, django_db_blocker):
    """Connections opened by threads (database_sync_to_async, engines in-process) would keep the
    test database from being dropped at the end."""
    yield
    if not connection.settings_dict["NAME"].startswith("test_"):
        return  # no test of this session used the database, so pytest-django created none
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
