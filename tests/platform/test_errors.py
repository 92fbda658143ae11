"""One error shape for every 4xx and 5xx, and a failed request leaves nothing written."""

import pytest

from accounts.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.platform.urls_for_errors")]


def test_an_unknown_url_is_a_404_in_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such endpoint: /api/v1/no-such-thing", "details": {}}


def test_a_wrong_method_is_405_in_the_error_shape(auth_client):
    response = auth_client.delete("/api/v1/auth/me")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_an_unexpected_error_is_a_500_in_the_error_shape_and_rolls_back(api_client):
    api_client.raise_request_exception = False

    response = api_client.post("/crash")

    assert response.status_code == 500
    assert response.json() == {"code": "server_error", "message": "Internal server error.", "details": {}}
    assert not User.objects.filter(email="half-written@example.com").exists()


def test_a_domain_error_after_a_write_rolls_the_write_back(api_client):
    response = api_client.post("/conflict")

    assert response.status_code == 409
    assert response.json() == {"code": "conflict", "message": "Something is in the way.", "details": {}}
    assert not User.objects.filter(email="half-written@example.com").exists()
