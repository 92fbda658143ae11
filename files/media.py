"""Files as blocks see them: AutoGPT's MediaFileType values, read and stored for the running user.

A block's file pin may hold
- a reference to one of the user's stored files: `workspace://<id>` (what file blocks output), or
  the file's API path or URL (files/references.py);
- a data URI (`data:<type>;base64,...`);
- an http(s) URL, fetched through the SSRF-safe client.
Anything else (a local path, file://, another user's file, an expired one) is refused: a block
reads only the running user's files and never the server's file system. Whatever is fetched or
decoded is checked against FILE_UPLOAD_MAX_BYTES and virus-scanned before it is stored.
"""

import base64
import binascii
import mimetypes
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from autogpt_platform import safe_http
from autogpt_platform.errors import ApplicationError

from .models import UserFile
from .references import file_reference, referenced_file_id
from .selectors import file_get_for_user, file_read
from .services import DEFAULT_CONTENT_TYPE, content_type_for, file_display_name, file_store_content

_DATA_URI = re.compile(r"data:(?P<header>[^,]*),(?P<data>.*)", re.DOTALL)


class MediaError(ApplicationError):
    """A file value a block cannot use; the message is meant for the user."""

    code = "invalid_file"


@dataclass
class MediaContent:
    name: str
    content_type: str
    content: bytes
    # The stored file this came from, when it was one of the user's files.
    user_file: UserFile | None = None


def _too_large(size: int, max_bytes: int) -> MediaError:
    return MediaError(f"The file is {size} bytes; at most {max_bytes} bytes can be used here.")


def _from_data_uri(value: str, max_bytes: int) -> MediaContent:
    match = _DATA_URI.fullmatch(value.strip())
    if not match:
        raise MediaError("Invalid data URI; expected data:<type>;base64,<data>.")
    header, data = match["header"], match["data"]
    parts = [part.strip() for part in header.split(";")]
    content_type = parts[0].lower() or "text/plain"
    if "base64" in (part.lower() for part in parts[1:]):
        if len(data) * 3 // 4 > max_bytes + 3:
            raise _too_large(len(data) * 3 // 4, max_bytes)
        try:
            content = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MediaError(f"Invalid base64 in the data URI: {exc}") from exc
    else:
        content = urllib.parse.unquote_to_bytes(data)
    if len(content) > max_bytes:
        raise _too_large(len(content), max_bytes)
    extension = ".txt" if content_type == "text/plain" else mimetypes.guess_extension(content_type, strict=False)
    return MediaContent(name=f"file{extension or ''}", content_type=content_type, content=content)


def _from_url(url: str, max_bytes: int) -> MediaContent:
    try:
        response = safe_http.get(url, max_bytes=max_bytes)
    except safe_http.ResponseTooLargeError as exc:
        raise MediaError(f"The file at {url} is larger than {max_bytes} bytes.") from exc
    except safe_http.SafeHttpError as exc:
        raise MediaError(str(exc)) from exc
    if not response.ok:
        raise MediaError(f"Fetching {url} answered {response.status} {response.reason}.")
    name = file_display_name(urllib.parse.unquote(urllib.parse.urlsplit(response.url).path))
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return MediaContent(name=name, content_type=content_type or content_type_for(name), content=response.content)


def media_load(*, user_id: Any, value: str, max_bytes: int | None = None) -> MediaContent:
    """The content value names, for the running user; raises MediaError (or NotFoundError for a
    file that is not theirs) when it cannot be used."""
    max_bytes = settings.FILE_UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    if not isinstance(value, str) or not value.strip():
        raise MediaError("No file was given.")
    value = value.strip()
    if (file_id := referenced_file_id(value)) is not None:
        user_file = file_get_for_user(user_id=user_id, file_id=file_id)
        if user_file.size > max_bytes:
            raise _too_large(user_file.size, max_bytes)
        return MediaContent(user_file.name, user_file.content_type, file_read(user_file=user_file), user_file)
    if value.lower().startswith("data:"):
        return _from_data_uri(value, max_bytes)
    if urllib.parse.urlsplit(value).scheme.lower() in ("http", "https"):
        return _from_url(value, max_bytes)
    raise MediaError(
        "Not a file this block can read: give a file reference (workspace://...), a data URI or an "
        "http(s) URL. Paths on the server are not readable."
    )


def data_uri(content: bytes, content_type: str) -> str:
    return f"data:{content_type or DEFAULT_CONTENT_TYPE};base64,{base64.b64encode(content).decode()}"


def media_store(*, user_id: Any, value: str, graph_exec_id: Any = None, return_content: bool = False) -> str:
    """Store what value names as one of the user's files (a file they already have stays as it
    is) and return its reference, or a data URI of its content with return_content."""
    media = media_load(user_id=user_id, value=value)
    if return_content:
        return data_uri(media.content, media.content_type)
    user_file = media.user_file or file_store_content(
        user_id=user_id,
        content=media.content,
        name=media.name,
        content_type=media.content_type,
        graph_exec_id=graph_exec_id,
    )
    return file_reference(user_file.id)
