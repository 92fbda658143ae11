"""The integration blocks in graphs, run by a real Celery worker whose providers are the stand-ins
(tests/stand_ins/integrations.py: the worker gets their base URLs, the platform's keys, the SMTP
stand-in's CA and the local servers allowed), and the Generic Webhook Trigger started through the
real trigger ingress."""

import json

import pytest

from executions.models import NodeExecution
from executions.triggers import signature_for
from integrations.services import credential_create
from tests.graphs import AGENT_INPUT, AGENT_OUTPUT, create_graph, link, node, node_runs, run_graph, wait_for_status
from tests.processes import wait_until
from tests.stand_ins.integrations import SMTP_PASSWORD, SMTP_USERNAME
from tests.stand_ins.providers import SYSTEM_KEYS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker")]

SEARCH_THE_WEB = "87840993-2053-44b7-8da4-187ad4ee518c"
EXTRACT_WEBSITE_CONTENT = "436c3984-57fd-4b85-8e9a-459b356883bd"
GOOGLE_MAPS_SEARCH = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
IDEOGRAM_MODEL = "6ab085e2-20b3-4055-bc3e-08036e01eca6"
REPLICATE_FLUX = "90f8c45e-e983-4644-aa0b-b4ebe2f531bc"
TRANSCRIBE_YOUTUBE = "f3a8f7e1-4b1d-4e5f-9f2a-7c3d5a2e6b4c"
SEND_EMAIL = "4335878a-394e-4e67-adf2-919877ff49ae"
AUTHENTICATED_WEB_REQUEST = "fff86bcd-e001-4bad-a7f6-2eae4720c8dc"
GENERIC_WEBHOOK_TRIGGER = "8fa8c167-2002-47ce-aba8-97572fc5d387"
USER_KEY = "jina_user_key_0123456789abcdef"


def meta(credential) -> dict:
    return {"id": str(credential.id), "provider": credential.provider, "type": credential.type, "title": "t"}


def one_block_graph(client, block_id: str, input_pin: str, output_pin: str, **defaults) -> dict:
    """in -> the block's `input_pin`; its `output_pin` -> out."""
    return create_graph(
        client,
        [
            node("in", AGENT_INPUT, name="in"),
            node("block", block_id, **defaults),
            node("out", AGENT_OUTPUT, name="out"),
        ],
        [link("in", "result", "block", input_pin), link("block", output_pin, "out", "value")],
    )


def test_search_the_web_with_the_platforms_jina_key(auth_client, providers):
    graph = one_block_graph(auth_client, SEARCH_THE_WEB, "query", "results")

    detail = run_graph(auth_client, graph, {"in": "solar panels"})

    assert detail["status"] == "COMPLETED", detail
    [results] = detail["outputs"]["out"]
    assert results.startswith("[1] Title: solar panels result 1")
    (request,) = providers.requests("jina_search")
    assert (request.raw_path, request.bearer) == ("/solar%20panels", SYSTEM_KEYS["jina"])


def test_extract_website_content_with_the_users_own_key_which_is_stored_nowhere(auth_client, user, providers):
    own = credential_create(user=user, provider="jina", type="api_key", title="Mine", api_key=USER_KEY)
    providers.pages["https://example.com/"] = "Example Domain"
    graph = one_block_graph(auth_client, EXTRACT_WEBSITE_CONTENT, "url", "content", credentials=meta(own))

    detail = run_graph(auth_client, graph, {"in": "https://example.com/"})

    assert detail["status"] == "COMPLETED", detail
    assert "Markdown Content:\nExample Domain" in detail["outputs"]["out"][0]
    assert providers.requests("jina_reader")[0].bearer == USER_KEY
    shown = auth_client.get(f"/api/v1/executions/{detail['id']}").content.decode()
    assert USER_KEY not in shown
    assert not any(USER_KEY in json.dumps([n.input_data, n.output_data]) for n in NodeExecution.objects.all())


