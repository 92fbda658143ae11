"""Users' files through the API: upload scanned by a real clamd (fail closed), download by the owner
only, list, delete, and expiry by the beat task."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from files.models import FileOrigin, UserFile
from files.tasks import delete_expired_files
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for
from tests.files.storage import stored_user_files
from tests.store.test_store_media import own_clamd  # noqa: F401 - a fixture
from tests.test_uploads import EICAR

pytestmark = [pytest.mark.django_db, pytest.mark.services]

UPLOAD = "/api/v1/files/upload"
CSV = b"name,age\nAda,36\nBob,40\n"


def upload(client, content: bytes = CSV, name: str = "people.csv"):
    return client.post(
        UPLOAD, {"file": SimpleUploadedFile(name, content, content_type="text/plain")}, format="multipart"
    )


def test_an_upload_is_stored_under_a_random_name_in_the_owners_folder(auth_client, user, files_root):
    response = upload(auth_client)

    assert response.status_code == 201, response.json()
    body = response.json()
    (stored,) = stored_user_files(files_root)
    assert stored.read_bytes() == CSV
    assert stored.parent == files_root / "files" / str(user.id)
    assert stored.name != "people.csv" and stored.suffix == ".csv"
    assert body["name"] == "people.csv"
    assert body["content_type"] == "text/csv"
    assert body["size"] == len(CSV)
    assert body["reference"] == f"workspace://{body['id']}"
    assert body["url"] == f"http://testserver/api/v1/files/{body['id']}"
    assert body["origin"] == FileOrigin.UPLOAD
    expires_at = UserFile.objects.get(id=body["id"]).expires_at
    assert timedelta(hours=47.9) < expires_at - timezone.now() <= timedelta(hours=48)


def test_the_owner_downloads_it_as_an_attachment(auth_client, files_root):
    file_id = upload(auth_client).json()["id"]

    response = auth_client.get(f"/api/v1/files/{file_id}")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CSV
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="people.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_another_users_file_is_a_404_to_read_and_to_delete(auth_client, other_user, files_root):
    file_id = upload(auth_client).json()["id"]
    other = client_for(other_user)

    assert_error(other.get(f"/api/v1/files/{file_id}"), 404, code="not_found")
    assert_error(other.delete(f"/api/v1/files/{file_id}"), 404, code="not_found")
    assert other.get("/api/v1/files").json()["count"] == 0
    assert auth_client.get(f"/api/v1/files/{file_id}").status_code == 200


def test_files_are_listed_newest_first_in_pages(auth_client, files_root):
    first = upload(auth_client, name="a.txt").json()
    second = upload(auth_client, name="b.txt").json()

    page = auth_client.get("/api/v1/files?page_size=1").json()

    assert page["count"] == 2
    assert [item["id"] for item in page["results"]] == [second["id"]]
    assert auth_client.get("/api/v1/files?page=2&page_size=1").json()["results"][0]["id"] == first["id"]
    assert_error(auth_client.get("/api/v1/files?page_size=x"), 400, field="page_size")


def test_delete_removes_the_row_and_the_content(auth_client, files_root, django_capture_on_commit_callbacks):
    file_id = upload(auth_client).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(f"/api/v1/files/{file_id}")

    assert response.status_code == 204
    assert stored_user_files(files_root) == []
    assert_error(auth_client.get(f"/api/v1/files/{file_id}"), 404)


def test_the_eicar_test_file_is_refused_naming_the_signature_and_never_stored(auth_client, files_root):
    response = upload(auth_client, EICAR, "notes.txt")

    body = assert_error(response, 400, code="infected_file", field="file")
    assert "Eicar-Test-Signature" in body["message"]
    assert stored_user_files(files_root) == []
    assert not UserFile.objects.exists()


def test_a_file_over_the_limit_is_refused_with_413(auth_client, files_root):
    with override_settings(FILE_UPLOAD_MAX_BYTES=10):
        response = upload(auth_client, b"x" * 11)

    assert_error(response, 413, code="file_too_large", field="file")
    assert stored_user_files(files_root) == []


def test_an_empty_file_and_a_missing_one_are_400s(auth_client, files_root):
    assert_error(upload(auth_client, b""), 400, field="file")
    assert_error(auth_client.post(UPLOAD, {}, format="multipart"), 400, field="file")


def test_with_clamd_stopped_uploads_are_refused_with_503_and_nothing_is_stored(
    auth_client,
    files_root,
    own_clamd,  # noqa: F811
):
    assert upload(auth_client).status_code == 201
    before = stored_user_files(files_root)

    own_clamd.kill()
    own_clamd.wait(timeout=10)
    response = upload(auth_client, name="second.csv")

    assert_error(response, 503, code="scanner_unavailable")
    assert stored_user_files(files_root) == before
    assert UserFile.objects.count() == 1


def test_an_api_key_needs_execute_graph_to_upload(user, files_root):
    _, key = api_key_create(user=user, name="reader", scopes=["read_graph"])
    reader = APIClient()
    reader.credentials(HTTP_X_API_KEY=key)

    assert_error(upload(reader), 403)
    assert reader.get("/api/v1/files").status_code == 200


def test_expired_files_are_hidden_then_deleted_with_their_content(
    auth_client, files_root, django_capture_on_commit_callbacks
):
    kept = upload(auth_client, name="kept.csv").json()
    expired = upload(auth_client, name="old.csv").json()
    UserFile.objects.filter(id=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_error(auth_client.get(f"/api/v1/files/{expired['id']}"), 404)
    assert [item["id"] for item in auth_client.get("/api/v1/files").json()["results"]] == [kept["id"]]

    with django_capture_on_commit_callbacks(execute=True):
        assert delete_expired_files() == 1

    assert list(UserFile.objects.values_list("id", flat=True)) == [UserFile.objects.get(id=kept["id"]).id]
    (remaining,) = stored_user_files(files_root)
    assert remaining.read_bytes() == CSV
    assert Path(remaining).suffix == ".csv"


def test_file_retention_is_configurable(auth_client, files_root):
    with override_settings(FILE_RETENTION_HOURS=1):
        body = upload(auth_client).json()

    expires_at = UserFile.objects.get(id=body["id"]).expires_at
    assert timedelta(minutes=59) < expires_at - timezone.now() <= timedelta(hours=1)
