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
