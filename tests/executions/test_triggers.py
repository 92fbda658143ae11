"""Webhook triggers: creating, listing, pausing and deleting them, and the signed ingress that
starts an execution (signature, size, pause, JSON, replay and input errors, none of which starts
anything). Most tests need only the API and the database (an execution stays QUEUED: in a test
transaction nothing is sent to the broker); the live ones run the execution on a real worker."""

import base64
import hashlib
import http.client
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection
from rest_framework.test import APIClient

from executions.models import GraphExecution, TriggerDelivery, TriggerKind, WebhookTrigger
from executions.tasks import purge_expired_trigger_deliveries
from executions.triggers import (
    signature_for,
    trigger_delivery_purge_expired,
    trigger_secret,
)
from tests.accounts.test_api_keys import create_key, key_client
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for
from tests.graphs import AGENT_INPUT, AGENT_OUTPUT, create_graph, link, node, wait_for_status
from tests.processes import wait_until

AGENT_SHORT_TEXT_INPUT = "7fcd3bcb-8e1b-4e69-903d-32d3d4a92158"
AGENT_NUMBER_INPUT = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"

api_only = pytest.mark.django_db


def webhook_graph(client, with_payload: bool = True) -> dict:
    """Inputs: `name` (text, required), `count` (whole number, default 1) and, with_payload,
    `payload` (any value). Outputs echo `name`, `count` and `payload`."""
    nodes = [
        node("name", AGENT_SHORT_TEXT_INPUT, name="name"),
        node("count", AGENT_NUMBER_INPUT, name="count", value=1),
        node("out_name", AGENT_OUTPUT, name="name"),
        node("out_count", AGENT_OUTPUT, name="count"),
    ]
    links = [link("name", "result", "out_name", "value"), link("count", "result", "out_count", "value")]
    if with_payload:
        nodes += [node("payload", AGENT_INPUT, name="payload"), node("out_payload", AGENT_OUTPUT, name="payload")]
        links.append(link("payload", "result", "out_payload", "value"))
    return create_graph(client, nodes, links, name="webhook graph")


