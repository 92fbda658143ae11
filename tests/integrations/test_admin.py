"""Operators see credentials in the Django admin, never their secrets."""

import pytest
from django.test import Client

from integrations.services import credential_create

pytestmark = pytest.mark.django_db


def test_the_admin_lists_and_shows_credentials_without_the_secret(admin_user, user):
    credential = credential_create(
        user=user, provider="openai", type="api_key", title="Ops key", api_key="sk-admin-never-sees"
    )
    client = Client()
    client.force_login(admin_user)

    listed = client.get("/admin/integrations/credential/")
    shown = client.get(f"/admin/integrations/credential/{credential.id}/change/")

    assert listed.status_code == 200 and shown.status_code == 200
    assert b"Ops key" in listed.content and b"Ops key" in shown.content
    for page in (listed.content, shown.content):
        assert b"sk-admin-never-sees" not in page
        assert credential.secrets_encrypted.encode() not in page
    assert client.get("/admin/integrations/credential/add/").status_code == 403
