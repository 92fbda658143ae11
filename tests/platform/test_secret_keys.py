"""SECRET_KEY and the JWT signing key at start-up, each case in a process of its own: dev (`make
run`) makes a random key into VAR_DIR/secret_key once and keeps using it, so that nobody who reads
the code can sign a token for a dev instance; prod refuses to start without a key, with the key the
code once defaulted to, or with a trivial one."""

import json
import os
import secrets
import stat
import subprocess
import sys
import time
import uuid

import jwt
import pytest
from cryptography.fernet import Fernet

from tests.processes import ROOT

# The SECRET_KEY that settings/base.py defaulted to: anyone could read it and sign tokens with it.
FORMER_DEFAULT = "dev-insecure-change-me-0123456789abcdef0123456789abcdef"

SHOW_KEYS = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({'secret_key': settings.SECRET_KEY, 'signing_key': settings.SIMPLE_JWT['SIGNING_KEY']}))"
)
# Is a token signed with argv[1] accepted as an access token by this instance?
CHECK_TOKEN = (
    "import sys, django; django.setup(); from rest_framework.exceptions import AuthenticationFailed; "
    "from accounts.authentication import validated_access_token\n"
    "try:\n    validated_access_token(sys.argv[1]); print('accepted')\n"
    "except AuthenticationFailed:\n    print('refused')"
)


def run(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "JWT_SIGNING_KEY", "VAR_DIR"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def dev(var, code: str = SHOW_KEYS, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run(code, *args, DJANGO_SETTINGS_MODULE="autogpt_platform.settings.dev", VAR_DIR=str(var), **env)


def keys_of(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def forged_admin_token(key: str) -> str:
    """An access token for any user id, as someone who knows key would make it."""
    now = int(time.time())
    claims = {
        "token_type": "access",
        "exp": now + 600,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="HS256")


class TestDev:
    def test_makes_a_random_key_into_var_once_and_keeps_using_it(self, tmp_path):
        var = tmp_path / "var"

        first = keys_of(dev(var))
        key_file = var / "secret_key"

        assert first["secret_key"] != FORMER_DEFAULT
        assert len(first["secret_key"]) >= 50 and len(set(first["secret_key"])) >= 5
        assert first["signing_key"] == first["secret_key"]
        assert key_file.read_text().strip() == first["secret_key"]
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert keys_of(dev(var)) == first

    def test_each_instance_has_a_key_of_its_own(self, tmp_path):
        assert keys_of(dev(tmp_path / "a"))["secret_key"] != keys_of(dev(tmp_path / "b"))["secret_key"]

    def test_a_token_signed_with_the_published_key_is_refused(self, tmp_path):
        var = tmp_path / "var"
        own_key = keys_of(dev(var))["signing_key"]

        forged = dev(var, CHECK_TOKEN, forged_admin_token(FORMER_DEFAULT))
        genuine = dev(var, CHECK_TOKEN, forged_admin_token(own_key))

        assert forged.stdout.strip() == "refused", forged.stderr
        assert genuine.stdout.strip() == "accepted", genuine.stderr

    def test_processes_starting_at_once_agree_on_one_key(self, tmp_path):
        var = tmp_path / "var"
        environment = {
            key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "JWT_SIGNING_KEY"}
        } | {"DJANGO_SETTINGS_MODULE": "autogpt_platform.settings.dev", "VAR_DIR": str(var)}
        children = [
            subprocess.Popen(
                [sys.executable, "-c", SHOW_KEYS], cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        keys = {json.loads(child.communicate(timeout=60)[0])["secret_key"] for child in children}

        assert keys == {(var / "secret_key").read_text().strip()}

    def test_keys_from_the_environment_win_and_nothing_is_made(self, tmp_path):
        secret, signing = secrets.token_urlsafe(50), secrets.token_urlsafe(50)

        keys = keys_of(dev(tmp_path, SECRET_KEY=secret, JWT_SIGNING_KEY=signing))

        assert keys == {"secret_key": secret, "signing_key": signing}
        assert not (tmp_path / "secret_key").exists()


def prod(**env: str) -> subprocess.CompletedProcess:
    return run(
        SHOW_KEYS,
        DJANGO_SETTINGS_MODULE="autogpt_platform.settings.prod",
        ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        **env,
    )


class TestProd:
    def test_refuses_to_start_without_a_secret_key(self):
        result = prod()

        assert result.returncode != 0
        assert "SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr

    @pytest.mark.parametrize(
        "key",
        [
            FORMER_DEFAULT,
            "test-only-secret-key-not-a-secret-3f9c1e7a5b2d4068a1c3e5f7b9d0c2e4",  # settings/test.py's
            "django-insecure-" + "a1b2c3d4e5" * 5,
            "x" * 60,
            "short-but-varied-key-123",
        ],
    )
    def test_refuses_a_published_or_trivial_key_without_printing_it(self, key):
        result = prod(SECRET_KEY=key)

        assert result.returncode != 0
        assert "ImproperlyConfigured: SECRET_KEY" in result.stderr
        assert key not in result.stderr

    def test_refuses_the_published_key_as_jwt_signing_key(self):
        result = prod(SECRET_KEY=secrets.token_urlsafe(50), JWT_SIGNING_KEY=FORMER_DEFAULT)

        assert result.returncode != 0
        assert "ImproperlyConfigured: JWT_SIGNING_KEY" in result.stderr

    def test_starts_with_a_long_random_key_and_signs_with_it(self):
        key = secrets.token_urlsafe(50)

        assert keys_of(prod(SECRET_KEY=key)) == {"secret_key": key, "signing_key": key}
