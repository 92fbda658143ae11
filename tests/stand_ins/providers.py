"""Stand-ins for the integration blocks' providers on 127.0.0.1: one HTTP server per provider,
each speaking that provider's API as the blocks call it, and recording every request so that
tests assert what was sent (the API key above all).

- Jina Reader (`GET /<url>`: the page as Markdown text) and Jina Search (`GET /<query>`: results as
  text), bearer key;
- Google Places API (New) Text Search (`POST /v1/places:searchText`, X-Goog-Api-Key and
  X-Goog-FieldMask, pages of `pageSize` with `nextPageToken`);
- Ideogram (`POST /v1/ideogram-v3/generate`, `POST /generate`, multipart `POST /upscale`, and the
  images it links to under `/images/`), Api-Key header;
- Replicate (`POST /v1/models/<owner>/<name>/predictions`, `GET /v1/predictions/<id>` moving from
  starting to processing to succeeded over `polls_to_finish` polls, `POST .../cancel`);
- YouTube (`GET /watch?v=` with the INNERTUBE_API_KEY, optionally behind the cookie-consent page,
  `POST /youtubei/v1/player?key=` with the caption tracks, `GET /api/timedtext` with the XML).

A request without a key is answered as the provider answers it (401/403), and so is the key
REFUSED_KEY. `script(provider, Reply(...))` makes the next request to that provider answer as
given. `env()` is what a platform process needs to use them (base URLs and system keys).

    python -m tests.stand_ins.providers   # serve them all, for a platform started by hand
"""

import email.parser
import email.policy
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