def create_trigger(client, graph: dict, **body) -> dict:
    response = client.post(f"/api/v1/graphs/{graph['id']}/triggers", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def deliver(client, trigger: dict, payload=None, *, raw: bytes | None = None, secret=None, signature=None, **headers):
    """POST a delivery signed with the trigger's secret (or `signature` as given; False: unsigned)."""
    body = raw if raw is not None else json.dumps(payload).encode()
    if signature is None:
        signature = signature_for(secret or trigger["secret"], body)
    if signature is not False:
        headers["HTTP_X_SIGNATURE_256"] = signature
    return client.post(f"/api/v1/triggers/{trigger['id']}/ingress", body, content_type="application/json", **headers)


@pytest.fixture
def graph(auth_client) -> dict:
    return webhook_graph(auth_client)


@pytest.fixture
def trigger(auth_client, graph) -> dict:
    return create_trigger(auth_client, graph, name="from CI")


@api_only
class TestCreate:
    def test_is_201_with_the_url_and_the_secret(self, auth_client, graph):
        body = create_trigger(auth_client, graph, name="from CI")

        assert set(body) == {"id", "name", "graph_id", "graph_version", "url", "secret", "is_paused", "created_at"}
        assert (body["name"], body["graph_id"], body["graph_version"], body["is_paused"]) == (
            "from CI",
            graph["id"],
            None,
            False,
        )
        assert body["url"] == f"http://testserver/api/v1/triggers/{body['id']}/ingress"
        assert len(body["secret"]) >= 43  # 32 random bytes, URL-safe base64
        stored = WebhookTrigger.objects.get(id=body["id"])
        assert stored.graph_id == uuid.UUID(graph["id"])

    def test_the_secret_is_shown_once(self, auth_client, trigger, graph):
        detail = auth_client.get(f"/api/v1/triggers/{trigger['id']}").json()
        listed = auth_client.get(f"/api/v1/graphs/{graph['id']}/triggers").json()

        assert "secret" not in detail
        assert all("secret" not in item for item in listed["results"])
        assert trigger["secret"] not in json.dumps([detail, listed])

    def test_the_stored_secret_is_encrypted(self, trigger):
        stored = WebhookTrigger.objects.get(id=trigger["id"])

        assert trigger["secret"] not in stored.secret_encrypted
        assert stored.secret_encrypted.startswith("gAAAAA")  # a Fernet token
        assert trigger_secret(stored) == trigger["secret"]

    def test_the_secret_is_under_encryption_keys_and_unreadable_once_its_key_is_dropped(
        self, auth_client, graph, settings
    ):
        created = create_trigger(auth_client, graph)
        stored = WebhookTrigger.objects.get(id=created["id"])

        assert (
            Fernet(settings.ENCRYPTION_KEYS[0]).decrypt(stored.secret_encrypted.encode()).decode() == created["secret"]
        )
        settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
        with pytest.raises(InvalidToken):
            trigger_secret(stored)

    def test_a_secret_stored_before_encryption_keys_still_verifies(self, api_client, trigger, settings):
        # The key triggers had before ENCRYPTION_KEYS: SHA-256("webhook-trigger-secret:" + material).
        settings.TRIGGER_SECRET_KEY = "a-key-only-for-triggers"
        legacy_key = base64.urlsafe_b64encode(
            hashlib.sha256(b"webhook-trigger-secret:a-key-only-for-triggers").digest()
        )
        WebhookTrigger.objects.filter(id=trigger["id"]).update(
            secret_encrypted=Fernet(legacy_key).encrypt(trigger["secret"].encode()).decode()
        )

        response = deliver(api_client, trigger, {"name": "Ada"})

        assert response.status_code == 202, response.json()
        settings.TRIGGER_SECRET_KEY = "another-key"
        assert deliver(api_client, trigger, {"name": "Ada"}).status_code == 401

    def test_two_triggers_get_different_secrets(self, auth_client, graph):
        assert create_trigger(auth_client, graph)["secret"] != create_trigger(auth_client, graph)["secret"]

    def test_can_pin_an_existing_version(self, auth_client, graph):
        assert create_trigger(auth_client, graph, graph_version=1)["graph_version"] == 1

    @pytest.mark.parametrize("version", [2, 0, "x"])
    def test_a_version_that_does_not_exist_is_400_naming_graph_version(self, auth_client, graph, version):
        response = auth_client.post(f"/api/v1/graphs/{graph['id']}/triggers", {"graph_version": version}, format="json")

        assert_error(response, 400, "validation_error", field="graph_version")
        assert not WebhookTrigger.objects.exists()

    def test_another_users_graph_is_404(self, auth_client, other_user):
        theirs = webhook_graph(client_for(other_user))

        assert_error(auth_client.post(f"/api/v1/graphs/{theirs['id']}/triggers", {}, format="json"), 404, "not_found")
        assert_error(auth_client.get(f"/api/v1/graphs/{theirs['id']}/triggers"), 404, "not_found")
        assert not WebhookTrigger.objects.exists()

    def test_an_unknown_graph_is_404(self, auth_client):
        assert_error(auth_client.post(f"/api/v1/graphs/{uuid.uuid4()}/triggers", {}, format="json"), 404)

    def test_needs_credentials(self, api_client, graph):
        response = api_client.post(f"/api/v1/graphs/{graph['id']}/triggers", {}, format="json")

        assert response.status_code == 401

    def test_api_keys_need_write_graph(self, auth_client, graph):
        reader = key_client(create_key(auth_client, ["read_graph"])["key"])
        writer = key_client(create_key(auth_client, ["write_graph"])["key"])

        body = assert_error(reader.post(f"/api/v1/graphs/{graph['id']}/triggers", {}, format="json"), 403)
        assert "write_graph" in body["message"]
        assert writer.post(f"/api/v1/graphs/{graph['id']}/triggers", {}, format="json").status_code == 201


@api_only
class TestManage:
    def test_lists_the_graphs_triggers_newest_first(self, auth_client, graph):
        first = create_trigger(auth_client, graph, name="first")
        second = create_trigger(auth_client, graph, name="second")
        create_trigger(auth_client, webhook_graph(auth_client), name="another graph's")

        listed = auth_client.get(f"/api/v1/graphs/{graph['id']}/triggers").json()

        assert listed["count"] == 2
        assert [item["id"] for item in listed["results"]] == [second["id"], first["id"]]
        assert listed["results"][0]["url"] == second["url"]

    def test_patch_pauses_resumes_and_renames(self, auth_client, trigger):
        paused = auth_client.patch(f"/api/v1/triggers/{trigger['id']}", {"is_paused": True}, format="json")
        renamed = auth_client.patch(f"/api/v1/triggers/{trigger['id']}", {"name": "renamed"}, format="json")

        assert (paused.status_code, paused.json()["is_paused"]) == (200, True)
        assert (renamed.json()["name"], renamed.json()["is_paused"]) == ("renamed", True)
        resumed = auth_client.patch(f"/api/v1/triggers/{trigger['id']}", {"is_paused": False}, format="json")
        assert resumed.json()["is_paused"] is False
        assert "secret" not in resumed.json()

    def test_patch_refuses_a_bad_value_naming_the_field(self, auth_client, trigger):
        response = auth_client.patch(f"/api/v1/triggers/{trigger['id']}", {"is_paused": "perhaps"}, format="json")

        assert_error(response, 400, "validation_error", field="is_paused")

    def test_delete_removes_it_and_its_url_stops_working(self, auth_client, api_client, trigger):
        assert auth_client.delete(f"/api/v1/triggers/{trigger['id']}").status_code == 204

        assert not WebhookTrigger.objects.filter(id=trigger["id"]).exists()
        assert_error(auth_client.get(f"/api/v1/triggers/{trigger['id']}"), 404, "not_found")
        assert_error(deliver(api_client, trigger, {"name": "Ada"}), 404, "not_found")

    def test_deleting_the_graph_deletes_its_triggers(self, auth_client, graph, trigger):
        assert auth_client.delete(f"/api/v1/graphs/{graph['id']}").status_code == 204

        assert not WebhookTrigger.objects.filter(id=trigger["id"]).exists()

    @pytest.mark.parametrize("method", ["get", "patch", "delete"])
    def test_another_users_trigger_is_404(self, auth_client, other_user, method):
        owner = client_for(other_user)
        theirs = create_trigger(owner, webhook_graph(owner))

        response = getattr(auth_client, method)(f"/api/v1/triggers/{theirs['id']}", {"is_paused": True}, format="json")

        assert_error(response, 404, "not_found")
        stored = WebhookTrigger.objects.get(id=theirs["id"])
        assert stored.is_paused is False


@api_only
class TestIngress:
    def test_a_signed_delivery_is_202_and_starts_the_graph_with_the_payload_mapped(self, api_client, trigger, user):
        payload = {"name": "Ada", "count": 3, "action": "opened", "repository": {"full_name": "a/b"}}

        response = deliver(api_client, trigger, payload)

        assert response.status_code == 202, response.content
        body = response.json()
        assert body == {"execution_id": body["execution_id"], "status": "QUEUED", "replayed": False}
        graph_exec = GraphExecution.objects.get(id=body["execution_id"])
        assert (graph_exec.user, str(graph_exec.graph_id), graph_exec.graph_version.version) == (
            user,
            trigger["graph_id"],
            1,
        )
        # Keys naming inputs become them, `payload` gets everything, other keys are ignored.
        assert graph_exec.inputs == {"name": "Ada", "count": 3, "payload": payload}
        assert (graph_exec.trigger_kind, graph_exec.trigger_id) == (TriggerKind.TRIGGER, trigger["id"])

    def test_without_a_payload_input_other_keys_are_ignored(self, auth_client, api_client):
        trigger = create_trigger(auth_client, webhook_graph(auth_client, with_payload=False))

        response = deliver(api_client, trigger, {"name": "Ada", "payload": "x", "sender": {"login": "ada"}})

        assert response.status_code == 202, response.content
        assert GraphExecution.objects.get(id=response.json()["execution_id"]).inputs == {"name": "Ada"}

    def test_the_payload_input_gets_the_whole_object_over_a_payload_key(self, api_client, trigger):
        payload = {"name": "Ada", "payload": "just a key"}

        response = deliver(api_client, trigger, payload)

        assert GraphExecution.objects.get(id=response.json()["execution_id"]).inputs["payload"] == payload

    def test_runs_the_pinned_version_or_else_the_active_one(self, auth_client, api_client, graph):
        pinned = create_trigger(auth_client, graph, graph_version=1)
        active = create_trigger(auth_client, graph)
        nodes = [node("name", AGENT_SHORT_TEXT_INPUT, name="name"), node("out", AGENT_OUTPUT, name="name")]
        auth_client.put(
            f"/api/v1/graphs/{graph['id']}",
            {"name": "v2", "nodes": nodes, "links": [link("name", "result", "out", "value")]},
            format="json",
        )

        from_pinned = deliver(api_client, pinned, {"name": "Ada", "count": 2}).json()
        from_active = deliver(api_client, active, {"name": "Ada", "count": 2}).json()

        assert GraphExecution.objects.get(id=from_pinned["execution_id"]).graph_version.version == 1
        from_active_exec = GraphExecution.objects.get(id=from_active["execution_id"])
        assert (from_active_exec.graph_version.version, from_active_exec.inputs) == (2, {"name": "Ada"})

    def test_credentials_are_not_needed_and_the_answer_is_json_whatever_is_accepted(self, api_client, trigger):
        response = deliver(api_client, trigger, {"name": "Ada"}, HTTP_ACCEPT="text/html")

        assert response.status_code == 202, response.content
        assert response["Content-Type"] == "application/json"

    @pytest.mark.parametrize(
        "signature",
        [
            "sha256=" + "0" * 64,
            "sha1=0123",
            "not a signature",
            "sha256=ünicode",
        ],
    )
    def test_a_bad_signature_is_401_and_starts_nothing(self, api_client, trigger, signature):
        response = deliver(api_client, trigger, {"name": "Ada"}, signature=signature)

        assert_error(response, 401, "invalid_signature")
        assert not GraphExecution.objects.exists()
        assert not TriggerDelivery.objects.exists()

    def test_a_signature_with_another_secret_is_401(self, api_client, trigger):
        response = deliver(api_client, trigger, {"name": "Ada"}, secret="not-the-secret")

        assert_error(response, 401, "invalid_signature")
        assert not GraphExecution.objects.exists()

    def test_a_signature_of_another_body_is_401(self, api_client, trigger):
        signature = signature_for(trigger["secret"], b'{"name": "Bob"}')

        response = deliver(api_client, trigger, {"name": "Ada"}, signature=signature)

        assert_error(response, 401, "invalid_signature")
        assert not GraphExecution.objects.exists()

    def test_a_missing_signature_is_401_and_starts_nothing(self, api_client, trigger):
        body = assert_error(deliver(api_client, trigger, {"name": "Ada"}, signature=False), 401, "invalid_signature")

        assert "X-Signature-256" in body["message"]
        assert not GraphExecution.objects.exists()

    def test_the_signature_is_checked_before_the_body_is_parsed(self, api_client, trigger):
        assert_error(deliver(api_client, trigger, raw=b"{junk", signature="sha256=00"), 401, "invalid_signature")

    def test_an_uppercase_hex_signature_is_accepted(self, api_client, trigger):
        body = json.dumps({"name": "Ada"}).encode()
        signature = "sha256=" + signature_for(trigger["secret"], body).removeprefix("sha256=").upper()

        assert deliver(api_client, trigger, raw=body, signature=signature).status_code == 202

    def test_a_paused_trigger_is_409_and_starts_nothing(self, auth_client, api_client, trigger):
        auth_client.patch(f"/api/v1/triggers/{trigger['id']}", {"is_paused": True}, format="json")

        assert_error(deliver(api_client, trigger, {"name": "Ada"}), 409, "trigger_paused")
        assert not GraphExecution.objects.exists()
        auth_client.patch(f"/api/v1/triggers/{trigger['id']}", {"is_paused": False}, format="json")
        assert deliver(api_client, trigger, {"name": "Ada"}).status_code == 202

    def test_a_paused_trigger_still_refuses_a_bad_signature_first(self, auth_client, api_client, trigger):
        auth_client.patch(f"/api/v1/triggers/{trigger['id']}", {"is_paused": True}, format="json")

        assert_error(deliver(api_client, trigger, {"name": "Ada"}, signature=False), 401)

    @pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe\x00", b'{"name": NaN}'])
    def test_a_body_that_is_not_json_is_400_and_starts_nothing(self, api_client, trigger, raw):
        assert_error(deliver(api_client, trigger, raw=raw), 400, "parse_error")
        assert not GraphExecution.objects.exists()

    @pytest.mark.parametrize("payload", [[{"name": "Ada"}], "Ada", 42, None])
    def test_a_json_value_that_is_not_an_object_is_400_and_starts_nothing(self, api_client, trigger, payload):
        assert_error(deliver(api_client, trigger, payload), 400, "validation_error", field="body")
        assert not GraphExecution.objects.exists()

    def test_a_body_over_the_limit_is_413_and_starts_nothing(self, api_client, trigger):
        raw = json.dumps({"name": "Ada", "padding": "x" * (1024 * 1024)}).encode()

        assert_error(deliver(api_client, trigger, raw=raw), 413, "payload_too_large")
        assert_error(deliver(api_client, trigger, raw=raw, signature=False), 413, "payload_too_large")
        assert not GraphExecution.objects.exists()

    def test_the_limit_is_a_setting(self, api_client, trigger, settings):
        settings.TRIGGER_MAX_BODY_BYTES = 100
        small = json.dumps({"name": "Ada"}).encode()
        big = json.dumps({"name": "Ada", "padding": "x" * 100}).encode()

        assert deliver(api_client, trigger, raw=small).status_code == 202
        assert_error(deliver(api_client, trigger, raw=big), 413, "payload_too_large")
        assert GraphExecution.objects.count() == 1

    def test_an_unknown_trigger_is_404(self, api_client, trigger):
        response = deliver(api_client, {**trigger, "id": str(uuid.uuid4())}, {"name": "Ada"})

        assert_error(response, 404, "not_found")

    @pytest.mark.parametrize(
        "payload, field",
        [
            ({"count": 2}, "inputs.name"),  # a required input missing
            ({"name": "Ada", "count": "many"}, "inputs.count"),  # the wrong type
            ({"name": "Ada\x00"}, "inputs.name"),
        ],
    )
    def test_inputs_that_do_not_fit_the_graph_are_400_and_record_nothing(self, api_client, trigger, payload, field):
        response = deliver(api_client, trigger, payload, HTTP_X_DELIVERY_ID="delivery-1")

        assert_error(response, 400, "validation_error", field=field)
        assert not GraphExecution.objects.exists()
        assert not TriggerDelivery.objects.exists()

    def test_a_failed_delivery_can_be_sent_again_with_the_same_id(self, api_client, trigger):
        assert deliver(api_client, trigger, {"count": 2}, HTTP_X_DELIVERY_ID="d-1").status_code == 400

        assert deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="d-1").status_code == 202


