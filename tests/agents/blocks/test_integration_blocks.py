"""The integration blocks in this process against their stand-ins on 127.0.0.1: the providers'
APIs (tests/stand_ins/providers.py), an SMTP server with STARTTLS and AUTH, and plain web servers
(tests/stand_ins/integrations.py). What each block sends is asserted on the stand-in's side."""

import json
import threading

import pytest
from django.test import override_settings
from pydantic import ValidationError

from agents.blocks import BlockContext
from agents.blocks.base import ExecutionCancelled
from agents.blocks.email import SendEmailBlock
from agents.blocks.google_maps import GoogleMapsSearchBlock
from agents.blocks.http import SendAuthenticatedWebRequestBlock
from agents.blocks.ideogram import IdeogramModelBlock
from agents.blocks.jina import ExtractWebsiteContentBlock, SearchTheWebBlock
from agents.blocks.replicate import ReplicateFluxAdvancedModelBlock
from agents.blocks.youtube import TranscribeYouTubeVideoBlock
from integrations.services import credential_create
from tests.stand_ins.integrations import SMTP_PASSWORD, SMTP_USERNAME
from tests.stand_ins.providers import INNERTUBE_API_KEY, REFUSED_KEY, SYSTEM_KEYS, Video

USER_KEY = "user-key-0123456789abcdef"


def run(block, context=None, **inputs) -> list[tuple[str, object]]:
    return list(block().execute(inputs, context or BlockContext(user_id="nobody", node_id="n")))


def run_as(user, block, **inputs) -> list[tuple[str, object]]:
    return run(block, BlockContext(user_id=str(user.id), node_id="n"), **inputs)


def meta(credential) -> dict:
    return {"id": str(credential.id), "provider": credential.provider, "type": credential.type, "title": "t"}


def errors(outputs) -> list[str]:
    return [value for pin, value in outputs if pin == "error"]


# --- Jina ----------------------------------------------------------------------------------------
def test_search_the_web_asks_jina_search_with_the_platforms_key(providers):
    [(pin, results)] = run(SearchTheWebBlock, query="bees & wasps?")

    assert pin == "results"
    assert "[1] Title: bees & wasps? result 1" in results
    (request,) = providers.requests("jina_search")
    assert (request.method, request.raw_path, request.bearer) == ("GET", "/bees%20%26%20wasps%3F", SYSTEM_KEYS["jina"])


@pytest.mark.django_db
def test_the_users_own_jina_key_is_used_when_chosen(providers, user):
    own = credential_create(user=user, provider="jina", type="api_key", title="Mine", api_key=USER_KEY)

    [(pin, _)] = run_as(user, SearchTheWebBlock, query="q", credentials=meta(own))

    assert pin == "results"
    assert providers.requests("jina_search")[0].bearer == USER_KEY


def test_extract_website_content_reads_the_page_through_jina_reader(providers):
    providers.pages["https://example.com/post?id=7"] = "# A post\n\nHello."

    [(pin, content)] = run(ExtractWebsiteContentBlock, url="https://example.com/post?id=7")

    assert pin == "content"
    assert "Markdown Content:\n# A post\n\nHello." in content
    (request,) = providers.requests("jina_reader")
    assert (request.raw_path, request.bearer) == ("/https://example.com/post?id=7", SYSTEM_KEYS["jina"])


def test_a_raw_fetch_goes_to_the_page_itself_without_the_key(providers, integration_stand_ins):
    web = integration_stand_ins.web
    with web.allowed():
        [(pin, content)] = run(ExtractWebsiteContentBlock, url=web.url("/echo"), raw_content=True)

    assert pin == "content"
    assert "authorization" not in json.loads(content)["headers"]
    assert providers.requests("jina_reader") == []
    # without the allow-list, the local server is an internal address like any other
    [(pin, message)] = run(ExtractWebsiteContentBlock, url=web.url("/echo"), raw_content=True)
    assert pin == "error" and "loopback address; requests to it are refused" in message


def test_a_refused_jina_key_fails_without_quoting_it(providers, settings):
    settings.JINA_API_KEY = REFUSED_KEY

    outputs = run(SearchTheWebBlock, query="q")

    assert errors(outputs) == [
        "Jina Search refused the credentials (HTTP 401) while the request: check that the API key is valid and "
        "allowed to do this."
    ]


