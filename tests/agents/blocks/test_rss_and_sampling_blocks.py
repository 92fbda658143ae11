"""Read RSS Feed against a real local server, through the SSRF-safe client; Data Sampling's
accumulation across runs of a node."""

import datetime
import threading
import time
from email.utils import format_datetime

import pytest

from agents.blocks import BlockContext
from agents.blocks.base import ExecutionCancelled
from agents.blocks.data_helpers import DataSamplingBlock
from agents.blocks.rss import ReadRSSFeedBlock
from autogpt_platform.redis_client import get_redis
from tests.stand_ins.static_site import StaticSite


def rss(*items: tuple[str, datetime.datetime]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>https://example.com/{title}</link>"
        f"<description>About {title}</description><author>ada@example.com (Ada)</author>"
        f"<category>News</category><pubDate>{format_datetime(published)}</pubDate><guid>{title}</guid></item>"
        for title, published in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{entries}</channel></rss>'.encode()


NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@pytest.fixture
def site():
    local = StaticSite()
    with local.allowed():
        yield local
    local.close()


def run(block, context=None, **inputs):
    outputs = []
    try:
        outputs.extend(block().execute(inputs, context or BlockContext(user_id="u", node_id="n")))
    except ExecutionCancelled:
        pass  # stopped: what was output stays
    except Exception as exc:  # noqa: BLE001 - as the engine reports a failing node
        outputs.append(("error", str(exc)))
    return outputs


def test_recent_entries_are_read_and_old_ones_left_out(site):
    site.pages["/feed"] = (
        "application/rss+xml",
        rss(("new", NOW - datetime.timedelta(minutes=5)), ("old", NOW - datetime.timedelta(days=3))),
    )

    outputs = run(ReadRSSFeedBlock, rss_url=site.url("/feed"), time_period=60, polling_rate=1, run_continuously=False)

    entry = {
        "title": "new",
        "link": "https://example.com/new",
        "description": "About new",
        "pub_date": (NOW - datetime.timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        "author": "ada@example.com (Ada)",
        "categories": ["News"],
    }
    assert outputs == [("entry", entry), ("entries", [entry])]


def test_an_atom_feed_is_read_too(site):
    published = (NOW - datetime.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    site.pages["/atom"] = (
        "application/atom+xml",
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><title>hello</title>'
        f'<link href="https://example.com/hello"/><id>urn:1</id><updated>{published}</updated>'
        f"<summary>Hi</summary></entry></feed>".encode(),
    )

    [(pin, entry), (_, entries)] = run(
        ReadRSSFeedBlock, rss_url=site.url("/atom"), polling_rate=1, run_continuously=False
    )

    assert (pin, entry["title"], entry["link"], entry["pub_date"]) == (
        "entry",
        "hello",
        "https://example.com/hello",
        published,
    )
    assert entries == [entry]


def test_what_is_not_a_feed_and_a_missing_feed_are_errors(site):
    site.pages["/page"] = ("text/html", b"<html><body><p>not a feed")

    [(pin, message)] = run(ReadRSSFeedBlock, rss_url=site.url("/page"), polling_rate=1, run_continuously=False)
    assert pin == "error" and "not an RSS or Atom feed" in message
    [(pin, message)] = run(ReadRSSFeedBlock, rss_url=site.url("/none"), polling_rate=1, run_continuously=False)
    assert (pin, message) == ("error", f"The feed at {site.url('/none')} answered 404 Not Found.")


def test_the_feed_is_fetched_only_through_the_safe_client():
    site = StaticSite({"/feed": ("application/rss+xml", rss(("x", NOW)))})
    try:
        [(pin, message)] = run(ReadRSSFeedBlock, rss_url=site.url("/feed"), polling_rate=1, run_continuously=False)
    finally:
        site.close()

    assert pin == "error" and "refused" in message
    assert site.requests == []


def test_running_continuously_outputs_each_new_entry_once_until_stopped(site):
    site.pages["/feed"] = ("application/rss+xml", rss(("first", NOW - datetime.timedelta(minutes=1))))
    context = BlockContext(user_id="u", node_id="n")
    outputs = []

    def read():
        outputs.extend(run(ReadRSSFeedBlock, context, rss_url=site.url("/feed"), polling_rate=1, run_continuously=True))

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 10
    while len(site.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    site.pages["/feed"] = ("application/rss+xml", rss(("first", NOW - datetime.timedelta(minutes=1)), ("second", NOW)))
    while len(site.requests) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    context.cancel_event.set()
    reader.join(timeout=5)

    assert not reader.is_alive()
    titles = [(pin, value["title"] if pin == "entry" else [item["title"] for item in value]) for pin, value in outputs]
    assert titles == [("entry", "first"), ("entries", ["first"]), ("entry", "second"), ("entries", ["second"])]


def test_data_sampling_accumulates_across_runs_of_a_node_until_it_has_enough():
    context = BlockContext(user_id="u", graph_exec_id="exec-accumulate", node_id="sampler")
    get_redis().delete("block:data-sampling:exec-accumulate:sampler")
    inputs = {"sample_size": 3, "sampling_method": "top", "accumulate": True}

    assert run(DataSamplingBlock, context, data=[{"i": 1}], **inputs) == []
    assert run(DataSamplingBlock, context, data={"i": 2}, **inputs) == []
    assert run(DataSamplingBlock, context, data=[{"i": 3}, {"i": 4}], **inputs) == [
        ("sampled_data", [{"i": 1}, {"i": 2}, {"i": 3}]),
        ("sample_indices", [0, 1, 2]),
    ]
    # Sampling starts the gathering over.
    assert run(DataSamplingBlock, context, data=[{"i": 5}], **inputs) == []
    other_node = BlockContext(user_id="u", graph_exec_id="exec-accumulate", node_id="other")
    assert run(
        DataSamplingBlock, other_node, data=[{"i": 9}], sample_size=1, sampling_method="top", accumulate=True
    ) == [
        ("sampled_data", [{"i": 9}]),
        ("sample_indices", [0]),
    ]
    get_redis().delete("block:data-sampling:exec-accumulate:sampler", "block:data-sampling:exec-accumulate:other")


def test_data_sampling_with_a_seed_is_repeatable():
    inputs = {"data": [[i] for i in range(50)], "sample_size": 5, "random_seed": 7}
    for method in ["random", "systematic", "reservoir"]:
        first = run(DataSamplingBlock, sampling_method=method, **inputs)
        assert first == run(DataSamplingBlock, sampling_method=method, **inputs)
        assert len(first[0][1]) == 5
