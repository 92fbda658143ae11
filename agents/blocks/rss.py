"""Read RSS Feed: a feed fetched through the SSRF-safe client and parsed with feedparser."""

import datetime
from typing import Any

import feedparser
from pydantic import BaseModel

from autogpt_platform import safe_http

from .base import Block, BlockCategory, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register

MAX_FEED_BYTES = 10 * 1024 * 1024


class RSSEntry(BaseModel):
    title: str
    link: str
    description: str
    pub_date: datetime.datetime
    author: str
    categories: list[str]


def _published(entry: dict[str, Any]) -> datetime.datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)


def _as_entry(entry: dict[str, Any], published: datetime.datetime) -> dict[str, Any]:
    return RSSEntry(
        title=entry.get("title", ""),
        link=entry.get("link", ""),
        description=entry.get("summary", ""),
        pub_date=published,
        author=entry.get("author", ""),
        categories=[tag.get("term", "") for tag in entry.get("tags", []) if tag.get("term")],
    ).model_dump(mode="json")


_EXAMPLE_FEED = {
    "entries": [
        {
            "title": "Example RSS Item",
            "link": "https://example.com/article",
            "summary": "This is an example RSS item description.",
            "published_parsed": (2023, 6, 23, 12, 30, 0, 4, 174, 0),
            "author": "John Doe",
            "tags": [{"term": "Technology"}, {"term": "News"}],
        }
    ]
}
_EXAMPLE_ENTRY = {
    "title": "Example RSS Item",
    "link": "https://example.com/article",
    "description": "This is an example RSS item description.",
    "pub_date": "2023-06-23T12:30:00Z",
    "author": "John Doe",
    "categories": ["Technology", "News"],
}


@register
class ReadRSSFeedBlock(Block):
    """Reads an RSS or Atom feed and outputs each entry published within the last `time_period`
    minutes on `entry`, then all of them on `entries`. With `run_continuously` it polls the feed
    again every `polling_rate` seconds until the run is stopped, outputting only entries it has not
    output before. Feeds on private or internal addresses are refused."""

    id = "5ebe6768-8e5d-41e3-9134-1c7bd89a8d52"
    name = "Read RSS Feed"
    categories = {BlockCategory.INPUT}

    class Input(BlockSchema):
        rss_url: str = SchemaField(description="The URL of the feed (http or https).")
        time_period: int = SchemaField(
            1440, description="How far back to look, in minutes: 60 outputs the entries of the last hour."
        )
        polling_rate: int = SchemaField(description="Seconds between two reads of the feed.", ge=0)
        run_continuously: bool = SchemaField(True, description="Keep reading the feed until the run is stopped.")

    class Output(BlockOutput):
        entry: RSSEntry = SchemaField(description="One entry of the feed.")
        entries: list[RSSEntry] = SchemaField(description="Every entry found by one read of the feed.")

    test_cases = [
        BlockTestCase(
            {
                "rss_url": "https://example.com/rss",
                "time_period": 10_000_000,
                "polling_rate": 1,
                "run_continuously": False,
            },
            [("entry", _EXAMPLE_ENTRY), ("entries", [_EXAMPLE_ENTRY])],
            "AutoGPT's case",
            mocks={"parse_feed": lambda url: _EXAMPLE_FEED},
        ),
        BlockTestCase(
            {"rss_url": "https://example.com/rss", "time_period": 60, "polling_rate": 1, "run_continuously": False},
            [("entries", [])],
            "nothing within the last hour",
            mocks={"parse_feed": lambda url: _EXAMPLE_FEED},
        ),
        BlockTestCase(
            {"rss_url": "http://127.0.0.1/feed", "polling_rate": 1, "run_continuously": False},
            [("error", lambda message: "refused" in message)],
            "loopback",
        ),
    ]

    @staticmethod
    def parse_feed(url: str) -> dict[str, Any]:
        try:
            response = safe_http.get(url, max_bytes=MAX_FEED_BYTES, headers={"Accept": "application/rss+xml, */*"})
        except safe_http.SafeHttpError as exc:
            raise BlockError(str(exc)) from exc
        if not response.ok:
            raise BlockError(f"The feed at {url} answered {response.status} {response.reason}.")
        # Parsed from the bytes fetched above: feedparser itself reaches no network.
        feed = feedparser.parse(
            response.content, response_headers={"content-type": response.headers.get("content-type", "")}
        )
        if feed.get("bozo") and not feed.get("entries"):
            raise BlockError(f"{url} is not an RSS or Atom feed: {feed.get('bozo_exception')}")
        return feed

    def run(self, input_data, context):
        since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=input_data.time_period)
        seen: set[str] = set()
        first = True
        while True:
            found = []
            for entry in self.parse_feed(input_data.rss_url)["entries"]:
                published = _published(entry)
                if published is None or published <= since:
                    continue
                item = _as_entry(entry, published)
                identity = entry.get("id") or f"{item['link']}|{item['title']}|{item['pub_date']}"
                if identity in seen:
                    continue
                seen.add(identity)
                found.append(item)
                yield "entry", item
            if found or first:
                yield "entries", found
            first = False
            if not input_data.run_continuously:
                return
            context.sleep(max(1, input_data.polling_rate))  # never a busy loop against the feed