def test_without_any_jina_credential_the_operator_is_named(providers, settings):
    settings.JINA_API_KEY = ""

    outputs = run(SearchTheWebBlock, query="q")

    assert errors(outputs) == [
        "No credential for provider 'jina': choose one of your credentials, or ask the operator to set JINA_API_KEY."
    ]
    assert providers.requests() == []


# --- Google Maps ---------------------------------------------------------------------------------
def test_google_maps_pages_through_text_search_up_to_max_results(providers):
    outputs = run(GoogleMapsSearchBlock, query="pizza in springfield", max_results=45)

    assert [pin for pin, _ in outputs] == ["place"] * 45
    assert outputs[0][1] == {
        "name": "Pizza In Springfield 0",
        "address": "0 Main St, Springfield",
        "phone": "(555) 010-0000",
        "rating": 4.5,
        "reviews": 10,
        "website": "https://place0.example.com",
        "place_id": "ChIJ0000StandIn",
        "latitude": 40.0,
        "longitude": -73.0,
        "google_maps_url": "https://maps.google.com/?cid=1000",
    }
    assert outputs[44][1]["name"] == "Pizza In Springfield 44"
    requests = providers.requests("google_maps")
    assert [r.json() for r in requests] == [
        {"textQuery": "pizza in springfield", "pageSize": 20},
        {"textQuery": "pizza in springfield", "pageSize": 20, "pageToken": "20"},
        {"textQuery": "pizza in springfield", "pageSize": 5, "pageToken": "40"},
    ]
    assert {r.headers["x-goog-api-key"] for r in requests} == {SYSTEM_KEYS["google_maps"]}
    assert "places.websiteUri" in requests[0].headers["x-goog-fieldmask"]


def test_google_maps_stops_when_there_is_no_next_page(providers):
    providers.places = [{"id": "only", "displayName": {"text": "The One"}}]

    outputs = run(GoogleMapsSearchBlock, query="q", max_results=20)

    assert outputs == [
        (
            "place",
            {
                "name": "The One",
                "address": "",
                "phone": "",
                "rating": 0.0,
                "reviews": 0,
                "website": "",
                "place_id": "only",
                "latitude": None,
                "longitude": None,
                "google_maps_url": "",
            },
        )
    ]
    assert len(providers.requests("google_maps")) == 1


def test_a_refused_maps_key_gets_googles_hint(providers, settings):
    settings.GOOGLE_MAPS_API_KEY = REFUSED_KEY

    outputs = run(GoogleMapsSearchBlock, query="q")

    assert errors(outputs) == ["Google rejected the Maps API key. Check the key saved in your Google Maps credentials."]


def test_max_results_is_bounded_as_in_autogpt(providers):
    with pytest.raises(ValidationError, match="max_results"):
        run(GoogleMapsSearchBlock, query="q", max_results=61)

    assert providers.requests() == []


# --- Ideogram ------------------------------------------------------------------------------------
def test_ideogram_v3_generates_on_its_own_endpoint(providers):
    [(pin, url)] = run(IdeogramModelBlock, prompt="A cat", aspect_ratio="ASPECT_16_9", seed=5, negative_prompt="dogs")

    assert pin == "result" and url.startswith(f"{providers.url('ideogram')}/images/")
    (request,) = providers.requests("ideogram")
    assert (request.path, request.headers["api-key"]) == ("/v1/ideogram-v3/generate", SYSTEM_KEYS["ideogram"])
    assert request.json() == {
        "prompt": "A cat",
        "aspect_ratio": "16x9",
        "magic_prompt": "AUTO",
        "style_type": "AUTO",
        "seed": 5,
        "negative_prompt": "dogs",
    }


def test_older_ideogram_models_use_the_legacy_endpoint_with_their_palette(providers):
    [(pin, _)] = run(
        IdeogramModelBlock, prompt="A cat", ideogram_model_name="V_2", custom_color_palette=["#000030", "#FFFFFF"]
    )

    assert pin == "result"
    (request,) = providers.requests("ideogram")
    assert request.path == "/generate"
    assert request.json() == {
        "image_request": {
            "prompt": "A cat",
            "model": "V_2",
            "aspect_ratio": "ASPECT_1_1",
            "magic_prompt_option": "AUTO",
            "style_type": "AUTO",
            "color_palette": {"members": [{"color_hex": "#000030"}, {"color_hex": "#FFFFFF"}]},
        }
    }


