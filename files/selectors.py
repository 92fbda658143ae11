"""Reads of users' files. A file is visible to its owner only, and only until it expires."""

import uuid
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db.models import QuerySet
from django.utils import timezone

from autogpt_platform.errors import NotFoundError

from .models import UserFile


def user_files_storage() -> Storage:
    return storages["user_files"]


def file_list_for_user(*, user: Any) -> QuerySet[UserFile]:
    return UserFile.objects.filter(user=user, expires_at__gt=timezone.now())


def file_get_for_user(*, user_id: Any, file_id: uuid.UUID | str) -> UserFile:
    """The user's file; another user's, an expired or an unknown one is the same NotFoundError."""
    user_file = UserFile.objects.filter(id=file_id, user_id=user_id, expires_at__gt=timezone.now()).first()
    if user_file is None:
        raise NotFoundError("No such file.")
    return user_file


def file_open(*, user_file: UserFile) -> File:
    return user_files_storage().open(user_file.storage_name, "rb")


def file_read(*, user_file: UserFile) -> bytes:
    with file_open(user_file=user_file) as handle:
        return handle.read()
