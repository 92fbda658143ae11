"""The one way a file a user uploads gets stored: store submission media, profile avatars, and
every upload added later go through `upload_store()`.

In this order, and nothing is written to storage unless every step passes:
1. Size: empty files and files over UPLOAD_MAX_BYTES are refused.
2. Virus scan: the whole file is streamed to clamd (INSTREAM) whatever its type. A file clamd finds
   a signature in is refused (400). When clamd is unreachable, slow or answers with an error the
   upload is refused (503): an unscanned file is never stored.
3. Type, by content: the leading bytes must be one of the types the caller's UploadKind accepts.
   The file name and the client's Content-Type are ignored, and so is anything that can carry
   script when served (SVG, HTML).
4. Storage: through Django's default storage (local files, or S3 when configured), under a random
   name whose extension and content type come from the detected type.

Users' own files (the files app: agent inputs and outputs of any type) go through
`private_upload_store()`: the same size check and scan, no type check, and a storage that is
never served publicly.
"""

import enum
import hashlib
import logging
import socket
import uuid
from dataclasses import dataclass

import clamd
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.core.files.uploadedfile import UploadedFile
from rest_framework import status

from .errors import FieldError, ServiceUnavailableError

logger = logging.getLogger(__name__)

# Enough leading bytes to recognise every accepted type (a WebM EBML header is < 64 bytes).
_HEAD_BYTES = 64


@dataclass(frozen=True)
class StoredUpload:
    """A scanned file in storage. `name` is what a model keeps; `url` is where clients fetch it."""

    name: str
    url: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extension: str


PNG = FileType("PNG", "image/png", ".png")
JPEG = FileType("JPEG", "image/jpeg", ".jpg")
GIF = FileType("GIF", "image/gif", ".gif")
WEBP = FileType("WebP", "image/webp", ".webp")
MP4 = FileType("MP4", "video/mp4", ".mp4")
WEBM = FileType("WebM", "video/webm", ".webm")


class UploadKind(enum.Enum):
    """What a caller accepts. Anything else (SVG, HTML, other video containers) is refused."""

    IMAGE = (PNG, JPEG, GIF, WEBP)
    MEDIA = (PNG, JPEG, GIF, WEBP, MP4, WEBM)

    @property
    def file_types(self) -> tuple[FileType, ...]:
        return self.value