def test_ai_upscale_sends_the_generated_image_to_the_upscaler(providers):
    [(pin, url)] = run(IdeogramModelBlock, prompt="A cat", upscale="AI Upscale", ideogram_model_name="V_1")

    assert pin == "result" and "/images/upscaled-" in url
    generate, download, upscale = providers.requests("ideogram")
    assert "style_type" not in generate.json()["image_request"]  # V_1 has none
    assert (download.method, download.path.startswith("/images/")) == ("GET", True)
    assert "api-key" not in download.headers  # the key goes to the API only
    assert (upscale.path, upscale.headers["api-key"]) == ("/upscale", SYSTEM_KEYS["ideogram"])
    assert upscale.headers["content-type"].startswith("multipart/form-data; boundary=")


def test_an_invalid_ideogram_key_fails_the_block(providers, settings):
    settings.IDEOGRAM_API_KEY = REFUSED_KEY

    outputs = run(IdeogramModelBlock, prompt="A cat")

    assert errors(outputs) == [
        "Ideogram refused the credentials (HTTP 401) while generating the image: check that the API key is valid "
        "and allowed to do this."
    ]


# --- Replicate -----------------------------------------------------------------------------------
def test_flux_creates_a_prediction_and_polls_it_until_it_succeeds(providers):
    providers.polls_to_finish = 3

    [(pin, url)] = run(ReplicateFluxAdvancedModelBlock, prompt="A lake", seed=42, output_format="png")

    (prediction,) = providers.predictions()
    assert (pin, url) == ("result", f"{providers.url('replicate')}/files/{prediction.id}.png")
    create, *polls = providers.requests("replicate")
    assert (create.method, create.path) == ("POST", "/v1/models/black-forest-labs/flux-schnell/predictions")
    assert create.json() == {
        "input": {
            "prompt": "A lake",
            "seed": 42,
            "steps": 25,
            "guidance": 3.0,
            "interval": 2.0,
            "aspect_ratio": "1:1",
            "output_format": "png",
            "output_quality": 80,
            "safety_tolerance": 2,
        }
    }
    assert [(p.method, p.path) for p in polls] == [("GET", f"/v1/predictions/{prediction.id}")] * 3
    assert {r.bearer for r in providers.requests("replicate")} == {SYSTEM_KEYS["replicate"]}


def test_flux_pro_answers_one_file_and_a_seed_is_chosen_when_none_is_given(providers):
    [(pin, url)] = run(ReplicateFluxAdvancedModelBlock, prompt="A lake", replicate_model_name="Flux Pro 1.1")

    (prediction,) = providers.predictions()
    assert (pin, url) == ("result", f"{providers.url('replicate')}/files/{prediction.id}.webp")
    assert prediction.model == "black-forest-labs/flux-1.1-pro"
    assert isinstance(prediction.input["seed"], int)


def test_a_failed_prediction_fails_the_block_with_replicates_error(providers):
    providers.prediction_error = "NSFW content detected"

    outputs = run(ReplicateFluxAdvancedModelBlock, prompt="A lake")

    assert errors(outputs) == ["Replicate prediction failed: NSFW content detected"]


def test_stopping_the_run_cancels_the_prediction(providers):
    providers.polls_to_finish = 10_000
    context = BlockContext(user_id="nobody", node_id="n")
    threading.Timer(0.3, context.cancel_event.set).start()

    with pytest.raises(ExecutionCancelled):
        run(ReplicateFluxAdvancedModelBlock, context, prompt="A lake")

    (prediction,) = providers.predictions()
    assert prediction.status == "canceled"
    assert providers.requests("replicate")[-1].path == f"/v1/predictions/{prediction.id}/cancel"


# --- YouTube -------------------------------------------------------------------------------------
def test_the_transcript_is_the_english_captions_written_by_people(providers):
    outputs = run(TranscribeYouTubeVideoBlock, youtube_url="https://www.youtube.com/watch?v=abcDEF12345&t=3")

    assert outputs == [
        ("video_id", "abcDEF12345"),
        ("transcript", "Transcript of abcDEF12345, line 1\nIt's line 2 & the last one"),
    ]
    watch, player, track = providers.requests("youtube")
    assert (watch.path, watch.query) == ("/watch", {"v": "abcDEF12345"})
    assert (player.path, player.query) == ("/youtubei/v1/player", {"key": INNERTUBE_API_KEY})
    assert player.json() == {
        "context": {"client": {"clientName": "ANDROID", "clientVersion": "20.10.38"}},
        "videoId": "abcDEF12345",
    }
    assert (track.path, track.query) == ("/api/timedtext", {"v": "abcDEF12345", "lang": "en"})


