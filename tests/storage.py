"""File storage settings for tests."""

from pathlib import Path


def local_storages(root: Path, backend: str = "django.core.files.storage.FileSystemStorage") -> dict:
    return {
        "default": {"BACKEND": backend, "OPTIONS": {"location": str(root), "base_url": "/media/"}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