def test_a_credential_of_another_provider_is_refused_when_the_graph_is_saved(auth_client, user):
    openai = credential_create(user=user, provider="openai", type="api_key", title="AI", api_key="sk-0123456789")

    response = auth_client.post(
        "/api/v1/graphs",
        {"name": "g", "nodes": [node("s", SEARCH_THE_WEB, query="q", credentials=meta(openai))], "links": []},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert response.json()["details"]["nodes.s.credentials"] == [f"Credential {openai.id} is for 'openai', not 'jina'."]


def test_google_maps_search_yields_each_place(auth_client, providers):
    graph = one_block_graph(auth_client, GOOGLE_MAPS_SEARCH, "query", "place_#_name", max_results=3)

    detail = run_graph(auth_client, graph, {"in": "dentists in springfield"})

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"]["out"] == [f"Dentists In Springfield {n}" for n in range(3)]
    (request,) = providers.requests("google_maps")
    assert request.headers["x-goog-api-key"] == SYSTEM_KEYS["google_maps"]
    assert request.json() == {"textQuery": "dentists in springfield", "pageSize": 3}


def test_ideogram_generates_and_upscales(auth_client, providers):
    graph = one_block_graph(auth_client, IDEOGRAM_MODEL, "prompt", "result", upscale="AI Upscale")

    detail = run_graph(auth_client, graph, {"in": "a poster of a cat"})

    assert detail["status"] == "COMPLETED", detail
    [url] = detail["outputs"]["out"]
    assert url.startswith(f"{providers.url('ideogram')}/images/upscaled-")
    assert [r.path for r in providers.requests("ideogram")][::2] == ["/v1/ideogram-v3/generate", "/upscale"]


def test_replicate_flux_runs_a_prediction_to_its_end(auth_client, providers):
    graph = one_block_graph(
        auth_client, REPLICATE_FLUX, "prompt", "result", replicate_model_name="Flux Pro 1.1", output_format="png"
    )

    detail = run_graph(auth_client, graph, {"in": "dog"})

    assert detail["status"] == "COMPLETED", detail
    (prediction,) = providers.predictions()
    assert detail["outputs"]["out"] == [f"{providers.url('replicate')}/files/{prediction.id}.png"]
    assert (prediction.model, prediction.input["prompt"], prediction.status) == (
        "black-forest-labs/flux-1.1-pro",
        "dog",
        "succeeded",
    )
    assert {r.bearer for r in providers.requests("replicate")} == {SYSTEM_KEYS["replicate"]}


def test_stopping_a_run_cancels_its_replicate_prediction(auth_client, providers):
    providers.polls_to_finish = 100_000
    graph = one_block_graph(auth_client, REPLICATE_FLUX, "prompt", "result")
    exec_id = auth_client.post(
        f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": {"in": "dog"}}, format="json"
    ).json()["id"]
    wait_until_polled(providers)

    assert auth_client.post(f"/api/v1/executions/{exec_id}/stop").status_code == 200
    detail = wait_for_status(auth_client, exec_id)

    assert detail["status"] == "TERMINATED"
    (prediction,) = providers.predictions()
    assert prediction.status == "canceled"


def wait_until_polled(providers):
    wait_until(lambda: len(providers.requests("replicate")) >= 3, timeout=20, message="the prediction polled")


def test_transcribe_youtube_video(auth_client, providers):
    graph = create_graph(
        auth_client,
        [
            node("in", AGENT_INPUT, name="in"),
            node("yt", TRANSCRIBE_YOUTUBE),
            node("id", AGENT_OUTPUT, name="video_id"),
            node("text", AGENT_OUTPUT, name="transcript"),
        ],
        [
            link("in", "result", "yt", "youtube_url"),
            link("yt", "video_id", "id", "value"),
            link("yt", "transcript", "text", "value"),
        ],
    )

    detail = run_graph(auth_client, graph, {"in": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"})

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {
        "video_id": ["dQw4w9WgXcQ"],
        "transcript": ["Transcript of dQw4w9WgXcQ, line 1\nIt's line 2 & the last one"],
    }
    assert [r.path for r in providers.requests("youtube")] == ["/watch", "/youtubei/v1/player", "/api/timedtext"]


def test_send_email_through_the_users_smtp_server(auth_client, user, integration_stand_ins):
    smtp = integration_stand_ins.smtp
    credential = credential_create(
        user=user, provider="smtp", type="user_password", title="Mail", username=SMTP_USERNAME, password=SMTP_PASSWORD
    )
    graph = one_block_graph(
        auth_client,
        SEND_EMAIL,
        "body",
        "status",
        to_email="grace@example.org",
        subject="Your report",
        config={"smtp_server": "localhost", "smtp_port": smtp.port},
        credentials=meta(credential),
    )

    detail = run_graph(auth_client, graph, {"in": "All done."})

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"] == {"out": ["Email sent successfully"]}
    (received,) = smtp.wait_for("grace@example.org")
    assert (received.login, received.message["Subject"]) == (SMTP_USERNAME, "Your report")
    assert received.message.get_content().strip() == "All done."
    shown = auth_client.get(f"/api/v1/executions/{detail['id']}").content.decode()
    assert SMTP_PASSWORD not in shown


def test_authenticated_web_request_headers_reach_their_host_only(auth_client, user, integration_stand_ins):
    web, other = integration_stand_ins.web, integration_stand_ins.other
    credential = credential_create(
        user=user,
        provider="http",
        type="host_scoped",
        title="API",
        host=f"127.0.0.1:{web.port}",
        headers={"X-Api-Key": "scoped-key-42"},
    )
    graph = create_graph(
        auth_client,
        [
            node("in", AGENT_INPUT, name="url"),
            node("req", AUTHENTICATED_WEB_REQUEST, method="GET", credentials=meta(credential)),
            node("out", AGENT_OUTPUT, name="headers"),
        ],
        [link("in", "result", "req", "url"), link("req", "response_#_headers", "out", "value")],
    )

    direct = run_graph(auth_client, graph, {"url": web.url("/echo")})
    redirected = run_graph(auth_client, graph, {"url": web.url(f"/redirect?to={other.url('/echo')}")})

    assert direct["status"] == redirected["status"] == "COMPLETED", (direct, redirected)
    assert direct["outputs"]["headers"][0]["x-api-key"] == "scoped-key-42"
    assert "x-api-key" not in redirected["outputs"]["headers"][0]
    assert f"127.0.0.1:{other.port}" == redirected["outputs"]["headers"][0]["host"]
    for detail in (direct, redirected):
        (req,) = node_runs(detail, "req")
        assert "scoped-key-42" not in json.dumps(req["input_data"])


# --- Generic Webhook Trigger ---------------------------------------------------------------------
def webhook_graph(client) -> dict:
    return create_graph(
        client,
        [
            node("hook", GENERIC_WEBHOOK_TRIGGER, constants={"team": "ops"}),
            node("who", AGENT_OUTPUT, name="who"),
            node("team", AGENT_OUTPUT, name="team"),
            node("all", AGENT_OUTPUT, name="all"),
        ],
        [
            link("hook", "payload_#_sender", "who", "value"),
            link("hook", "constants_#_team", "team", "value"),
            link("hook", "payload", "all", "value"),
        ],
        name="webhook-started",
    )


def test_a_delivery_to_the_graphs_trigger_comes_out_of_the_webhook_block(auth_client, api_client):
    graph = webhook_graph(auth_client)
    trigger = auth_client.post(f"/api/v1/graphs/{graph['id']}/triggers", {"name": "forms"}, format="json").json()
    payload = {"sender": "ada", "action": "submitted", "answers": [1, 2]}
    body = json.dumps(payload).encode()

    response = api_client.post(
        f"/api/v1/triggers/{trigger['id']}/ingress",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE_256=signature_for(trigger["secret"], body),
    )

    assert response.status_code == 202, response.content
    detail = wait_for_status(auth_client, response.json()["execution_id"])
    assert detail["status"] == "COMPLETED", detail
    assert detail["inputs"] == {"payload": payload}
    assert detail["outputs"] == {"who": ["ada"], "team": ["ops"], "all": [payload]}
    (hook,) = node_runs(detail, "hook")
    assert hook["input_data"]["payload"] == payload


def test_an_unsigned_delivery_starts_nothing(auth_client, api_client):
    graph = webhook_graph(auth_client)
    trigger = auth_client.post(f"/api/v1/graphs/{graph['id']}/triggers", {}, format="json").json()

    response = api_client.post(
        f"/api/v1/triggers/{trigger['id']}/ingress", b'{"sender": "eve"}', content_type="application/json"
    )

    assert response.status_code == 401
    assert auth_client.get(f"/api/v1/graphs/{graph['id']}/executions").json()["count"] == 0


def test_a_webhook_graph_run_by_hand_takes_the_payload_as_an_input(auth_client):
    graph = webhook_graph(auth_client)

    detail = run_graph(auth_client, graph, {"payload": {"sender": "grace"}})
    refused = auth_client.post(
        f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": {"payload": "text"}}, format="json"
    )

    assert detail["outputs"] == {"who": ["grace"], "team": ["ops"], "all": [{"sender": "grace"}]}
    assert refused.status_code == 400
    assert refused.json()["details"] == {"inputs.payload": ["The webhook payload is a JSON object."]}
