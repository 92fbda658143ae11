import pytest
from rest_framework.test import APIClient

from autogpt_platform.queues import CeleryQueue
from tests import processes
from tests.factories import UserFactory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


def client_for(user) -> APIClient:
    """An API client authenticated with a real JWT access token for user."""
    from rest_framework_simplejwt.tokens import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture(scope="session")
def live_worker(django_db_setup, django_db_blocker):
    """One real Celery worker process consuming every queue, on the real broker and test database."""
    worker = processes.celery_worker("all", [queue.value for queue in CeleryQueue])
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
    from django.db import connection

    if not connection.settings_dict["NAME"].startswith("test_"):
        return  # no test of this session used the database, so pytest-django created none
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
