"""Transcribe YouTube Video: AutoGPT's block (backend/blocks/youtube.py), with its id and pins.

AutoGPT calls the youtube-transcript-api package, which scrapes www.youtube.com with its own HTTP
client and hard-coded URLs. We make the same three requests ourselves, through the SSRF-safe
client, at YOUTUBE_BASE_URL (so that tests and self-hosters can point it elsewhere):

1. `GET /watch?v=<id>`: the watch page, for its INNERTUBE_API_KEY (after YouTube's cookie consent
   page, answered as the package does, when it is shown);
2. `POST /youtubei/v1/player?key=<key>` as the Android client: the video's caption tracks;
3. `GET <the track's baseUrl>`: the transcript as timed-text XML.

As the package does by default, an English track is chosen, one written by people before an
automatic one; the transcript is the lines' text joined by newlines (its TextFormatter).
"""

import html
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import defusedxml.ElementTree as SafeElementTree

from integrations.provider_http import YOUTUBE, ProviderError

from .base import BlockCategory, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .credentials import IntegrationBlock
from .registry import register

LANGUAGES = ("en",)
INNERTUBE_CONTEXT = {"client": {"clientName": "ANDROID", "clientVersion": "20.10.38"}}
_API_KEY = re.compile(r'"INNERTUBE_API_KEY":\s*"([a-zA-Z0-9_-]+)"')
_CONSENT_VALUE = re.compile(r'name="v" value="(.*?)"')
_TAGS = re.compile(r"<[^>]*>")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")


def extract_video_id(url: str) -> str:
    """The video id of a youtube.com/watch, youtu.be, /embed/, /v/ or /shorts/ URL."""
    parsed = urlparse(url.strip())
    video_id = ""
    if parsed.netloc == "youtu.be":
        video_id = parsed.path[1:]
    elif parsed.netloc in ("www.youtube.com", "youtube.com", "m.youtube.com"):
        if parsed.path == "/watch":
            video_id = (parse_qs(parsed.query).get("v") or [""])[0]
        elif parsed.path.startswith(("/embed/", "/v/", "/shorts/")):
            video_id = parsed.path.split("/")[2]
    if not _VIDEO_ID.match(video_id):
        raise BlockError(f"Invalid YouTube URL: {url}")
    return video_id


def format_transcript(lines: list[dict[str, Any]]) -> str:
    """youtube-transcript-api's TextFormatter: each line's text, one per line."""
    return "\n".join(str(line["text"]) for line in lines)


def parse_timed_text(xml: bytes) -> list[dict[str, Any]]:
    """The lines of a timed-text document: `<transcript><text start dur>...</text>...`."""
    try:
        root = SafeElementTree.fromstring(xml)
    except SafeElementTree.ParseError:
        raise BlockError("YouTube sent a transcript that could not be read.") from None
    lines = []
    for element in root.iter("text"):
        if element.text is None:
            continue
        lines.append(
            {
                "text": _TAGS.sub("", html.unescape(element.text)),
                "start": float(element.attrib.get("start", 0)),
                "duration": float(element.attrib.get("dur", 0.0)),
            }
        )
    return lines


def _track_name(track: dict[str, Any]) -> str:
    name = track.get("name") or {}
    if "simpleText" in name:
        return str(name["simpleText"])
    return "".join(str(run.get("text", "")) for run in name.get("runs") or [])


def choose_track(tracks: list[dict[str, Any]], video_id: str) -> dict[str, Any]:
    """The first of LANGUAGES with a track, one written by people before an automatic one."""
    for language in LANGUAGES:
        for generated in (False, True):
            for track in tracks:
                if track.get("languageCode") == language and (track.get("kind") == "asr") == generated:
                    return track
    available = ", ".join(f"{t.get('languageCode')} ({_track_name(t)})" for t in tracks) or "none"
    raise BlockError(f"No transcript in {', '.join(LANGUAGES)} was found for video {video_id}. Available: {available}.")


