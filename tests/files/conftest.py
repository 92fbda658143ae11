import pytest
from django.test import override_settings

from tests.storage import local_storages


@pytest.fixture
def files_root(tmp_path):
    """The users' files storage in a fresh directory."""
    root = tmp_path / "user_files"
    root.mkdir()
    storages = {
        **local_storages(tmp_path / "media"),
        "user_files": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    with override_settings(STORAGES=storages):
        yield root
