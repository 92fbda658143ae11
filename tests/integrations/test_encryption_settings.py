"""ENCRYPTION_KEYS at start-up, each case in a process of its own: prod refuses to start without a
valid key; dev (`make run`) generates one into VAR_DIR/encryption_keys once and keeps using it."""

import os
import stat
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.processes import ROOT

SHOW_KEYS = "import django; django.setup(); from django.conf import settings; print(','.join(settings.ENCRYPTION_KEYS))"
ENCRYPT = (
    "import django; django.setup(); from autogpt_platform.encryption import encrypt_text; print(encrypt_text('kept'))"
)
DECRYPT = (
    "import sys, django; django.setup(); from autogpt_platform.encryption import decrypt_text; "
    "print(decrypt_text(sys.argv[1]))"
)


# Prod refuses a trivial SECRET_KEY (tests/platform/test_secret_keys.py).
PROD_SECRET_KEY = "k3Jx9vQ2-prod-like-random-secret-key-for-tests-7Zp4Lm8Rt1Wc6Yb0"


def run(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "ENCRYPTION_KEYS"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def prod(code: str = SHOW_KEYS, **env: str) -> subprocess.CompletedProcess:
    return run(code, DJANGO_SETTINGS_MODULE="autogpt_platform.settings.prod", SECRET_KEY=PROD_SECRET_KEY, **env)


class TestProd:
    def test_refuses_to_start_without_encryption_keys(self):
        result = prod()

        assert result.returncode != 0
        assert "ImproperlyConfigured: ENCRYPTION_KEYS is required" in result.stderr

    @pytest.mark.parametrize("keys", ["not-a-fernet-key-at-all", f"{Fernet.generate_key().decode()},c2hvcnQ="])
    def test_refuses_to_start_with_a_key_that_is_not_a_fernet_key_without_printing_it(self, keys):
        result = prod(ENCRYPTION_KEYS=keys)

        assert result.returncode != 0
        assert "ImproperlyConfigured: ENCRYPTION_KEYS: key" in result.stderr
        assert "not-a-fernet-key-at-all" not in result.stderr and "c2hvcnQ=" not in result.stderr

    def test_starts_with_valid_keys_first_one_first(self):
        first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()

        result = prod(ENCRYPTION_KEYS=f" {first} , {second}")

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"{first},{second}"


class TestDev:
    def test_generates_a_key_into_var_once_and_keeps_using_it(self, tmp_path):
        var = tmp_path / "var"
        dev = {"DJANGO_SETTINGS_MODULE": "autogpt_platform.settings.dev", "VAR_DIR": str(var)}

        first = run(ENCRYPT, **dev)
        assert first.returncode == 0, first.stderr
        key_file = var / "encryption_keys"
        [key] = key_file.read_text().split()
        Fernet(key)  # a real Fernet key
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        second = run(DECRYPT, first.stdout.strip(), **dev)

        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == "kept"
        assert key_file.read_text().split() == [key]
        assert run(SHOW_KEYS, **dev).stdout.strip() == key

    def test_encryption_keys_from_the_environment_win_and_nothing_is_generated(self, tmp_path):
        key = Fernet.generate_key().decode()

        result = run(
            SHOW_KEYS,
            DJANGO_SETTINGS_MODULE="autogpt_platform.settings.dev",
            VAR_DIR=str(tmp_path),
            ENCRYPTION_KEYS=key,
        )

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == key
        assert not (tmp_path / "encryption_keys").exists()