class FileTooLargeError(FieldError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "file_too_large"


class EmptyFileError(FieldError):
    code = "empty_file"


class InfectedFileError(FieldError):
    code = "infected_file"


class UnsupportedFileTypeError(FieldError):
    code = "unsupported_file_type"


class ScannerUnavailableError(ServiceUnavailableError):
    code = "scanner_unavailable"

    def __init__(self) -> None:
        super().__init__("Uploads are refused while the virus scanner is unavailable. Try again later.")


# ftyp major brands of MP4 proper; QuickTime (qt), 3GP, HEIC and AVIF share the box but not these.
_MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash"})
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_WEBM_DOCTYPE = b"\x42\x82\x84webm"  # EBML DocType element, 4 bytes long, "webm" (Matroska says "matroska")


def _detect_type(head: bytes) -> FileType | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        return MP4
    if head.startswith(_EBML_MAGIC) and _WEBM_DOCTYPE in head:
        return WEBM
    return None


class _WholeSendSocket(socket.socket):
    """clamd 1.0.2 frames INSTREAM chunks with send(), which may send only part of a chunk and so
    break the framing; sendall() sends all of it or raises."""

    def send(self, data, flags: int = 0) -> int:
        self.sendall(data, flags)
        return len(data)


class ClamdClient(clamd.ClamdNetworkSocket):
    """clamd 1.0.2 applies its timeout only after connecting: a clamd host that drops connection
    attempts would hold an upload for minutes. Here the timeout bounds the connect too."""

    def _init_socket(self) -> None:
        self.clamd_socket = _WholeSendSocket(socket.AF_INET, socket.SOCK_STREAM)
        self.clamd_socket.settimeout(self.timeout)
        try:
            self.clamd_socket.connect((self.host, self.port))
        except OSError as exc:
            self.clamd_socket.close()
            raise clamd.ConnectionError(self._error_message(exc)) from exc


def _scan(*, file: File, field: str) -> None:
    """Streams the file to clamd; returns only when clamd answered that it is clean."""
    scanner = ClamdClient(settings.CLAMD_HOST, settings.CLAMD_PORT, timeout=settings.CLAMD_TIMEOUT)
    file.seek(0)
    try:
        result = scanner.instream(file)
    except (clamd.ClamdError, OSError) as exc:  # OSError: a send that timed out or was reset
        logger.warning("clamd at %s:%s unavailable: %s", settings.CLAMD_HOST, settings.CLAMD_PORT, exc)
        raise ScannerUnavailableError() from exc
    verdict, signature = (result or {}).get("stream", (None, None))
    if verdict == "OK":
        return
    if verdict == "FOUND":
        # Signatures from a database of our own carry ClamAV's ".UNOFFICIAL" marker.
        signature = (signature or "unknown").removesuffix(".UNOFFICIAL")
        logger.warning("Refused an upload to %s: clamd found %s", field, signature)
        raise InfectedFileError(field, f"The file contains a virus ({signature}) and was refused.")
    logger.warning("clamd could not scan an upload to %s: %r", field, result)
    raise ScannerUnavailableError()


def _sha256(file: File) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():  # chunks() rewinds first
        digest.update(chunk)
    return digest.hexdigest()


def _check_size(*, file: File, field: str, max_bytes: int) -> int:
    size = file.size or 0
    if size > max_bytes:
        raise FileTooLargeError(field, f"The file is {size} bytes; at most {max_bytes} bytes are allowed.")
    if not size:
        raise EmptyFileError(field, "The file is empty.")
    return size


def _save(*, file: File, storage: Storage, name: str, content_type: str) -> str:
    file.seek(0)
    # A plain File wrapper, so that storage sees the content type given here and never the
    # client's (S3Storage would store the client's Content-Type and serve the file with it).
    content = File(file, name=file.name)
    content.content_type = content_type  # type: ignore[attr-defined]  # read by S3Storage
    return storage.save(name, content)


def upload_store(*, file: UploadedFile, field: str, folder: str, kind: UploadKind) -> StoredUpload:
    """Checks, scans and stores one uploaded file; raises an ApplicationError naming `field` when
    it is refused, and leaves nothing in storage then.

    `folder` is a fixed storage prefix chosen by the caller ("avatars", "store/media"), never user
    input. The stored name is random, so that no client-chosen name reaches storage.
    """
    size = _check_size(file=file, field=field, max_bytes=settings.UPLOAD_MAX_BYTES)

    _scan(file=file, field=field)

    file.seek(0)
    file_type = _detect_type(file.read(_HEAD_BYTES))
    if file_type not in kind.file_types:
        accepted = ", ".join(accepted_type.label for accepted_type in kind.file_types)
        raise UnsupportedFileTypeError(field, f"Unsupported file type; accepted: {accepted}.")

    sha256 = _sha256(file)
    name = _save(
        file=file,
        storage=default_storage,
        name=f"{folder}/{uuid.uuid4().hex}{file_type.extension}",
        content_type=file_type.content_type,
    )
    return StoredUpload(
        name=name,
        url=default_storage.url(name),
        content_type=file_type.content_type,
        size=size,
        sha256=sha256,
    )


def private_upload_store(
    *, file: File, field: str, folder: str, extension: str, content_type: str, max_bytes: int, storage: Storage
) -> StoredUpload:
    """Checks, scans and stores a file of any type in a storage that is never served as it is
    (users' own files, fetched through an endpoint that checks who asks). Size and the virus scan
    as upload_store(); the type is not checked, since these files are only ever sent back as
    attachments. `folder` and `extension` come from the caller, never from the client as they are.
    `url` is empty: the storage has no public URL."""
    size = _check_size(file=file, field=field, max_bytes=max_bytes)
    _scan(file=file, field=field)
    sha256 = _sha256(file)
    name = _save(file=file, storage=storage, name=f"{folder}/{uuid.uuid4().hex}{extension}", content_type=content_type)
    return StoredUpload(name=name, url="", content_type=content_type, size=size, sha256=sha256)
