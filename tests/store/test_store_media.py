"""Store media and avatar uploads through the API, scanned by a real clamd."""

import hashlib
import socket
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from store.models import Profile
from tests.accounts.test_auth_api import assert_error
from tests.processes import free_port, wait_until
from tests.test_uploads import EICAR, mp4_header, png_1x1, stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.services]

MEDIA = "/api/v1/store/submissions/media"
AVATAR = "/api/v1/store/profile/avatar"


def upload(content: bytes, name: str = "shot.png") -> dict:
    return {"file": SimpleUploadedFile(name, content, content_type="image/png")}


def clamd_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"zPING\0")
            return sock.recv(8).startswith(b"PONG")
    except OSError:
        return False


@pytest.fixture
def own_clamd(tmp_path):
    """A clamd of this test's own, with an EICAR signature database like the project's, so that it can be
    stopped without stopping the one the rest of the suite uses."""
    port = free_port()
    database = tmp_path / "db"
    database.mkdir()
    (database / "eicar.hdb").write_text(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n")
    config = tmp_path / "clamd.conf"
    config.write_text(
        f"TCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {database}\n"
        f"LogFile {tmp_path / 'clamd.log'}\nForeground yes\nUser root\n"
    )
    process = subprocess.Popen(["clamd", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: clamd_answers(port), timeout=30, message="our own clamd")
        with override_settings(CLAMD_PORT=port):
            yield process
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_clean_image_is_stored_and_its_url_returned(auth_client, media_root):
    response = auth_client.post(MEDIA, upload(png_1x1()), format="multipart")

    assert response.status_code == 201, response.json()
    body = response.json()
    (stored,) = stored_files(media_root)
    assert stored.parent.name == "media" and stored.parent.parent.name == "store"
    assert stored.read_bytes() == png_1x1()
    assert body == {
        "url": f"http://testserver/media/store/media/{stored.name}",
        "content_type": "image/png",
        "size": len(png_1x1()),
    }
    assert stored.name != "shot.png"


def test_a_video_is_accepted_for_store_media(auth_client, media_root):
    response = auth_client.post(MEDIA, upload(mp4_header(), "demo.mp4"), format="multipart")

    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == "video/mp4"


def test_the_eicar_test_file_is_refused_naming_the_signature_and_never_stored(auth_client, media_root):
    response = auth_client.post(MEDIA, upload(EICAR, "innocent.png"), format="multipart")

    body = assert_error(response, 400, code="infected_file", field="file")
    assert "Eicar-Test-Signature" in body["message"]
    assert stored_files(media_root) == []


def test_with_clamd_stopped_uploads_are_refused_with_503_and_nothing_is_stored(
    auth_client,
    media_root,
    own_clamd,
):
    assert auth_client.post(MEDIA, upload(png_1x1()), format="multipart").status_code == 201
    before = stored_files(media_root)

    own_clamd.kill()
    own_clamd.wait(timeout=10)
    response = auth_client.post(MEDIA, upload(png_1x1()), format="multipart")

    assert_error(response, 503, code="scanner_unavailable")
    assert stored_files(media_root) == before
    avatar = auth_client.post(AVATAR, upload(png_1x1()), format="multipart")
    assert_error(avatar, 503, code="scanner_unavailable")
    assert not Profile.objects.filter(avatar_url__gt="").exists()


def test_an_avatar_upload_sets_the_profile_picture(auth_client, media_root):
    response = auth_client.post(AVATAR, upload(png_1x1(), "me.png"), format="multipart")

    assert response.status_code == 200, response.json()
    (stored,) = stored_files(media_root)
    assert response.json()["avatar_url"] == f"http://testserver/media/store/avatars/{stored.name}"
    assert auth_client.get("/api/v1/store/profile").json()["avatar_url"] == response.json()["avatar_url"]


def test_an_avatar_must_be_an_image(auth_client, media_root):
    response = auth_client.post(AVATAR, upload(mp4_header(), "me.mp4"), format="multipart")

    assert_error(response, 400, code="unsupported_file_type", field="file")
    assert stored_files(media_root) == []


def test_an_oversized_upload_is_refused_with_413(auth_client, media_root):
    with override_settings(UPLOAD_MAX_BYTES=100):
        response = auth_client.post(MEDIA, upload(png_1x1() + b"\0" * 200), format="multipart")

    assert_error(response, 413, code="file_too_large", field="file")
    assert stored_files(media_root) == []


def test_an_upload_without_a_file_names_the_field(auth_client, media_root, api_client):
    assert_error(auth_client.post(MEDIA, {}, format="multipart"), 400, field="file")
    assert_error(api_client.post(MEDIA, upload(png_1x1()), format="multipart"), 401)
    assert stored_files(media_root) == []
