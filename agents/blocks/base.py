"""The block base class.

A block has a stable UUID `id`, a `name`, a description (its docstring), categories, an `Input`
and an `Output` schema (pydantic models; their JSON Schema is served by GET /api/v1/blocks) and a
`run` that yields `(pin, value)` pairs. Every Output has an `error` pin: a block that raises, or
yields on `error`, fails its node, and the message flows along any link out of `error`.

Each block declares `test_cases`: inputs and the outputs expected, in order. One parametrised
test runs them for every registered block (tests/agents/test_blocks.py).
"""

import inspect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class BlockCategory(StrEnum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"
    BASIC = "BASIC"
    LOGIC = "LOGIC"
    TEXT = "TEXT"
    DATA = "DATA"
    AGENT = "AGENT"
    DEVELOPER_TOOLS = "DEVELOPER_TOOLS"
    AI = "AI"
    SEARCH = "SEARCH"
    MULTIMEDIA = "MULTIMEDIA"
    SOCIAL = "SOCIAL"


def SchemaField(
    default: Any = ..., *, description: str = "", advanced: bool = False, secret: bool = False, **kwargs: Any
) -> Any:
    """A pin: a pydantic Field with the extra JSON Schema keys the builder shows."""
    extra: dict[str, Any] = {"advanced": advanced, "secret": secret}
    return Field(default, description=description, json_schema_extra=extra, **kwargs)


class BlockSchema(BaseModel):
    """Input or output pins. Extra keys are ignored, as AutoGPT exports carry stale ones."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)

    @classmethod
    def required_pins(cls) -> set[str]:
        return {name for name, info in cls.model_fields.items() if info.is_required()}

    @classmethod
    def pins(cls) -> set[str]:
        return set(cls.model_fields)


class BlockOutput(BlockSchema):
    error: str = SchemaField(description="Why the block failed.")


class BlockError(Exception):
    """A block's failure with a message meant for the user."""


class ExecutionCancelled(Exception):
    """Raised inside a block when its execution is being stopped."""


@dataclass(frozen=True)
class ToolSink:
    """A link out of a node's tool pins (`tools_^_{tool}_~_{arg}`): the block and input pin it
    leads to. Smart Decision Maker builds the functions a model may call from these."""

    source_name: str
    sink_node_id: str
    sink_block_id: str
    sink_pin: str
    sink_input_default: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class BlockContext:
    """What a running block may know and do besides its inputs."""

    user_id: str | None = None
    graph_exec_id: str | None = None
    # The agent being run (None for a block run on its own): Persist Information's within_agent scope.
    graph_id: str | None = None
    node_id: str | None = None
    node_exec_id: str | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    # run_graph(graph_id, graph_version, inputs) -> Iterator[(output_name, value)]; the engine
    # provides it (Agent Executor runs a child execution through it).
    run_graph: Callable[[str, int, dict[str, Any]], Iterator[tuple[str, Any]]] | None = None
    # The node's links out of tool pins, with the blocks they lead to.
    tool_sinks: list[ToolSink] = field(default_factory=list)
    # Model calls made by the block, stored with its node execution (`stats.llm_usage`).
    llm_usage: list[dict[str, Any]] = field(default_factory=list)

    def record_llm_usage(
        self, *, provider: str, model: str, input_tokens: int, output_tokens: int, cost: float
    ) -> None:
        self.llm_usage.append(
            {
                "provider": provider,
                "model": model,
                "input_tokens": int(input_tokens),
                "output_tokens": int(output_tokens),
                "cost": float(cost),
            }
        )

    def sleep(self, seconds: float) -> None:
        """Wait, but wake up and stop at once when the execution is stopped."""
        if self.cancel_event.wait(max(0.0, seconds)):
            raise ExecutionCancelled()

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise ExecutionCancelled()


@dataclass
class BlockTestCase:
    """Inputs, and the (pin, value) pairs expected, in order. A value may be a callable that
    returns True when the actual value is acceptable (for times, random ids)."""

    input: dict[str, Any]
    output: list[tuple[str, Any]]
    description: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    # Methods of the block replaced for this case, by name (AutoGPT's test_mock): e.g. the model
    # call of an LLM block, so that its cases run without a network.
    mocks: dict[str, Callable[..., Any]] = field(default_factory=dict)


class Block:
    id: ClassVar[str]
    name: ClassVar[str]
    categories: ClassVar[set[BlockCategory]] = {BlockCategory.BASIC}
    Input: ClassVar[type[BlockSchema]]
    Output: ClassVar[type[BlockOutput]]
    # Every link out of a static-output block behaves as static (Agent Input, Store Value, ...).
    static_output: ClassVar[bool] = False
    # Note never runs.
    runs: ClassVar[bool] = True
    # Pins named at link time: links to unknown input pins become entries of the `inputs` dict,
    # and any output pin name may be linked (Agent Executor).
    dynamic_input_pins: ClassVar[bool] = False
    dynamic_output_pins: ClassVar[bool] = False
    # Linked input pins that do not hold a run back: the run starts without them, and
    # missing_inputs() decides (Smart Decision Maker's conversation loop).
    optional_linked_pins: ClassVar[frozenset[str]] = frozenset()
    # A trigger block: a webhook delivery's JSON object (the execution's `payload` input) is put
    # on this pin when the execution starts (Generic Webhook Trigger).
    webhook_payload_pin: ClassVar[str | None] = None
    test_cases: ClassVar[list[BlockTestCase]] = []

    @classmethod
    def missing_inputs(cls, input_data: dict[str, Any], linked_pins: set[str]) -> set[str]:
        """Pins a run whose linked inputs have arrived must still wait for (none by default)."""
        return set()

    @classmethod
    def description(cls) -> str:
        return " ".join((inspect.getdoc(cls) or "").split())

    def run(self, input_data: Any, context: BlockContext) -> Iterator[tuple[str, Any]]:
        raise NotImplementedError

    def execute(self, input_data: dict[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        """Validate the inputs against Input and run."""
        yield from self.run(self.Input.model_validate(input_data), context)

    @classmethod
    def category_names(cls) -> list[str]:
        return sorted(cls.categories)

    @classmethod
    def input_json_schema(cls) -> dict[str, Any]:
        return cls.Input.model_json_schema()

    @classmethod
    def output_json_schema(cls) -> dict[str, Any]:
        return cls.Output.model_json_schema()
