"""Persist Information and Retrieve Information: a per-user key-value store that outlives runs
(memory/), scoped to one agent (`within_agent`: every run of it) or to every agent of the user
(`across_agents`), as AutoGPT scopes it."""

from typing import Any

from memory.scopes import StorageScope, scope_key
from memory.selectors import memory_get
from memory.services import memory_set

from .base import Block, BlockCategory, BlockContext, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register

MAX_KEY_LENGTH = 500
SCOPE_DESCRIPTION = (
    "'within_agent': shared by every run of this agent; 'across_agents': shared by every agent of yours."
)


def _location(key: str, scope: StorageScope, context: BlockContext) -> tuple[str, str]:
    if not context.user_id:
        raise BlockError("Information can only be kept for a user.")
    if not key:
        raise BlockError("The key must not be empty.")
    if len(key) > MAX_KEY_LENGTH:
        raise BlockError(f"The key is {len(key)} characters long; at most {MAX_KEY_LENGTH} are allowed.")
    return context.user_id, scope_key(scope=scope, graph_id=context.graph_id)


@register
class PersistInformationBlock(Block):
    """Saves a value under a key so that later runs can read it back with Retrieve Information:
    counters, last-seen state, preferences. Unlike Store Value, it outlives the run."""

    id = "1d055e55-a2b9-4547-8311-907d05b0304d"
    name = "Persist Information"
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        key: str = SchemaField(description="The key to store the value under.")
        value: Any = SchemaField(description="The value to store.")
        scope: StorageScope = SchemaField(StorageScope.WITHIN_AGENT, description=SCOPE_DESCRIPTION)

    class Output(BlockOutput):
        value: Any = SchemaField(description="The value stored.")

    test_cases = [
        BlockTestCase(
            {"key": "user_preference", "value": {"theme": "dark", "language": "en"}, "scope": "within_agent"},
            [("value", {"theme": "dark", "language": "en"})],
            "AutoGPT's case",
            context={"graph_id": "test-graph"},
            mocks={"store": lambda user_id, scope, key, value: value},
        ),
        BlockTestCase({"key": "k", "value": 1}, [("error", lambda message: "within_agent" in message)], "no agent"),
    ]

    def run(self, input_data, context):
        user_id, scope = _location(input_data.key, input_data.scope, context)
        yield "value", self.store(user_id, scope, input_data.key, input_data.value)

    def store(self, user_id: str, scope: str, key: str, value: Any) -> Any:
        return memory_set(user_id=user_id, scope=scope, key=key, value=value)


@register
class RetrieveInformationBlock(Block):
    """Reads back a value saved by Persist Information in this or an earlier run, or
    `default_value` when nothing is stored under the key."""

    id = "d8710fc9-6e29-481e-a7d5-165eb16f8471"
    name = "Retrieve Information"
    categories = {BlockCategory.DATA}
    static_output = True

    class Input(BlockSchema):
        key: str = SchemaField(description="The key to read.")
        scope: StorageScope = SchemaField(StorageScope.WITHIN_AGENT, description=SCOPE_DESCRIPTION)
        default_value: Any = SchemaField(None, description="What to output when nothing is stored under the key.")

    class Output(BlockOutput):
        value: Any = SchemaField(description="The value stored, or the default.")

    test_cases = [
        BlockTestCase(
            {"key": "user_preference", "scope": "within_agent", "default_value": {"theme": "light", "language": "en"}},
            [("value", {"theme": "light", "language": "en"})],
            "AutoGPT's case: nothing stored",
            context={"graph_id": "test-graph"},
            mocks={"retrieve": lambda user_id, scope, key: None},
        ),
        BlockTestCase(
            {"key": "count", "scope": "across_agents", "default_value": 0},
            [("value", 7)],
            mocks={"retrieve": lambda user_id, scope, key: 7 if scope == "global" else None},
        ),
    ]

    def run(self, input_data, context):
        user_id, scope = _location(input_data.key, input_data.scope, context)
        stored = self.retrieve(user_id, scope, input_data.key)
        yield "value", stored if stored is not None else input_data.default_value

    def retrieve(self, user_id: str, scope: str, key: str) -> Any:
        return memory_get(user_id=user_id, scope=scope, key=key)