@api_only
class TestReplay:
    def test_the_same_delivery_id_answers_with_the_original_execution_and_starts_nothing(self, api_client, trigger):
        first = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1")
        again = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1")

        assert first.status_code == 202
        assert again.status_code == 200, again.content
        assert again.json() == {"execution_id": first.json()["execution_id"], "status": "QUEUED", "replayed": True}
        assert GraphExecution.objects.count() == 1
        delivery = TriggerDelivery.objects.get()
        assert (delivery.delivery_id, str(delivery.graph_execution_id)) == ("gh-1", first.json()["execution_id"])

    def test_a_replay_with_another_body_still_starts_nothing(self, api_client, trigger):
        first = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1")
        again = deliver(api_client, trigger, {"name": "Bob"}, HTTP_X_DELIVERY_ID="gh-1")

        assert again.json()["execution_id"] == first.json()["execution_id"]
        assert GraphExecution.objects.get().inputs["name"] == "Ada"

    def test_different_delivery_ids_start_two_executions(self, api_client, trigger):
        first = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1")
        second = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-2")

        assert (first.status_code, second.status_code) == (202, 202)
        assert first.json()["execution_id"] != second.json()["execution_id"]
        assert GraphExecution.objects.count() == 2

    def test_without_a_delivery_id_there_is_no_replay_protection(self, api_client, trigger):
        deliver(api_client, trigger, {"name": "Ada"})
        deliver(api_client, trigger, {"name": "Ada"})

        assert GraphExecution.objects.count() == 2
        assert not TriggerDelivery.objects.exists()

    def test_delivery_ids_are_per_trigger(self, auth_client, api_client, trigger, graph):
        other = create_trigger(auth_client, graph)

        deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1")
        response = deliver(api_client, other, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1")

        assert response.status_code == 202
        assert GraphExecution.objects.count() == 2

    def test_after_the_window_the_same_id_starts_a_new_execution(self, api_client, trigger, settings):
        first = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1").json()
        old = TriggerDelivery.objects.get()
        old.received_at -= timedelta(seconds=settings.TRIGGER_REPLAY_WINDOW_SECONDS + 1)
        TriggerDelivery.objects.filter(pk=old.pk).update(received_at=old.received_at)

        again = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1")

        assert again.status_code == 202
        assert again.json()["execution_id"] != first["execution_id"]
        assert GraphExecution.objects.count() == 2
        assert TriggerDelivery.objects.get().graph_execution_id == uuid.UUID(again.json()["execution_id"])

    def test_a_replay_of_a_deleted_execution_still_starts_nothing(self, api_client, trigger):
        first = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1").json()
        GraphExecution.objects.filter(id=first["execution_id"]).delete()

        again = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="gh-1")

        assert (again.status_code, again.json()) == (200, {"execution_id": None, "status": None, "replayed": True})
        assert not GraphExecution.objects.exists()

    def test_a_delivery_id_over_200_characters_is_400(self, api_client, trigger):
        response = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="x" * 201)

        assert_error(response, 400, "validation_error", field="X-Delivery-Id")
        assert not GraphExecution.objects.exists()
        assert deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="x" * 200).status_code == 202

    def test_expired_deliveries_are_purged(self, api_client, trigger, settings):
        deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="old")
        deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="new")
        expired = timedelta(seconds=settings.TRIGGER_REPLAY_WINDOW_SECONDS + 1)
        for delivery in TriggerDelivery.objects.filter(delivery_id="old"):
            TriggerDelivery.objects.filter(pk=delivery.pk).update(received_at=delivery.received_at - expired)

        assert trigger_delivery_purge_expired() == 1

        assert list(TriggerDelivery.objects.values_list("delivery_id", flat=True)) == ["new"]
        assert GraphExecution.objects.count() == 2