def test_an_automatic_track_is_used_when_there_is_no_other_and_consent_is_answered(providers):
    providers.youtube_consent = True
    providers.videos["auto1234567"] = Video([("en", "asr", ["said by a machine"])])

    outputs = run(TranscribeYouTubeVideoBlock, youtube_url="https://youtu.be/auto1234567")

    assert outputs == [("video_id", "auto1234567"), ("transcript", "said by a machine")]
    first, second = providers.requests("youtube")[:2]
    assert "cookie" not in first.headers
    assert second.headers["cookie"] == "CONSENT=YES+cb.20240101"


def test_no_english_transcript_names_the_ones_there_are(providers):
    providers.videos["german12345"] = Video([("de", "", ["Hallo"])])

    outputs = run(TranscribeYouTubeVideoBlock, youtube_url="https://www.youtube.com/embed/german12345")

    assert outputs == [
        ("video_id", "german12345"),
        ("error", "No transcript in en was found for video german12345. Available: de (de)."),
    ]


def test_an_unavailable_video_says_why(providers):
    providers.videos["gone1234567"] = Video([], playability="ERROR", reason="This video is unavailable")

    outputs = run(TranscribeYouTubeVideoBlock, youtube_url="https://youtube.com/watch?v=gone1234567")

    assert errors(outputs) == ["YouTube will not give the transcript of video gone1234567: This video is unavailable"]


# --- Send Email ----------------------------------------------------------------------------------
@pytest.fixture
def smtp_credential(user):
    return credential_create(
        user=user, provider="smtp", type="user_password", title="Mail", username=SMTP_USERNAME, password=SMTP_PASSWORD
    )


def email_inputs(server, credential, **extra) -> dict:
    return {
        "to_email": "ada@example.org",
        "subject": "Hello",
        "body": "Sent by an agent.",
        "config": {"smtp_server": "localhost", "smtp_port": server.port},
        "credentials": meta(credential),
        **extra,
    }


@pytest.mark.django_db
def test_send_email_logs_in_over_starttls_and_delivers(providers, integration_stand_ins, user, smtp_credential):
    smtp = integration_stand_ins.smtp
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"localhost:{smtp.port}"]):
        outputs = run_as(user, SendEmailBlock, **email_inputs(smtp, smtp_credential))

    assert outputs == [("status", "Email sent successfully")]
    (received,) = smtp.wait_for("ada@example.org")
    assert (received.login, received.sender, received.recipients) == (SMTP_USERNAME, SMTP_USERNAME, ["ada@example.org"])
    assert (received.message["From"], received.message["Subject"]) == (SMTP_USERNAME, "Hello")
    assert received.message.get_content().strip() == "Sent by an agent."


@pytest.mark.django_db
def test_a_wrong_smtp_password_fails_without_showing_it(providers, integration_stand_ins, user):
    smtp = integration_stand_ins.smtp
    wrong = credential_create(
        user=user, provider="smtp", type="user_password", title="Old", username=SMTP_USERNAME, password="wrong-pass-42"
    )
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"localhost:{smtp.port}"]):
        [(pin, message)] = run_as(user, SendEmailBlock, **email_inputs(smtp, wrong, to_email="nobody@example.org"))

    assert pin == "error"
    assert message.startswith(f"The SMTP server localhost:{smtp.port} refused the username and password of 'Old'")
    assert "wrong-pass-42" not in message
    assert smtp.messages_to("nobody@example.org") == []


@pytest.mark.django_db
def test_a_server_without_starttls_never_gets_the_password(providers, integration_stand_ins, user, smtp_credential):
    plain = integration_stand_ins.plain_smtp
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"127.0.0.1:{plain.port}"]):
        [(pin, message)] = run_as(
            user,
            SendEmailBlock,
            **email_inputs(plain, smtp_credential, config={"smtp_server": "127.0.0.1", "smtp_port": plain.port}),
        )

    assert pin == "error" and "does not offer STARTTLS" in message
    assert plain.received == []


