"""Local stand-ins for the parties notifications talk to, on 127.0.0.1: a real SMTP server
(aiosmtpd) that keeps what it receives, and one HTTP server that speaks Slack's incoming-webhook
and DingTalk's custom-robot protocols, checks each request's shape (and DingTalk's signature) the
way they do, and answers as scripted per webhook URL.

They are started once per test session, before any worker: the workers are subprocesses and read
where to send from the environment (StandIns.env).
"""

import base64
import email
import email.policy
import hashlib
import hmac
import json
import logging
import select
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from tests.processes import free_port, wait_until

HOLD_SECONDS = 30
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command


# --- SMTP ----------------------------------------------------------------------------------------
class SmtpStandIn:
    def __init__(self):
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [message for recipients, message in self.received if address in recipients]

    def wait_for(self, address: str, count: int, timeout: float = 20) -> list[email.message.EmailMessage]:
        wait_until(
            lambda: len(self.messages_to(address)) >= count, timeout=timeout, message=f"{count} email(s) to {address}"
        )
        return self.messages_to(address)

    def stop(self) -> None:
        self.controller.stop()


# --- Slack and DingTalk ----------------------------------------------------------------------------
@dataclass
class Reply:
    """A scripted answer. hold: keep the request open (until the client goes away)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.monotonic() on arrival
    problem: str | None  # what the real service would have refused, if anything

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Route:
    kind: str
    secret: str | None
    replies: list[Reply]


def dingtalk_expected_sign(secret: str, timestamp: str) -> str:
    """DingTalk's documented signature, written out here independently of the platform's code."""
    string_to_sign = f"{timestamp}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def slack_problem(seen: Seen) -> str | None:
    if seen.headers.get("content-type", "").split(";")[0] != "application/json":
        return "invalid_payload: not JSON"
    try:
        payload = seen.json()
    except ValueError:
        return "invalid_payload: not JSON"
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        return "invalid_payload: no text"
    blocks = payload.get("blocks")
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks):
        return "invalid_blocks"
    for block in blocks:
        if block["type"] == "header" and block.get("text", {}).get("type") != "plain_text":
            return "invalid_blocks: a header is plain_text"
        if block["type"] == "actions":
            for element in block.get("elements", []):
                if element.get("type") == "button" and not str(element.get("url", "")).startswith("http"):
                    return "invalid_blocks: a button url"
    return None


def dingtalk_problem(seen: Seen, secret: str | None) -> tuple[int, str] | None:
    if not seen.query.get("access_token"):
        return 300001, "token is not exist"
    if secret is not None:
        timestamp, sign = seen.query.get("timestamp", ""), seen.query.get("sign", "")
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
            return 310000, "invalid timestamp"
        if not hmac.compare_digest(sign, dingtalk_expected_sign(secret, timestamp)):
            return 310000, "sign not match"
    try:
        payload = seen.json()
        markdown = payload["markdown"]
        if payload["msgtype"] != "markdown" or not markdown["title"] or not isinstance(markdown["text"], str):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return 40035, "missing or invalid markdown message"
    return None


class WebhookStandIn:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.seen: dict[str, list[Seen]] = defaultdict(list)
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                stand_in.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True, name="webhook-stand-in").start()

    # --- set-up by tests ---
    def _route(self, kind: str, replies, secret: str | None = None) -> str:
        path = f"/{kind}/{uuid.uuid4().hex}"
        with self.lock:
            self.routes[path] = Route(kind, secret, list(replies))
        return f"http://127.0.0.1:{self.port}{path}"

    def slack(self, *replies: Reply) -> str:
        """A new Slack incoming-webhook URL answering the replies in order, then 200 "ok"."""
        return self._route("slack", replies)

    def dingtalk(self, *replies: Reply, secret: str | None = None) -> str:
        """A new DingTalk robot URL; with secret, requests must be signed with it."""
        return self._route("dingtalk", replies, secret) + f"?access_token={uuid.uuid4().hex}"

    def requests(self, url: str) -> list[Seen]:
        with self.lock:
            return list(self.seen[urlsplit(url).path])

    def wait_for(self, url: str, count: int, timeout: float = 20) -> list[Seen]:
        wait_until(lambda: len(self.requests(url)) >= count, timeout=timeout, message=f"{count} request(s) to {url}")
        return self.requests(url)

    # --- serving ---
    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        seen = Seen(
            path=parts.path,
            query={key: values[0] for key, values in parse_qs(parts.query).items()},
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            at=time.monotonic(),
            problem=None,
        )
        with self.lock:
            route = self.routes.get(parts.path)
            reply = route.replies.pop(0) if route and route.replies else None
        if route is None:
            return self._answer(request, Reply(404, "no_service"))
        if route.kind == "slack":
            seen.problem = slack_problem(seen)
            protocol_error = Reply(400, seen.problem) if seen.problem else None
            success = Reply(200, "ok")
        else:
            problem = dingtalk_problem(seen, route.secret)
            seen.problem = problem[1] if problem else None
            protocol_error = Reply(200, {"errcode": problem[0], "errmsg": problem[1]}) if problem else None
            success = Reply(200, {"errcode": 0, "errmsg": "ok"})
        with self.lock:
            self.seen[parts.path].append(seen)
        answer = protocol_error or reply or success
        if answer.hold:
            self._hold(request)
            answer = success
        self._answer(request, answer)

    @staticmethod
    def _hold(request: BaseHTTPRequestHandler) -> None:
        """Wait until the client closes the connection (its worker was killed), at most HOLD_SECONDS."""
        deadline = time.monotonic() + HOLD_SECONDS
        while time.monotonic() < deadline:
            readable, _, _ = select.select([request.connection], [], [], 0.1)
            if readable and not request.connection.recv(1, 2):  # MSG_PEEK: b"" means closed
                return

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, reply: Reply) -> None:
        body = reply.body if reply.body is not None else ""
        raw = json.dumps(body).encode() if isinstance(body, dict) else str(body).encode()
        content_type = "application/json" if isinstance(body, dict) else "text/plain"
        try:
            request.send_response(reply.status)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(raw)))
            for name, value in reply.headers.items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(raw)
        except OSError:  # the client went away
            pass

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StandIns:
    def __init__(self):
        self.smtp = SmtpStandIn()
        self.http = WebhookStandIn()

    @property
    def allowed_host(self) -> str:
        return f"127.0.0.1:{self.http.port}"

    @property
    def env(self) -> dict[str, str]:
        """What a worker needs to reach the stand-ins."""
        return {
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp.port}",
            "SAFE_HTTP_ALLOWED_HOSTS": self.allowed_host,
            "NOTIFICATION_WEBHOOK_ALLOWED_HOSTS": self.allowed_host,
        }

    def stop(self) -> None:
        self.smtp.stop()
        self.http.stop()
