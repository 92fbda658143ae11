"""Rate limits: DRF throttles kept in Redis, shared by every web process, 429 with Retry-After in
the one error shape. Each test sets tight rates and uses addresses and emails of its own, so that
no two tests (or runs) share a bucket."""

import json
import threading
import urllib.error
import urllib.request
import uuid

import pytest
import redis
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from autogpt_platform import throttling
from autogpt_platform.throttle_rates import DEFAULT_THROTTLE_RATES, RateError, parse_throttle_rates
from executions.models import GraphExecution
from tests import processes
from tests.accounts.test_api_keys import create_key, key_client
from tests.clients import client_for
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.graphs import AGENT_OUTPUT, STORE_VALUE, create_graph, link, node

pytestmark = pytest.mark.django_db


def rates(**overrides):
    """THROTTLE_RATES with these scopes changed (the rest as generous as the test settings)."""
    merged = {scope: "100000/min" for scope in DEFAULT_THROTTLE_RATES}
    merged.update(overrides)
    return override_settings(THROTTLE_RATES=merged)


def fresh_ip() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def fresh_email() -> str:
    return f"throttle-{uuid.uuid4().hex[:12]}@example.com"


def client_from(ip: str, **extra) -> APIClient:
    return APIClient(REMOTE_ADDR=ip, **extra)


def login(client: APIClient, email: str, password: str = "wrong-password-1"):
    return client.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def assert_throttled(response) -> int:
    assert response.status_code == 429, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600
    return retry_after


class TestLogin:
    def test_wrong_passwords_are_answered_until_the_limit_then_429(self):
        client, email = client_from(fresh_ip()), fresh_email()
        with rates(login="5/min"):
            answers = [login(client, email).status_code for _ in range(5)]
            refused = login(client, email)

        assert answers == [401] * 5
        assert 50 <= assert_throttled(refused) <= 60

    def test_a_right_password_is_refused_too_once_throttled(self, user):
        client = client_from(fresh_ip())
        with rates(login="3/min"):
            for _ in range(3):
                login(client, user.email)
            assert_throttled(login(client, user.email, DEFAULT_PASSWORD))

    def test_per_email_across_addresses(self):
        email = fresh_email()
        with rates(login="3/min"):
            answers = [login(client_from(fresh_ip()), email).status_code for _ in range(3)]
            refused = login(client_from(fresh_ip()), email.upper())  # normalized like the login

        assert answers == [401] * 3
        assert_throttled(refused)

    def test_per_address_across_emails(self):
        client = client_from(fresh_ip())
        with rates(login="3/min"):
            answers = [login(client, fresh_email()).status_code for _ in range(3)]
            refused = login(client, fresh_email())

        assert answers == [401] * 3
        assert_throttled(refused)

    def test_the_address_bucket_can_be_rated_apart(self):
        client = client_from(fresh_ip())
        with rates(login="2/min", login_ip="4/min"):
            answers = [login(client, fresh_email()).status_code for _ in range(4)]
            refused = login(client, fresh_email())

        assert answers == [401] * 4
        assert_throttled(refused)

    def test_a_forged_x_forwarded_for_does_not_escape_the_address_bucket(self):
        client = client_from(fresh_ip())
        with rates(login="3/min"):
            for _ in range(3):
                client.post(
                    "/api/v1/auth/login",
                    {"email": fresh_email(), "password": "x"},
                    format="json",
                    HTTP_X_FORWARDED_FOR=fresh_ip(),
                )
            refused = client.post(
                "/api/v1/auth/login",
                {"email": fresh_email(), "password": "x"},
                format="json",
                HTTP_X_FORWARDED_FOR=fresh_ip(),
            )

        assert_throttled(refused)

    def test_behind_a_proxy_the_forwarded_address_is_the_client(self, settings):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        proxy, client_ip, other_ip = fresh_ip(), fresh_ip(), fresh_ip()
        client = client_from(proxy)
        with rates(login="2/min"):
            answers = [
                client.post(
                    "/api/v1/auth/login",
                    {"email": fresh_email(), "password": "x"},
                    format="json",
                    HTTP_X_FORWARDED_FOR=ip,
                ).status_code
                for ip in [client_ip, client_ip, other_ip]
            ]
            refused = client.post(
                "/api/v1/auth/login",
                {"email": fresh_email(), "password": "x"},
                format="json",
                HTTP_X_FORWARDED_FOR=client_ip,
            )

        assert answers == [401, 401, 401]
        assert_throttled(refused)


