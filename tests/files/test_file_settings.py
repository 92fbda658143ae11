"""Where users' files are kept: a storage of their own, never the public media one."""

from tests.test_uploads import _settings_in_subprocess


def test_by_default_files_are_kept_on_the_file_system_under_files_root(tmp_path):
    configured = _settings_in_subprocess({"FILES_ROOT": str(tmp_path / "files")})

    assert configured["STORAGES"]["user_files"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "files")},
    }
    assert configured["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_with_a_files_bucket_they_are_kept_private_in_s3():
    configured = _settings_in_subprocess({"FILES_S3_BUCKET": "autogpt-files", "MEDIA_S3_REGION": "eu-central-1"})

    options = configured["STORAGES"]["user_files"]["OPTIONS"]
    assert configured["STORAGES"]["user_files"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (options["bucket_name"], options["default_acl"], options["querystring_auth"]) == (
        "autogpt-files",
        "private",
        True,
    )
    assert configured["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
