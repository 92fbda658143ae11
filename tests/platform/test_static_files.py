"""Static files under prod settings, as the Docker image serves them: collectstatic writes hashed,
gzipped files (WhiteNoise's CompressedManifestStaticFilesStorage) and daphne serves them through
WhiteNoise with a far-future Cache-Control. Under `make run` and in tests they are served without
a collectstatic (tests/platform/test_make_run.py, tests/browser/)."""

import json
import os
import re
import subprocess
import sys
import urllib.request

import pytest

from tests.processes import ROOT, PlatformProcess, free_port

pytestmark = pytest.mark.timeout(300)

ONE_YEAR = 365 * 24 * 3600


def fetch(url: str, **headers) -> tuple[int, dict[str, str], bytes]:
    # As behind the TLS-terminating proxy prod expects (SECURE_PROXY_SSL_HEADER).
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


@pytest.fixture
def prod_env(tmp_path) -> dict[str, str]:
    """What prod settings need, on top of this process's environment."""
    return {
        "DJANGO_SETTINGS_MODULE": "autogpt_platform.settings.prod",
        "SECRET_KEY": "static-files-test-" + "x" * 40,
        "ENCRYPTION_KEYS": "pqKQmmByVGaSur3Z84iNk0J1SldczPbjBX7i6DQ54qI=",
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        "VAR_DIR": str(tmp_path / "var"),
    }


@pytest.mark.django_db  # the server's pages open a transaction on the test database
def test_prod_serves_collected_static_files_hashed_compressed_and_cached_for_a_year(prod_env, tmp_path):
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={**os.environ, **prod_env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert collected.returncode == 0, collected.stderr[-3000:]
    static_root = tmp_path / "staticfiles"
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    admin_css = manifest["admin/css/base.css"]
    swagger_js = manifest["drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"]
    assert admin_css != "admin/css/base.css"
    assert (static_root / f"{admin_css}.gz").is_file()

    port = free_port()
    server = PlatformProcess(
        f"daphne-prod-{port}",
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "autogpt_platform.asgi:application"],
        env=prod_env,
    )
    try:
        server.wait_for_log("Listening on TCP address", timeout=60)
        base = f"http://127.0.0.1:{port}"

        status, headers, body = fetch(f"{base}/static/{admin_css}", **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["content-encoding"] == "gzip"
        max_age = int(re.search(r"max-age=(\d+)", headers["cache-control"])[1])
        assert max_age >= ONE_YEAR and "immutable" in headers["cache-control"]
        assert headers["content-type"].startswith("text/css")

        # The name without the hash is still served, but may change: cached briefly only.
        status, headers, _ = fetch(f"{base}/static/admin/css/base.css")
        assert status == 200 and "immutable" not in headers["cache-control"]

        # Pages point at the hashed names.
        status, _, page = fetch(f"{base}/api/docs/")
        assert status == 200 and f"/static/{swagger_js}".encode() in page
        status, headers, _ = fetch(f"{base}/static/{swagger_js}")
        assert status == 200 and "immutable" in headers["cache-control"]
    finally:
        server.stop()