class TestRegister:
    def test_registrations_in_a_row_are_limited_and_nothing_is_created(self):
        client = client_from(fresh_ip())
        emails = [fresh_email() for _ in range(4)]
        with rates(register="3/hour"):
            answers = [
                client.post(
                    "/api/v1/auth/register", {"email": email, "password": DEFAULT_PASSWORD}, format="json"
                ).status_code
                for email in emails
            ]
            refused = client.post(
                "/api/v1/auth/register", {"email": fresh_email(), "password": DEFAULT_PASSWORD}, format="json"
            )

        assert answers == [201, 201, 201, 429]
        assert 3000 <= assert_throttled(refused) <= 3600
        assert not User.objects.filter(email=emails[3]).exists()

    def test_per_email_across_addresses(self):
        email = fresh_email()
        with rates(register="2/hour"):
            for _ in range(2):
                client_from(fresh_ip()).post("/api/v1/auth/register", {"email": email, "password": "x"}, format="json")
            refused = client_from(fresh_ip()).post(
                "/api/v1/auth/register", {"email": email, "password": DEFAULT_PASSWORD}, format="json"
            )

        assert_throttled(refused)


class TestPerUser:
    def test_refresh_is_limited_per_user(self, user, api_client):
        with rates(refresh="2/min"):
            pairs = [login(client_from(fresh_ip()), user.email, DEFAULT_PASSWORD).json() for _ in range(3)]
            first = api_client.post("/api/v1/auth/refresh", {"refresh": pairs[0]["refresh"]}, format="json")
            second = client_from(fresh_ip()).post(
                "/api/v1/auth/refresh", {"refresh": pairs[1]["refresh"]}, format="json"
            )
            refused = client_from(fresh_ip()).post(
                "/api/v1/auth/refresh", {"refresh": pairs[2]["refresh"]}, format="json"
            )
            someone_else = UserFactory()
            theirs = login(client_from(fresh_ip()), someone_else.email, DEFAULT_PASSWORD).json()
            unaffected = api_client.post("/api/v1/auth/refresh", {"refresh": theirs["refresh"]}, format="json")

        assert (first.status_code, second.status_code) == (200, 200)
        assert_throttled(refused)
        assert unaffected.status_code == 200

    def test_garbage_refresh_tokens_are_limited_per_address(self):
        client = client_from(fresh_ip())
        with rates(refresh="2/min"):
            answers = [
                client.post("/api/v1/auth/refresh", {"refresh": f"garbage-{i}"}, format="json").status_code
                for i in range(2)
            ]
            refused = client.post("/api/v1/auth/refresh", {"refresh": "garbage"}, format="json")

        assert answers == [401, 401]
        assert_throttled(refused)

    def test_graph_executions_are_limited_per_user(self, user, auth_client, other_user):
        graph = create_graph(
            auth_client,
            [node("v", STORE_VALUE, input=1), node("out", AGENT_OUTPUT, name="r")],
            [link("v", "output", "out", "value")],
        )
        url = f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}"
        with rates(execute="2/min"):
            answers = [auth_client.post(url, {"inputs": {}}, format="json").status_code for _ in range(2)]
            refused = auth_client.post(url, {"inputs": {}}, format="json")
            active = auth_client.post(f"/api/v1/graphs/{graph['id']}/execute", {"inputs": {}}, format="json")
            other_graph = create_graph(client_for(other_user), [node("v", STORE_VALUE, input=1)], [])
            unaffected = client_for(other_user).post(
                f"/api/v1/graphs/{other_graph['id']}/execute/1", {"inputs": {}}, format="json"
            )

        assert answers == [201, 201]
        assert_throttled(refused)
        assert_throttled(active)
        assert GraphExecution.objects.filter(user=user).count() == 2
        assert unaffected.status_code == 201

    def test_block_executions_are_limited_per_user(self, auth_client):
        url = f"/api/v1/blocks/{STORE_VALUE}/execute"
        with rates(block_execute="2/min"):
            answers = [auth_client.post(url, {"input": i}, format="json").status_code for i in range(2)]
            refused = auth_client.post(url, {"input": 3}, format="json")

        assert answers == [200, 200]
        assert_throttled(refused)

    def test_the_whole_api_is_limited_per_user(self, auth_client, other_user):
        with rates(api="3/min"):
            answers = [auth_client.get("/api/v1/auth/me").status_code for _ in range(3)]
            refused = auth_client.get("/api/v1/graphs")
            unaffected = client_for(other_user).get("/api/v1/auth/me")

        assert answers == [200] * 3
        assert_throttled(refused)
        assert unaffected.status_code == 200

    def test_anonymous_requests_are_limited_per_address(self):
        client = client_from(fresh_ip())
        with rates(api="2/min"):
            answers = [client.get("/api/v1/store/agents").status_code for _ in range(2)]
            refused = client.get("/api/v1/store/agents")

        assert answers == [200, 200]
        assert_throttled(refused)

    def test_each_api_key_has_a_limit_of_its_own(self, auth_client):
        first = key_client(create_key(auth_client, ["identity"])["key"])
        second = key_client(create_key(auth_client, ["identity"])["key"])
        with rates(api_key="2/min"):
            answers = [first.get("/api/v1/auth/me").status_code for _ in range(2)]
            refused = first.get("/api/v1/auth/me")
            unaffected = second.get("/api/v1/auth/me")

        assert answers == [200, 200]
        assert_throttled(refused)
        assert unaffected.status_code == 200