PROVIDERS = ("jina_reader", "jina_search", "google_maps", "ideogram", "replicate", "youtube")
# The platform's keys a worker gets, as JINA_API_KEY etc. would be set in production.
SYSTEM_KEYS = {
    "jina": "jina_system_0123456789",
    "google_maps": "AIzaSystemMaps0123456789",
    "ideogram": "ideogram-system-0123456789",
    "replicate": "r8_system_0123456789",
}
REFUSED_KEY = "refused-key-0000"
INNERTUBE_API_KEY = "AIzaStandInInnertube42"
# A 1x1 transparent PNG: what the image URLs serve.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@dataclass
class Reply:
    """A scripted answer: `body` a dict or list (JSON), str or bytes."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


@dataclass
class Seen:
    provider: str
    method: str
    path: str  # without the query, percent-decoded
    raw_path: str  # as sent
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def bearer(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ").strip()


@dataclass
class Video:
    """A YouTube video: its caption tracks as (language, kind "" or "asr", lines), and whether it plays."""

    tracks: list[tuple[str, str, list[str]]]
    playability: str = "OK"
    reason: str = ""


def default_video(video_id: str) -> Video:
    lines = [f"Transcript of {video_id}, line 1", "It&#39;s line 2 &amp; the <i>last</i> one"]
    return Video([("de", "", ["Auf Deutsch"]), ("en", "asr", ["automatic"]), ("en", "", lines)])


@dataclass
class Prediction:
    id: str
    model: str
    input: dict[str, Any]
    polls: int = 0
    status: str = "starting"
    output: Any = None
    error: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, stand_ins: "ProviderStandIns", provider: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stand_ins, self.provider = stand_ins, provider


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path)
        seen = Seen(
            provider=self.server.provider,
            method=self.command,
            path=unquote(parts.path),
            raw_path=self.path,
            query=dict(parse_qsl(parts.query)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        reply = self.server.stand_ins.handle(seen)
        body = reply.body
        if isinstance(body, (dict, list)):
            raw, content_type = json.dumps(body).encode(), "application/json"
        elif isinstance(body, bytes):
            raw, content_type = body, "application/octet-stream"
        else:
            raw, content_type = str(body if body is not None else "").encode(), "text/plain; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type or content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _handle


class ProviderStandIns:
    def __init__(self):
        self._lock = threading.Lock()
        self._requests: list[Seen] = []
        self._scripted: dict[str, list[Reply]] = {name: [] for name in PROVIDERS}
        self._predictions: dict[str, Prediction] = {}
        self._servers = {name: _Server(self, name) for name in PROVIDERS}
        for name, server in self._servers.items():
            threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True, name=f"{name}-stand-in").start()
        self.reset()

    # --- set-up by tests ---
    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            for replies in self._scripted.values():
                replies.clear()
            self._predictions.clear()
        self.pages: dict[str, str] = {}  # Jina Reader: page URL -> Markdown
        self.places: list[dict[str, Any]] | None = None  # Google Maps: every place (default: made up)
        self.videos: dict[str, Video] = {}  # YouTube: id -> video (default: default_video)
        self.youtube_consent = False  # YouTube asks for cookie consent first
        self.polls_to_finish = 2  # Replicate: polls before a prediction succeeds
        self.prediction_error: str | None = None  # Replicate: predictions fail with this error

    def url(self, provider: str) -> str:
        return f"http://127.0.0.1:{self._servers[provider].server_address[1]}"

    def script(self, provider: str, *replies: Reply) -> None:
        with self._lock:
            self._scripted[provider].extend(replies)

    def requests(self, provider: str | None = None) -> list[Seen]:
        with self._lock:
            return [seen for seen in self._requests if provider is None or seen.provider == provider]

    def predictions(self) -> list[Prediction]:
        with self._lock:
            return list(self._predictions.values())

    def env(self) -> dict[str, str]:
        """The settings of a platform process that uses the stand-ins, with the system keys."""
        return {
            "JINA_READER_BASE_URL": self.url("jina_reader"),
            "JINA_SEARCH_BASE_URL": self.url("jina_search"),
            "GOOGLE_MAPS_BASE_URL": self.url("google_maps"),
            "IDEOGRAM_BASE_URL": self.url("ideogram"),
            "REPLICATE_BASE_URL": self.url("replicate"),
            "YOUTUBE_BASE_URL": self.url("youtube"),
            "JINA_API_KEY": SYSTEM_KEYS["jina"],
            "GOOGLE_MAPS_API_KEY": SYSTEM_KEYS["google_maps"],
            "IDEOGRAM_API_KEY": SYSTEM_KEYS["ideogram"],
            "REPLICATE_API_KEY": SYSTEM_KEYS["replicate"],
            "REPLICATE_POLL_SECONDS": "0.05",
        }

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    # --- serving ---
    def handle(self, seen: Seen) -> Reply:
        with self._lock:
            self._requests.append(seen)
            scripted = self._scripted[seen.provider].pop(0) if self._scripted[seen.provider] else None
        if scripted is not None:
            return scripted
        return getattr(self, f"_{seen.provider}")(seen)

    # Jina: a bearer key; the reader's path is the page's URL, the search's the query.
    def _jina_auth(self, seen: Seen) -> Reply | None:
        if not seen.bearer:
            return Reply(401, {"code": 401, "name": "AuthenticationRequiredError", "message": "No API key given"})
        if seen.bearer == REFUSED_KEY:
            return Reply(401, {"code": 401, "name": "AuthenticationFailedError", "message": "Invalid API key"})
        return None

    def _jina_reader(self, seen: Seen) -> Reply:
        if refused := self._jina_auth(seen):
            return refused
        target = seen.raw_path.lstrip("/")
        if not target.startswith(("http://", "https://")):
            return Reply(400, {"code": 400, "name": "ParamValidationError", "message": f"Invalid URL: {target}"})
        content = self.pages.get(target, f"The content of {target}.")
        return Reply(200, f"Title: {target}\n\nURL Source: {target}\n\nMarkdown Content:\n{content}\n")

    def _jina_search(self, seen: Seen) -> Reply:
        if refused := self._jina_auth(seen):
            return refused
        query = seen.path.lstrip("/")
        results = [
            f"[{n}] Title: {query} result {n}\n[{n}] URL Source: https://example.com/{n}\n"
            f"[{n}] Description: About {query}.\n[{n}] Markdown Content:\nThe page about {query}, number {n}.\n"
            for n in range(1, 6)
        ]
        return Reply(200, "\n".join(results))

    # Google Places API (New) Text Search.
    def _google_maps(self, seen: Seen) -> Reply:
        key = seen.headers.get("x-goog-api-key", "")
        if not key:
            return Reply(403, google_error(403, "PERMISSION_DENIED", "The request is missing a valid API key."))
        if key == REFUSED_KEY:
            return Reply(400, google_error(400, "INVALID_ARGUMENT", "API key not valid.", reason="API_KEY_INVALID"))
        if (seen.method, seen.path) != ("POST", "/v1/places:searchText"):
            return Reply(404, google_error(404, "NOT_FOUND", f"{seen.path} was not found."))
        if "x-goog-fieldmask" not in seen.headers:
            return Reply(400, google_error(400, "INVALID_ARGUMENT", "FieldMask is a required parameter."))
        body = seen.json()
        query, size = body.get("textQuery"), int(body.get("pageSize", 20))
        if not query or not 1 <= size <= 20:
            return Reply(400, google_error(400, "INVALID_ARGUMENT", "textQuery and a pageSize of 1 to 20 are needed."))
        places = self.places if self.places is not None else [make_place(query, n) for n in range(60)]
        start = int(body.get("pageToken") or 0)
        page: dict[str, Any] = {"places": places[start : start + size]}
        if start + size < len(places):
            page["nextPageToken"] = str(start + size)
        return Reply(200, page)

    # Ideogram.
    def _ideogram(self, seen: Seen) -> Reply:
        if seen.method == "GET" and seen.path.startswith("/images/"):
            return Reply(200, PNG, content_type="image/png")
        key = seen.headers.get("api-key", "")
        if not key or key == REFUSED_KEY:
            return Reply(401, {"detail": "Invalid API key"})
        if seen.path == "/upscale":
            return self._ideogram_upscale(seen)
        body = seen.json()
        request = body.get("image_request") if seen.path == "/generate" else body
        if seen.path not in ("/generate", "/v1/ideogram-v3/generate") or not isinstance(request, dict):
            return Reply(404, {"detail": "Not Found"})
        if not request.get("prompt"):
            return Reply(422, {"detail": "prompt: field required"})
        image = {
            "url": f"{self.url('ideogram')}/images/{secrets.token_hex(6)}.png",
            "prompt": request["prompt"],
            "resolution": "1024x1024",
            "seed": request.get("seed", 12345),
            "is_image_safe": True,
        }
        return Reply(200, {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": [image]})

    def _ideogram_upscale(self, seen: Seen) -> Reply:
        content_type = seen.headers.get("content-type", "")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + seen.body
        )
        parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        image = parts.get("image_file")
        if "image_request" not in parts or image is None or image.get_payload(decode=True) != PNG:
            return Reply(422, {"detail": "image_request and image_file (the image) are required"})
        return Reply(200, {"data": [{"url": f"{self.url('ideogram')}/images/upscaled-{secrets.token_hex(6)}.png"}]})

    # Replicate.
    def _replicate(self, seen: Seen) -> Reply:
        if not seen.bearer:
            return Reply(401, {"title": "Unauthenticated", "detail": "You did not pass an authentication token"})
        if seen.bearer == REFUSED_KEY:
            return Reply(401, {"title": "Unauthenticated", "detail": "Invalid token."})
        path = seen.path.strip("/").split("/")
        if seen.method == "POST" and len(path) == 5 and path[:2] == ["v1", "models"] and path[4] == "predictions":
            return self._replicate_create(f"{path[2]}/{path[3]}", seen)
        if len(path) >= 3 and path[:2] == ["v1", "predictions"]:
            with self._lock:
                prediction = self._predictions.get(path[2])
            if prediction is None:
                return Reply(404, {"title": "Not found", "detail": "The requested resource could not be found."})
            if seen.method == "POST" and path[3:] == ["cancel"]:
                prediction.status = "canceled"
            elif seen.method == "GET" and prediction.status not in ("succeeded", "failed", "canceled"):
                self._advance(prediction)
            return Reply(200, self._prediction_json(prediction))
        return Reply(404, {"title": "Not found", "detail": "The requested resource could not be found."})

    def _replicate_create(self, model: str, seen: Seen) -> Reply:
        if not model.startswith("black-forest-labs/flux"):
            return Reply(404, {"title": "Not found", "detail": f"Model {model} does not exist"})
        body = seen.json()
        if not isinstance(body.get("input"), dict) or not body["input"].get("prompt"):
            return Reply(422, {"title": "Input validation failed", "detail": "input.prompt is required"})
        prediction = Prediction(id=secrets.token_hex(10), model=model, input=body["input"])
        with self._lock:
            self._predictions[prediction.id] = prediction
        return Reply(201, self._prediction_json(prediction))

    def _advance(self, prediction: Prediction) -> None:
        prediction.polls += 1
        if prediction.polls < self.polls_to_finish:
            prediction.status = "processing"
        elif self.prediction_error:
            prediction.status, prediction.error = "failed", self.prediction_error
        else:
            image = f"{self.url('replicate')}/files/{prediction.id}.{prediction.input.get('output_format', 'webp')}"
            # flux-schnell answers a list of files, the Pro models one file.
            prediction.status = "succeeded"
            prediction.output = [image] if prediction.model.endswith("schnell") else image

    def _prediction_json(self, prediction: Prediction) -> dict[str, Any]:
        base = f"{self.url('replicate')}/v1/predictions/{prediction.id}"
        return {
            "id": prediction.id,
            "model": prediction.model,
            "version": "dp-0123456789abcdef",
            "input": prediction.input,
            "status": prediction.status,
            "output": prediction.output,
            "error": prediction.error,
            "urls": {"get": base, "cancel": f"{base}/cancel"},
        }

    # YouTube.
    def _youtube(self, seen: Seen) -> Reply:
        if seen.method == "GET" and seen.path == "/watch":
            return self._youtube_watch(seen)
        if seen.method == "POST" and seen.path == "/youtubei/v1/player":
            return self._youtube_player(seen)
        if seen.method == "GET" and seen.path == "/api/timedtext":
            video = self.videos.get(seen.query.get("v", "")) or default_video(seen.query.get("v", ""))
            for language, kind, lines in video.tracks:
                if (language, kind) == (seen.query.get("lang"), seen.query.get("kind", "")):
                    return Reply(200, timed_text(lines), content_type="text/xml; charset=UTF-8")
            return Reply(404, "")
        return Reply(404, "Not Found", content_type="text/html")

    def _youtube_watch(self, seen: Seen) -> Reply:
        if self.youtube_consent and "CONSENT=YES+" not in seen.headers.get("cookie", ""):
            form = '<form action="https://consent.youtube.com/s"><input type="hidden" name="v" value="cb.20240101">'
            return Reply(200, f"<html><body>{form}</form></body></html>", content_type="text/html")
        page = (
            f"<html><head><title>{seen.query.get('v')} - YouTube</title></head><body><script>"
            f'ytcfg.set({{"INNERTUBE_API_KEY": "{INNERTUBE_API_KEY}","INNERTUBE_CLIENT_VERSION":"2.2024"}});'
            "</script></body></html>"
        )
        return Reply(200, page, content_type="text/html; charset=utf-8")

    def _youtube_player(self, seen: Seen) -> Reply:
        if seen.query.get("key") != INNERTUBE_API_KEY:
            return Reply(400, {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}})
        body = seen.json()
        client = ((body.get("context") or {}).get("client") or {}).get("clientName")
        video_id = body.get("videoId", "")
        if not client or not video_id:
            return Reply(400, {"error": {"code": 400, "message": "Precondition check failed."}})
        video = self.videos.get(video_id) or default_video(video_id)
        player: dict[str, Any] = {"playabilityStatus": {"status": video.playability}}
        if video.playability != "OK":
            player["playabilityStatus"]["reason"] = video.reason
            return Reply(200, player)
        tracks = [
            {
                "baseUrl": f"{self.url('youtube')}/api/timedtext?v={video_id}&lang={language}"
                + (f"&kind={kind}" if kind else "")
                + "&fmt=srv3",
                "name": {"runs": [{"text": language + (" (auto-generated)" if kind else "")}]},
                "languageCode": language,
                **({"kind": kind} if kind else {}),
            }
            for language, kind, _lines in video.tracks
        ]
        if tracks:
            player["captions"] = {"playerCaptionsTracklistRenderer": {"captionTracks": tracks}}
        return Reply(200, player)


def google_error(code: int, status: str, message: str, reason: str = "") -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    return {"error": error}


def make_place(query: str, n: int) -> dict[str, Any]:
    return {
        "id": f"ChIJ{n:04d}StandIn",
        "displayName": {"text": f"{query.title()} {n}", "languageCode": "en"},
        "formattedAddress": f"{n} Main St, Springfield",
        "location": {"latitude": 40.0 + n / 1000, "longitude": -73.0 - n / 1000},
        "googleMapsUri": f"https://maps.google.com/?cid={1000 + n}",
        "nationalPhoneNumber": f"(555) 010-{n:04d}",
        "websiteUri": f"https://place{n}.example.com",
        "rating": 4.5,
        "userRatingCount": 10 + n,
    }


def timed_text(lines: list[str]) -> str:
    """YouTube's timed-text XML; text as YouTube sends it (entities escaped once more)."""
    texts = "".join(
        f'<text start="{2.5 * n:.2f}" dur="2.5">{html.escape(line, quote=False)}</text>' for n, line in enumerate(lines)
    )
    return f'<?xml version="1.0" encoding="utf-8" ?><transcript>{texts}</transcript>'


if __name__ == "__main__":
    stand_ins = ProviderStandIns()
    for name, value in stand_ins.env().items():
        print(f"{name}={value}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        stand_ins.stop()