@pytest.mark.django_db
def test_an_untrusted_certificate_is_refused(providers, integration_stand_ins, user, smtp_credential, settings):
    smtp = integration_stand_ins.smtp
    settings.SEND_EMAIL_CA_FILE = ""
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"localhost:{smtp.port}"]):
        [(pin, message)] = run_as(user, SendEmailBlock, **email_inputs(smtp, smtp_credential, to_email="x@example.org"))

    assert pin == "error" and "certificate" in message and "could not be verified" in message
    assert smtp.messages_to("x@example.org") == []


@pytest.mark.django_db
def test_an_internal_smtp_host_is_refused_before_connecting(providers, integration_stand_ins, user, smtp_credential):
    smtp = integration_stand_ins.smtp

    [(pin, message)] = run_as(user, SendEmailBlock, **email_inputs(smtp, smtp_credential, to_email="y@example.org"))

    assert pin == "error"
    assert message == (
        f"The SMTP server was refused: localhost:{smtp.port} resolves to 127.0.0.1, a loopback address; "
        "requests to it are refused."
    )
    assert smtp.messages_to("y@example.org") == []


@pytest.mark.django_db
def test_send_email_needs_an_smtp_credential(providers, user):
    [(pin, message)] = run_as(user, SendEmailBlock, to_email="a@example.org", subject="s", body="b")

    assert (pin, message) == ("error", "No credential for provider 'smtp': choose one of your credentials.")


# --- Send Authenticated Web Request --------------------------------------------------------------
@pytest.fixture
def web(integration_stand_ins):
    with override_settings(SAFE_HTTP_ALLOWED_HOSTS=integration_stand_ins.allowed_hosts):
        yield integration_stand_ins


def http_credential(user, host: str):
    return credential_create(
        user=user,
        provider="http",
        type="host_scoped",
        title="API",
        host=host,
        headers={"Authorization": "Bearer scoped-token", "X-Api-Key": "scoped-key"},
    )


@pytest.mark.django_db
def test_the_credentials_headers_go_to_its_host(web, user):
    credential = http_credential(user, f"127.0.0.1:{web.web.port}")

    [(pin, echo)] = run_as(
        user, SendAuthenticatedWebRequestBlock, url=web.web.url("/echo"), method="GET", credentials=meta(credential)
    )

    assert pin == "response"
    assert (echo["headers"]["authorization"], echo["headers"]["x-api-key"]) == ("Bearer scoped-token", "scoped-key")


@pytest.mark.django_db
def test_another_host_gets_none_of_them(web, user):
    credential = http_credential(user, f"localhost:{web.web.port}")  # the same server by another name

    [(pin, echo)] = run_as(
        user, SendAuthenticatedWebRequestBlock, url=web.web.url("/echo"), method="GET", credentials=meta(credential)
    )

    assert pin == "response"
    assert "authorization" not in echo["headers"] and "x-api-key" not in echo["headers"]


@pytest.mark.django_db
def test_the_headers_are_dropped_on_a_redirect_to_another_origin_and_kept_on_the_same(web, user):
    credential = http_credential(user, f"127.0.0.1:{web.web.port}")
    away = web.web.url(f"/redirect?to={web.other.url('/echo')}")
    same = web.web.url("/redirect?to=/echo")

    [(_, elsewhere)] = run_as(
        user, SendAuthenticatedWebRequestBlock, url=away, method="GET", credentials=meta(credential)
    )
    [(_, here)] = run_as(user, SendAuthenticatedWebRequestBlock, url=same, method="GET", credentials=meta(credential))

    assert elsewhere["path"] == "/echo" and "x-api-key" not in elsewhere["headers"]
    assert "authorization" not in elsewhere["headers"]
    assert (here["headers"]["authorization"], here["headers"]["x-api-key"]) == ("Bearer scoped-token", "scoped-key")


@pytest.mark.django_db
def test_an_http_credential_is_needed(web, user):
    [(pin, message)] = run_as(user, SendAuthenticatedWebRequestBlock, url=web.web.url("/echo"), method="GET")

    assert (pin, message) == ("error", "No credential for provider 'http': choose one of your credentials.")
