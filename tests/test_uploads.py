"""autogpt_platform.uploads against the real clamd on 127.0.0.1:3310: size, virus scan, type by
content, storage; and nothing in storage whenever an upload is refused."""

import hashlib
import json
import os
import re
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings

from autogpt_platform.exceptions import api_exception_handler
from autogpt_platform.uploads import (
    EmptyFileError,
    FileTooLargeError,
    InfectedFileError,
    ScannerUnavailableError,
    StoredUpload,
    UnsupportedFileTypeError,
    UploadKind,
    upload_store,
)
from tests.storage import local_storages

ROOT = Path(__file__).resolve().parent.parent
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
IMAGE_TYPES_MESSAGE = "Unsupported file type; accepted: PNG, JPEG, GIF, WebP."
MEDIA_TYPES_MESSAGE = "Unsupported file type; accepted: PNG, JPEG, GIF, WebP, MP4, WebM."
SCANNER_UNAVAILABLE = {
    "code": "scanner_unavailable",
    "message": "Uploads are refused while the virus scanner is unavailable. Try again later.",
    "details": {},
}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_1x1() -> bytes:
    """A valid 1x1 black PNG: signature, IHDR (8-bit greyscale), IDAT, IEND."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + _png_chunk(b"IEND", b"")
    )


def _mp4_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_header(brand: bytes = b"isom") -> bytes:
    ftyp = _mp4_box(b"ftyp", brand + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    return ftyp + _mp4_box(b"free", b"") + _mp4_box(b"mdat", b"\x00" * 16)


def ebml_header(doctype: bytes) -> bytes:
    """The EBML header a WebM or Matroska file starts with, then an empty Segment of unknown size."""
    body = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        + b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        + b"\x42\xf2\x81\x04"  # EBMLMaxIDLength 4
        + b"\x42\xf3\x81\x08"  # EBMLMaxSizeLength 8
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
        + b"\x42\x87\x81\x04"  # DocTypeVersion 4
        + b"\x42\x85\x81\x02"  # DocTypeReadVersion 2
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff"


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
# The classic transparent 1x1 GIF.
GIF_BYTES = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
# A lossless 1x1 WebP.
WEBP_BYTES = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


def upload(content: bytes, name: str = "cat.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


class _SilentHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.release.wait()


@pytest.fixture
def silent_clamd_port():
    """A TCP server on 127.0.0.1 that accepts connections and never answers: a hung clamd."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SilentHandler)
    server.daemon_threads = True
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def unaccepting_clamd_port():
    """A listening port whose accept queue is full: connection attempts get no answer at all."""
    server = socket.create_server(("127.0.0.1", 0), backlog=0)
    # At backlog 0 Linux queues one connection; after that it drops SYNs and connect() waits.
    filler = socket.create_connection(server.getsockname())
    yield server.getsockname()[1]
    filler.close()
    server.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Stored ------------------------------------------------------------------------------------