class TestRates:
    def test_throttle_rates_overrides_some_scopes_in_one_variable(self):
        parsed = parse_throttle_rates("login=10/min, register=20/hour,execute=600/min,api=3000/min,api_key=none")

        assert parsed["login"] == "10/min" and parsed["register"] == "20/hour" and parsed["api"] == "3000/min"
        assert parsed["api_key"] is None
        assert parsed["refresh"] == DEFAULT_THROTTLE_RATES["refresh"]

    @pytest.mark.parametrize(
        "value", ["logins=10/min", "login=10", "login=ten/min", "login=10/fortnight", "login=0/min"]
    )
    def test_a_bad_value_is_refused_at_start(self, value):
        with pytest.raises(RateError):
            parse_throttle_rates(value)

    def test_a_scope_set_to_none_is_not_limited(self):
        client = client_from(fresh_ip())
        with rates(login=None, login_ip=None):
            answers = {login(client, fresh_email()).status_code for _ in range(20)}

        assert answers == {401}

    def test_while_redis_is_unreachable_requests_are_served(self, monkeypatch, auth_client):
        dead = redis.Redis(host="127.0.0.1", port=processes.free_port(), socket_connect_timeout=0.5)
        monkeypatch.setattr(throttling, "get_redis", lambda: dead)
        throttling._script.cache_clear()
        try:
            with rates(api="1/min"):
                answers = [auth_client.get("/api/v1/auth/me").status_code for _ in range(3)]
        finally:
            throttling._script.cache_clear()

        assert answers == [200] * 3


@pytest.fixture(scope="module")
def tight_server(django_db_setup, django_db_blocker):
    """A daphne of its own whose login limit is 5 a minute per email (from THROTTLE_RATES, as an
    operator would set it)."""
    port = processes.free_port()
    # The address bucket stays generous: every test logs in from 127.0.0.1.
    server = processes.daphne(port, env={"THROTTLE_RATES": "login=5/min,login_ip=100000/min"})
    yield f"http://127.0.0.1:{port}"
    server.stop()


def post_json(url: str, body: dict) -> tuple[int, dict, str | None]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers.get("Retry-After")


@pytest.mark.django_db(transaction=True)
class TestAcrossProcesses:
    def test_a_limit_reached_in_one_process_holds_in_another(self, tight_server):
        email = fresh_email()
        with rates(login="5/min", login_ip="100000/min"):
            answers = [login(client_from(fresh_ip()), email).status_code for _ in range(5)]

        status, body, retry_after = post_json(f"{tight_server}/api/v1/auth/login", {"email": email, "password": "x"})

        assert answers == [401] * 5
        assert status == 429 and body["code"] == "throttled" and set(body) == {"code", "message", "details"}
        assert retry_after is not None and int(retry_after) >= 1

    def test_concurrent_attempts_never_get_past_the_limit(self, tight_server):
        email = fresh_email()
        statuses: list[int] = []
        lock = threading.Lock()

        def attempt():
            status, _, _ = post_json(f"{tight_server}/api/v1/auth/login", {"email": email, "password": "x"})
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=attempt) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert sorted(statuses) == [401] * 5 + [429] * 15