def test_the_purge_runs_periodically_on_system_events(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-trigger-deliveries"]

    assert entry["task"] == purge_expired_trigger_deliveries.name
    assert purge_expired_trigger_deliveries.queue == "system_events"
    assert 0 < entry["options"]["expires"] < entry["schedule"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("live_worker")
class TestOnARealWorker:
    def test_the_execution_runs_and_records_its_trigger(self, auth_client, api_client, trigger):
        payload = {"name": "Ada", "count": 3, "ignored": True}

        response = deliver(api_client, trigger, payload, HTTP_X_DELIVERY_ID="live-1")
        assert response.status_code == 202, response.content
        detail = wait_for_status(auth_client, response.json()["execution_id"])

        assert detail["status"] == "COMPLETED", detail
        assert detail["trigger"] == {"kind": "trigger", "id": trigger["id"]}
        assert detail["inputs"] == {"name": "Ada", "count": 3, "payload": payload}
        assert detail["outputs"] == {"name": ["Ada"], "count": [3], "payload": [payload]}
        listed = auth_client.get(f"/api/v1/graphs/{trigger['graph_id']}/executions").json()
        assert [item["trigger"] for item in listed["results"]] == [{"kind": "trigger", "id": trigger["id"]}]

    def test_a_replay_after_the_run_starts_nothing_new(self, auth_client, api_client, trigger):
        first = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="live-2").json()
        wait_for_status(auth_client, first["execution_id"])

        again = deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="live-2")

        assert again.status_code == 200
        assert again.json() == {"execution_id": first["execution_id"], "status": "COMPLETED", "replayed": True}
        time.sleep(0.5)
        assert GraphExecution.objects.count() == 1

    def test_concurrent_copies_of_one_delivery_start_exactly_one_execution(self, auth_client, trigger):
        barrier = threading.Barrier(6)

        def send(_):
            try:
                barrier.wait(timeout=10)
                response = deliver(APIClient(), trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="race")
                return response.status_code, response.json()
            finally:
                connection.close()

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(send, range(6)))

        assert sorted(code for code, _ in results) == [200] * 5 + [202], results
        assert len({body["execution_id"] for _, body in results}) == 1
        assert GraphExecution.objects.count() == 1
        assert wait_for_status(auth_client, results[0][1]["execution_id"])["status"] == "COMPLETED"

    def test_a_refused_delivery_sends_nothing_to_the_worker(self, auth_client, api_client, trigger):
        deliver(api_client, trigger, {"name": "Ada"}, signature=False)
        deliver(api_client, trigger, {"count": 1})
        auth_client.patch(f"/api/v1/triggers/{trigger['id']}", {"is_paused": True}, format="json")
        deliver(api_client, trigger, {"name": "Ada"})

        time.sleep(1)
        assert not GraphExecution.objects.exists()
        assert not TriggerDelivery.objects.exists()

    def test_the_worker_runs_the_purge_task(self, api_client, trigger, settings):
        deliver(api_client, trigger, {"name": "Ada"}, HTTP_X_DELIVERY_ID="to-purge")
        expired = timedelta(seconds=settings.TRIGGER_REPLAY_WINDOW_SECONDS + 1)
        delivery = TriggerDelivery.objects.get()
        TriggerDelivery.objects.filter(pk=delivery.pk).update(received_at=delivery.received_at - expired)

        purge_expired_trigger_deliveries.delay()

        wait_until(lambda: not TriggerDelivery.objects.exists(), timeout=20, message="the purge")


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(live_server_url, auth_client):
    """Through a real daphne, a body sent without Content-Length is measured as it arrives."""
    trigger = create_trigger(auth_client, webhook_graph(auth_client))
    host, port = live_server_url.split(":")
    body = json.dumps({"name": "Ada", "padding": "x" * (1024 * 1024)}).encode()
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    connection.putrequest("POST", f"/api/v1/triggers/{trigger['id']}/ingress")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("X-Signature-256", signature_for(trigger["secret"], body))
    connection.endheaders()
    for start in range(0, len(body), 64 * 1024):
        chunk = body[start : start + 64 * 1024]
        connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()

    assert response.status == 413, response.read()
    assert json.loads(response.read())["code"] == "payload_too_large"
    assert not GraphExecution.objects.exists()