@pytest.mark.services
def test_a_clean_png_is_stored_under_a_random_name_in_the_folder(media_root):
    content = png_1x1()

    stored = upload_store(file=upload(content), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert re.fullmatch(r"avatars/[0-9a-f]{32}\.png", stored.name)  # a uuid4, not the client's "cat"
    assert stored == StoredUpload(
        name=stored.name,
        url=f"/media/{stored.name}",
        content_type="image/png",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    assert stored_files(media_root) == [media_root / stored.name]
    assert (media_root / stored.name).read_bytes() == content


@pytest.mark.services
def test_two_uploads_of_the_same_file_get_different_names(media_root):
    first = upload_store(file=upload(png_1x1()), field="avatar", folder="avatars", kind=UploadKind.IMAGE)
    second = upload_store(file=upload(png_1x1()), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert first.name != second.name
    assert first.sha256 == second.sha256
    assert stored_files(media_root) == sorted([media_root / first.name, media_root / second.name])


@pytest.mark.services
@pytest.mark.parametrize(
    "content, content_type, extension",
    [
        (png_1x1(), "image/png", ".png"),
        (JPEG_BYTES, "image/jpeg", ".jpg"),
        (GIF_BYTES, "image/gif", ".gif"),
        (WEBP_BYTES, "image/webp", ".webp"),
        (mp4_header(b"isom"), "video/mp4", ".mp4"),
        (mp4_header(b"mp42"), "video/mp4", ".mp4"),
        (ebml_header(b"webm"), "video/webm", ".webm"),
    ],
    ids=["png", "jpeg", "gif", "webp", "mp4-isom", "mp4-mp42", "webm"],
)
def test_media_accepts_images_and_mp4_and_webm_by_content(media_root, content, content_type, extension):
    # The client's name and Content-Type say PNG whatever the content is: only the content counts.
    stored = upload_store(file=upload(content), field="media", folder="store/media", kind=UploadKind.MEDIA)

    assert stored.content_type == content_type
    assert stored.name.startswith("store/media/")
    assert stored.name.endswith(extension)
    assert (media_root / stored.name).read_bytes() == content


@pytest.mark.services
def test_an_upload_exactly_at_the_limit_is_stored(media_root):
    content = png_1x1()

    with override_settings(UPLOAD_MAX_BYTES=len(content)):
        stored = upload_store(file=upload(content), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert stored.size == len(content)


@pytest.mark.services
def test_a_file_django_spooled_to_disk_is_stored_and_no_temporary_copy_is_left(media_root, tmp_path):
    # Uploads over FILE_UPLOAD_MAX_MEMORY_SIZE reach a view as a TemporaryUploadedFile.
    temp_dir = tmp_path / "upload-tmp"
    temp_dir.mkdir()
    content = png_1x1().ljust(3 * 1024 * 1024, b"\x00")
    with override_settings(FILE_UPLOAD_TEMP_DIR=temp_dir):
        spooled = TemporaryUploadedFile("cat.png", "image/png", len(content), None)
    spooled.write(content)

    stored = upload_store(file=spooled, field="avatar", folder="avatars", kind=UploadKind.IMAGE)
    spooled.close()  # what Django does at the end of the request

    assert (media_root / stored.name).read_bytes() == content
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored_files(media_root) == [media_root / stored.name]
    assert list(temp_dir.iterdir()) == []


class ContentTypeRecordingStorage(FileSystemStorage):
    """Django's FileSystemStorage, remembering the content type each saved file carried: the one
    S3Storage would store and serve the object with."""

    saved_content_types: list[str | None] = []

    def _save(self, name, content):
        self.saved_content_types.append(getattr(content, "content_type", None))
        return super()._save(name, content)


@pytest.mark.services
def test_storage_sees_the_detected_content_type_not_the_clients(tmp_path):
    ContentTypeRecordingStorage.saved_content_types = []
    storages = local_storages(tmp_path, backend=f"{__name__}.ContentTypeRecordingStorage")

    with override_settings(MEDIA_ROOT=tmp_path, STORAGES=storages):
        stored = upload_store(
            file=upload(png_1x1(), name="page.html", content_type="text/html"),
            field="avatar",
            folder="avatars",
            kind=UploadKind.IMAGE,
        )

    assert stored.name.endswith(".png")
    assert ContentTypeRecordingStorage.saved_content_types == ["image/png"]


# --- Refused -----------------------------------------------------------------------------------


@pytest.mark.services
def test_the_eicar_test_file_named_png_is_refused_as_infected(media_root):
    with pytest.raises(InfectedFileError) as refused:
        upload_store(file=upload(EICAR, name="cat.png"), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert refused.value.status_code == 400
    assert refused.value.code == "infected_file"
    assert refused.value.message == "avatar: The file contains a virus (Eicar-Test-Signature) and was refused."
    assert refused.value.details == {"avatar": ["The file contains a virus (Eicar-Test-Signature) and was refused."]}
    assert stored_files(media_root) == []


@pytest.mark.services
def test_the_scan_runs_before_the_type_check(media_root):
    # EICAR is not an image either: being refused as infected shows the scan came first.
    with pytest.raises(InfectedFileError):
        upload_store(file=upload(EICAR, name="eicar.com"), field="media", folder="store", kind=UploadKind.MEDIA)

    assert stored_files(media_root) == []


def test_an_unreachable_scanner_refuses_the_upload_with_503(media_root):
    with override_settings(CLAMD_PORT=free_port()), pytest.raises(ScannerUnavailableError) as refused:
        upload_store(file=upload(png_1x1()), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert refused.value.status_code == 503
    assert (refused.value.code, refused.value.message, refused.value.details) == tuple(SCANNER_UNAVAILABLE.values())
    assert stored_files(media_root) == []


@pytest.mark.parametrize("size", [1024, 10 * 1024 * 1024], ids=["small", "10MiB"])
def test_a_scanner_that_never_answers_refuses_the_upload_with_503_within_the_timeout(
    media_root, silent_clamd_port, size
):
    # A small file waits for a verdict that never comes; 10 MiB fills the socket buffers first.
    content = png_1x1().ljust(size, b"\x00")
    started = time.monotonic()

    with (
        override_settings(CLAMD_PORT=silent_clamd_port, CLAMD_TIMEOUT=0.5),
        pytest.raises(ScannerUnavailableError) as refused,
    ):
        upload_store(file=upload(content), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert time.monotonic() - started < 5
    assert refused.value.status_code == 503
    assert stored_files(media_root) == []


def test_a_scanner_that_accepts_no_connections_refuses_the_upload_within_the_timeout(
    media_root, unaccepting_clamd_port
):
    started = time.monotonic()

    with (
        override_settings(CLAMD_PORT=unaccepting_clamd_port, CLAMD_TIMEOUT=0.5),
        pytest.raises(ScannerUnavailableError),
    ):
        upload_store(file=upload(png_1x1()), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert time.monotonic() - started < 5
    assert stored_files(media_root) == []


@pytest.mark.services
def test_a_scanner_error_refuses_the_upload_with_503(media_root):
    # Past clamd's StreamMaxLength (50M in scripts/ensure_services.sh) clamd answers with an ERROR.
    content = png_1x1().ljust(50 * 1024 * 1024 + 1, b"\x00")

    with override_settings(UPLOAD_MAX_BYTES=len(content)), pytest.raises(ScannerUnavailableError) as refused:
        upload_store(file=upload(content), field="media", folder="store", kind=UploadKind.MEDIA)

    assert refused.value.status_code == 503
    assert stored_files(media_root) == []


def test_a_file_over_the_limit_is_refused_with_413_before_it_is_scanned(media_root):
    content = png_1x1()

    # No clamd on CLAMD_PORT: a 503 would mean the scan was attempted.
    with override_settings(UPLOAD_MAX_BYTES=len(content) - 1, CLAMD_PORT=free_port()):
        with pytest.raises(FileTooLargeError) as refused:
            upload_store(file=upload(content), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    problem = f"The file is {len(content)} bytes; at most {len(content) - 1} bytes are allowed."
    assert (refused.value.status_code, refused.value.code) == (413, "file_too_large")
    assert refused.value.details == {"avatar": [problem]}
    assert stored_files(media_root) == []


def test_the_refusal_renders_in_the_one_error_shape(media_root):
    with override_settings(UPLOAD_MAX_BYTES=10), pytest.raises(FileTooLargeError) as refused:
        upload_store(file=upload(png_1x1()), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    response = api_exception_handler(refused.value, {})

    problem = f"The file is {len(png_1x1())} bytes; at most 10 bytes are allowed."
    assert response.status_code == 413
    assert response.data == {
        "code": "file_too_large",
        "message": f"avatar: {problem}",
        "details": {"avatar": [problem]},
    }


def test_an_empty_file_is_refused_with_400(media_root):
    with override_settings(CLAMD_PORT=free_port()), pytest.raises(EmptyFileError) as refused:
        upload_store(file=upload(b""), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert (refused.value.status_code, refused.value.code) == (400, "empty_file")
    assert refused.value.details == {"avatar": ["The file is empty."]}
    assert stored_files(media_root) == []


@pytest.mark.services
@pytest.mark.parametrize(
    "content",
    [
        b"just some text\n",
        b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
        ebml_header(b"matroska"),
        mp4_header(b"qt  "),
        b"%PDF-1.7\n",
    ],
    ids=["text", "html", "svg", "svg-xml", "matroska", "quicktime", "pdf"],
)
def test_content_that_is_not_an_accepted_type_is_refused_whatever_its_name(media_root, content):
    with pytest.raises(UnsupportedFileTypeError) as refused:
        upload_store(file=upload(content, name="cat.png"), field="media", folder="store", kind=UploadKind.MEDIA)

    assert (refused.value.status_code, refused.value.code) == (400, "unsupported_file_type")
    assert refused.value.message == f"media: {MEDIA_TYPES_MESSAGE}"
    assert refused.value.details == {"media": [MEDIA_TYPES_MESSAGE]}
    assert stored_files(media_root) == []


@pytest.mark.services
@pytest.mark.parametrize("content", [mp4_header(), ebml_header(b"webm")], ids=["mp4", "webm"])
def test_an_image_field_refuses_video(media_root, content):
    with pytest.raises(UnsupportedFileTypeError) as refused:
        upload_store(file=upload(content, name="cat.png"), field="avatar", folder="avatars", kind=UploadKind.IMAGE)

    assert refused.value.details == {"avatar": [IMAGE_TYPES_MESSAGE]}
    assert stored_files(media_root) == []


# --- Settings ----------------------------------------------------------------------------------


def _settings_in_subprocess(env_overrides: dict[str, str]) -> dict:
    """Imports the settings in a fresh interpreter with the given environment, and returns what
    they say about uploads. Nothing talks to S3: the storage is only built and asked for a URL."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MEDIA_S3_", "UPLOAD_MAX"))}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="autogpt_platform.settings.test")
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.files.storage import storages\n"
        "storage = storages['default']\n"
        "print(json.dumps({'STORAGES': settings.STORAGES, 'UPLOAD_MAX_BYTES': settings.UPLOAD_MAX_BYTES,\n"
        "    'storage_class': type(storage).__name__, 'url': storage.url('avatars/a.png')}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout)


def media_storages(configured: dict) -> dict:
    """The storages of media: users' own files have theirs (tests/files/test_file_settings.py)."""
    return {name: storage for name, storage in configured["STORAGES"].items() if name != "user_files"}


def test_without_a_bucket_media_is_stored_on_the_file_system():
    configured = _settings_in_subprocess({})

    assert media_storages(configured) == {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert configured["storage_class"] == "FileSystemStorage"
    assert configured["url"] == "/media/avatars/a.png"
    assert configured["UPLOAD_MAX_BYTES"] == 10 * 1024 * 1024


def test_with_a_bucket_media_is_stored_in_s3():
    configured = _settings_in_subprocess(
        {
            "MEDIA_S3_BUCKET": "autogpt-media",
            "MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "MEDIA_S3_ACCESS_KEY_ID": "minio-access",
            "MEDIA_S3_SECRET_ACCESS_KEY": "minio-secret",
            "MEDIA_S3_REGION": "eu-central-1",
            "MEDIA_S3_CUSTOM_DOMAIN": "media.example.com",
            "UPLOAD_MAX_BYTES": "2048",
        }
    )

    assert media_storages(configured) == {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "autogpt-media",
                "endpoint_url": "http://127.0.0.1:9000",
                "access_key": "minio-access",
                "secret_key": "minio-secret",
                "region_name": "eu-central-1",
                "custom_domain": "media.example.com",
                "querystring_auth": False,
                "file_overwrite": False,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert configured["storage_class"] == "S3Storage"
    assert configured["url"] == "https://media.example.com/avatars/a.png"
    assert configured["UPLOAD_MAX_BYTES"] == 2048


def test_with_only_a_bucket_the_rest_is_left_to_boto3_and_urls_are_unsigned():
    configured = _settings_in_subprocess({"MEDIA_S3_BUCKET": "autogpt-media", "MEDIA_S3_REGION": "eu-central-1"})

    assert configured["STORAGES"]["default"]["OPTIONS"] == {
        "bucket_name": "autogpt-media",
        "endpoint_url": None,
        "access_key": None,
        "secret_key": None,
        "region_name": "eu-central-1",
        "custom_domain": None,
        "querystring_auth": False,
        "file_overwrite": False,
    }
    assert configured["url"] == "https://autogpt-media.s3.amazonaws.com/avatars/a.png"


def test_uploaded_media_is_served_at_media_url_in_debug(tmp_path):
    (tmp_path / "avatars").mkdir()
    (tmp_path / "avatars" / "a.png").write_bytes(png_1x1())
    script = (
        "import django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "response = Client().get('/media/avatars/a.png', HTTP_HOST='localhost')\n"
        "print(response.status_code, response['Content-Type'], b''.join(response.streaming_content).hex())\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "autogpt_platform.settings.test",
        "DEBUG": "true",
        "MEDIA_ROOT": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.split() == ["200", "image/png", png_1x1().hex()]
