"""Persist Information and Retrieve Information on the real database: per user, per agent or
across a user's agents, outliving runs."""

import pytest

from agents.blocks import BlockContext
from agents.blocks.memory import PersistInformationBlock, RetrieveInformationBlock
from memory.models import MemoryEntry

pytestmark = pytest.mark.django_db

AGENT = "3f2b9c1e-8a47-4d6b-b1f0-5e9c2a7d4b18"
OTHER_AGENT = "9a1c7e52-3d08-4f6b-8c2e-1b5d9f0a7e63"


def run(block, user, graph_id=AGENT, **inputs):
    context = BlockContext(user_id=str(user.id), graph_exec_id="e", node_id="n", graph_id=graph_id)
    try:
        return list(block().execute(inputs, context))
    except Exception as exc:  # noqa: BLE001 - as the engine reports a failing node
        return [("error", str(exc))]


def persist(user, key, value, scope="within_agent", graph_id=AGENT):
    return run(PersistInformationBlock, user, graph_id=graph_id, key=key, value=value, scope=scope)


def retrieve(user, key, scope="within_agent", graph_id=AGENT, default_value=None):
    return run(RetrieveInformationBlock, user, graph_id=graph_id, key=key, scope=scope, default_value=default_value)


def test_a_value_persisted_is_retrieved_later_and_replaced_by_the_next(user):
    assert persist(user, "prefs", {"theme": "dark"}) == [("value", {"theme": "dark"})]
    assert retrieve(user, "prefs") == [("value", {"theme": "dark"})]

    persist(user, "prefs", {"theme": "light"})

    assert retrieve(user, "prefs") == [("value", {"theme": "light"})]
    assert MemoryEntry.objects.get().scope == f"agent#{AGENT}"


def test_within_agent_is_one_agents_and_across_agents_is_every_agent_of_the_user(user):
    persist(user, "count", 1)
    persist(user, "count", 2, scope="across_agents")

    assert retrieve(user, "count") == [("value", 1)]
    assert retrieve(user, "count", graph_id=OTHER_AGENT, default_value=0) == [("value", 0)]
    assert retrieve(user, "count", scope="across_agents", graph_id=OTHER_AGENT) == [("value", 2)]
    assert retrieve(user, "count", scope="across_agents", graph_id=None) == [("value", 2)]


def test_one_user_never_sees_anothers_values(user, other_user):
    persist(user, "secret", "mine", scope="across_agents")

    assert retrieve(other_user, "secret", scope="across_agents", default_value="nothing") == [("value", "nothing")]
    assert retrieve(other_user, "secret", default_value="nothing") == [("value", "nothing")]


def test_within_agent_outside_an_agent_is_an_error_that_says_what_to_do(user):
    [(pin, message)] = persist(user, "k", 1, graph_id=None)

    assert pin == "error" and "across_agents" in message
    assert not MemoryEntry.objects.exists()


def test_bad_keys_and_values_are_refused(user, settings):
    assert persist(user, "", 1) == [("error", "The key must not be empty.")]
    assert persist(user, "k" * 501, 1)[0][1].startswith("The key is 501 characters long")
    settings.BLOCK_OUTPUT_MAX_BYTES = 10
    [(pin, message)] = persist(user, "k", "x" * 20)
    assert pin == "error" and message.startswith("value: is 22 bytes")
    assert retrieve(user, "k") == [("value", None)]


def test_values_are_stored_as_json_reads_them_back(user):
    persist(user, "v", {"n": 1.5, "items": [1, "two", None], "nul": "a\x00b"})

    assert retrieve(user, "v") == [("value", {"n": 1.5, "items": [1, "two", None], "nul": "ab"})]
