"""Server-sent events from a live server: the chat's stream endpoints, read as a browser would."""

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rest_framework_simplejwt.tokens import AccessToken

DONE = "[DONE]"


@dataclass
class Event:
    id: str | None
    data: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.data)

    @property
    def type(self) -> str:
        return DONE if self.data == DONE else self.json["type"]


@dataclass
class EventStream:
    """One request to a live server whose answer is read event by event (a socket timeout bounds
    every wait). `comments` collects the `: ...` lines seen so far."""

    server: str
    method: str
    path: str
    user: Any
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 20

    def __post_init__(self) -> None:
        host, port = self.server.split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=self.timeout)
        headers = {"Authorization": f"Bearer {AccessToken.for_user(self.user)}", **self.headers}
        payload = None
        if self.body is not None:
            payload = json.dumps(self.body)
            headers["Content-Type"] = "application/json"
        self.connection.request(self.method, self.path, body=payload, headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.comments: list[str] = []

    def header(self, name: str) -> str | None:
        return self.response.getheader(name)

    def json(self) -> dict:
        """The body of a non-streamed answer (an error)."""
        return json.loads(self.response.read() or b"null")

    def events(self) -> Iterator[Event]:
        """Events as they arrive, until [DONE] or the end of the response."""
        event_id, data = None, []
        while True:
            raw = self.response.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            if line.startswith(":"):
                self.comments.append(line)
            elif line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and data:
                event = Event(event_id, "\n".join(data))
                event_id, data = None, []
                yield event
                if event.data == DONE:
                    return

    def read_all(self) -> list[Event]:
        return list(self.events())

    def close(self) -> None:
        """Hang up, as a closed tab does."""
        self.connection.close()


def post_message(server: str, user, session_id: str, message: str, **kwargs) -> EventStream:
    return EventStream(
        server, "POST", f"/api/v1/chat/sessions/{session_id}/stream", user, {"message": message}, **kwargs
    )


def rejoin(server: str, user, session_id: str, last_event_id: str | None = None, **kwargs) -> EventStream:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    return EventStream(server, "GET", f"/api/v1/chat/sessions/{session_id}/stream", user, headers=headers, **kwargs)


def types(events: list[Event]) -> list[str]:
    return [event.type for event in events]


def text_of(events: list[Event]) -> str:
    return "".join(event.json["delta"] for event in events if event.type == "text-delta")


def request_json(server: str, user, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
    """A plain JSON request to the live server: (status, body)."""
    stream = EventStream(server, method, path, user, body)
    try:
        raw = stream.response.read()
        return stream.status, json.loads(raw) if raw else None
    finally:
        stream.close()
