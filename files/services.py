"""Writes of users' files: uploads, files blocks store, deletion and expiry.

Every file goes through autogpt_platform.uploads.private_upload_store (size limit, streamed to
clamd, fail closed) into the "user_files" storage under a random name in the owner's folder.
"""

import functools
import logging
import mimetypes
import re
import unicodedata
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from autogpt_platform.uploads import private_upload_store

from .models import FileOrigin, UserFile
from .selectors import file_get_for_user, user_files_storage

logger = logging.getLogger(__name__)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")
_UNSAFE_NAME_CHARACTERS = re.compile(r'[<>:"/\\|?*]')


def file_display_name(name: str | None, *, fallback: str = "file") -> str:
    """A name to show and to download as: the last path segment, without control characters or
    characters file systems refuse, at most 255 characters (the extension kept)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE_NAME_CHARACTERS.sub("_", name).strip().strip(".")
    if not name:
        return fallback
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[: 254 - len(extension)]}.{extension}" if dot and len(extension) <= 10 else name[:255]
    return name


def content_type_for(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or DEFAULT_CONTENT_TYPE


def _storage_extension(name: str, content_type: str) -> str:
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if _EXTENSION.fullmatch(suffix):
        return suffix.lower()
    return mimetypes.guess_extension(content_type, strict=False) or ".bin"


def _store(
    *,
    user_id: Any,
    file: File,
    field: str,
    name: str,
    content_type: str,
    origin: FileOrigin,
    graph_exec_id: uuid.UUID | str | None = None,
) -> UserFile:
    stored = private_upload_store(
        file=file,
        field=field,
        folder=f"files/{user_id}",
        extension=_storage_extension(name, content_type),
        content_type=content_type,
        max_bytes=settings.FILE_UPLOAD_MAX_BYTES,
        storage=user_files_storage(),
    )
    try:
        user_file = UserFile.objects.create(
            user_id=user_id,
            name=name,
            content_type=content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_name=stored.name,
            origin=origin,
            graph_exec_id=graph_exec_id,
            expires_at=timezone.now() + timedelta(hours=settings.FILE_RETENTION_HOURS),
        )
    except Exception:
        user_files_storage().delete(stored.name)  # no content without a row pointing at it
        raise
    return user_file


def file_upload(*, user: Any, file: File) -> UserFile:
    """Scan and store a file the user uploaded; it expires after FILE_RETENTION_HOURS."""
    name = file_display_name(file.name)
    user_file = _store(
        user_id=user.id,
        file=file,
        field="file",
        name=name,
        content_type=content_type_for(name),
        origin=FileOrigin.UPLOAD,
    )
    logger.info("File %s uploaded by %s (%s bytes)", user_file.id, user.id, user_file.size)
    return user_file


def file_store_content(
    *,
    user_id: Any,
    content: bytes,
    name: str,
    content_type: str | None = None,
    graph_exec_id: uuid.UUID | str | None = None,
    field: str = "file",
) -> UserFile:
    """Scan and store content a block produced or fetched, as a file of the running user."""
    name = file_display_name(name)
    return _store(
        user_id=user_id,
        file=ContentFile(content, name=name),
        field=field,
        name=name,
        content_type=content_type or content_type_for(name),
        origin=FileOrigin.BLOCK,
        graph_exec_id=graph_exec_id,
    )


def _delete_contents(names: list[str]) -> None:
    storage = user_files_storage()
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # storage down: the content stays, orphaned, and is logged
            logger.exception("Could not delete the stored file %s", name)


def file_delete(*, user: Any, file_id: uuid.UUID) -> None:
    """Delete one of the user's files; its content goes once the deletion is committed."""
    user_file = file_get_for_user(user_id=user.id, file_id=file_id)
    name = user_file.storage_name
    user_file.delete()
    transaction.on_commit(lambda: _delete_contents([name]))


def file_delete_expired(*, batch_size: int = 500) -> int:
    """Delete every expired file and its stored content, in batches; returns how many."""
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                UserFile.objects.select_for_update(skip_locked=True)
                .filter(expires_at__lte=timezone.now())
                .values_list("id", "storage_name")[:batch_size]
            )
            if not batch:
                return deleted
            UserFile.objects.filter(id__in=[file_id for file_id, _ in batch]).delete()
            names: list[str] = [name for _, name in batch]
            transaction.on_commit(functools.partial(_delete_contents, names))
        deleted += len(batch)
