"""How a file is named across blocks and runs.

A stored file is referenced as `workspace://<file id>` (the scheme AutoGPT's workspace files use),
so that a value on a pin, an execution input or an execution output says which file it is. The
file's own API path (`/api/v1/files/<id>`, also as a full URL under PLATFORM_BASE_URL) is read as
the same reference. Whoever resolves a reference checks that the file belongs to the running user.
"""

import re
import uuid

from django.conf import settings

FILE_REFERENCE_PREFIX = "workspace://"
FILE_API_PATH = "/api/v1/files/{id}"

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# AutoGPT may add "#<mime type>" to a workspace reference; it is ignored here.
_REFERENCE = re.compile(rf"workspace://(?P<id>{_UUID})(?:#[\w.+/-]*)?")
_API_PATH = re.compile(rf"/api/v1/files/(?P<id>{_UUID})/?")


def file_reference(file_id: uuid.UUID | str) -> str:
    return f"{FILE_REFERENCE_PREFIX}{file_id}"


def file_api_path(file_id: uuid.UUID | str) -> str:
    return FILE_API_PATH.format(id=file_id)


def referenced_file_id(value: str) -> uuid.UUID | None:
    """The id of the stored file value names, or None when it names none of ours."""
    value = value.strip()
    if match := _REFERENCE.fullmatch(value):
        return uuid.UUID(match["id"])
    base_url = settings.PLATFORM_BASE_URL
    if base_url and value.startswith(base_url + "/"):
        value = value[len(base_url) :]
    if match := _API_PATH.fullmatch(value):
        return uuid.UUID(match["id"])
    return None


def is_file_reference(value: str) -> bool:
    return value.strip().startswith(FILE_REFERENCE_PREFIX)