@register
class TranscribeYouTubeVideoBlock(IntegrationBlock):
    """Outputs the id of a YouTube video and its transcript (its English captions as text)."""

    id = "f3a8f7e1-4b1d-4e5f-9f2a-7c3d5a2e6b4c"
    name = "Transcribe YouTube Video"
    categories = {BlockCategory.SOCIAL}

    class Input(BlockSchema):
        youtube_url: str = SchemaField(
            description="The URL of the YouTube video to transcribe, e.g. https://www.youtube.com/watch?v=dQw4w9WgXcQ"
        )

    class Output(BlockOutput):
        video_id: str = SchemaField(description="The extracted YouTube video ID.")
        transcript: str = SchemaField(description="The transcribed text of the video.")
        error: str = SchemaField(description="Any error message if the transcription fails.")

    test_cases = [
        BlockTestCase(
            {"youtube_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
            [("video_id", "dQw4w9WgXcQ"), ("transcript", "Never gonna give you up\nNever gonna let you down")],
            mocks={
                "get_transcript": lambda video_id: [
                    {"text": "Never gonna give you up"},
                    {"text": "Never gonna let you down"},
                ]
            },
        ),
        BlockTestCase(
            {"youtube_url": "https://youtu.be/dQw4w9WgXcQ?t=42"},
            [("video_id", "dQw4w9WgXcQ"), ("transcript", "only line")],
            description="a short link",
            mocks={"get_transcript": lambda video_id: [{"text": "only line"}]},
        ),
        BlockTestCase(
            {"youtube_url": "https://vimeo.com/12345"},
            [("error", "Invalid YouTube URL: https://vimeo.com/12345")],
            description="not a YouTube URL",
        ),
    ]

    def run(self, input_data, context):
        video_id = extract_video_id(input_data.youtube_url)
        yield "video_id", video_id
        yield "transcript", format_transcript(self.get_transcript(video_id))

    def get_transcript(self, video_id: str) -> list[dict[str, Any]]:
        """The transcript's lines ({text, start, duration}) of the chosen caption track."""
        api_key = self._innertube_api_key(video_id)
        player = self._json(
            self._request(
                "POST",
                YOUTUBE.url(f"/youtubei/v1/player?key={quote(api_key)}"),
                json={"context": INNERTUBE_CONTEXT, "videoId": video_id},
            )
        )
        playability = player.get("playabilityStatus") or {}
        if playability.get("status", "OK") != "OK":
            reason = playability.get("reason") or playability.get("status")
            raise BlockError(f"YouTube will not give the transcript of video {video_id}: {reason}")
        renderer = (player.get("captions") or {}).get("playerCaptionsTracklistRenderer") or {}
        tracks = renderer.get("captionTracks") or []
        if not tracks:
            raise BlockError(f"Subtitles are disabled for video {video_id}: it has no transcript.")
        base_url = str(choose_track(tracks, video_id).get("baseUrl", "")).replace("&fmt=srv3", "")
        # On YouTube's host (YOUTUBE_BASE_URL) the track is trusted; anywhere else the SSRF policy applies.
        track_url = base_url if base_url.startswith(("http://", "https://")) else YOUTUBE.url(base_url)
        response = self._request("GET", track_url)
        return parse_timed_text(response.content)

    def _innertube_api_key(self, video_id: str) -> str:
        watch_url = YOUTUBE.url(f"/watch?v={video_id}")
        page = self._request("GET", watch_url).text()
        if 'action="https://consent.youtube.com/s"' in page:
            consent = _CONSENT_VALUE.search(page)
            if consent is None:
                raise BlockError("YouTube asked for cookie consent in a form that could not be answered.")
            page = self._request("GET", watch_url, headers={"Cookie": f"CONSENT=YES+{consent[1]}"}).text()
        if 'class="g-recaptcha"' in page:
            raise BlockError("YouTube is asking this server to solve a CAPTCHA: too many requests from its address.")
        found = _API_KEY.search(page)
        if found is None:
            raise BlockError(f"The YouTube page of video {video_id} could not be read (no player API key in it).")
        return found[1]

    def _request(self, method: str, url: str, *, headers: dict | None = None, json: Any = None):
        try:
            response = YOUTUBE.request(method, url, headers={"Accept-Language": "en-US", **(headers or {})}, json=json)
        except ProviderError as exc:
            raise BlockError(str(exc)) from None
        if response.status == 429:
            raise BlockError("YouTube is refusing requests from this server (HTTP 429): too many requests.")
        if not response.ok:
            raise BlockError(f"YouTube answered HTTP {response.status} to {urlparse(url).path}.")
        return response

    @staticmethod
    def _json(response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise BlockError("YouTube's player API sent an answer that is not JSON.")
        return body
