"""Graph validation when a graph is saved, and of an execution's inputs when it starts.

Every problem names where it is: `nodes.<node id>.<pin>` or `links.<index>` (or `inputs.<name>`),
so that a 400 says which node, which pin and what is wrong. All problems are reported at once.
"""

import math
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from autogpt_platform.errors import ApplicationError, FieldError
from integrations.selectors import credential_check_owned

from .blocks import Block, get_block
from .blocks.credentials import credentials_provider
from .blocks.io import AgentInputBlock, AgentOutputBlock
from .pins import base_pin, pin_type_error

# The execution input a webhook trigger's node receives: the delivery's JSON object.
WEBHOOK_PAYLOAD_INPUT = "payload"


class GraphValidationError(ApplicationError):
    code = "validation_error"
    subject = "graph"

    def __init__(self, problems: dict[str, list[str]]):
        shown = [f"{where}: {messages[0]}" for where, messages in list(problems.items())[:5]]
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"Invalid {self.subject}: " + "; ".join(shown) + more, details=problems)


class InputValidationError(GraphValidationError):
    subject = "inputs"


def contains_nul(value: Any) -> bool:
    """PostgreSQL cannot store a NUL character in JSON text."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def contains_non_finite(value: Any) -> bool:
    """JSON has no infinite or NaN numbers (PostgreSQL's json refuses them), but a body's 1e400
    parses as infinity."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(contains_non_finite(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_non_finite(item) for item in value)
    return False


def storage_problem(value: Any) -> str | None:
    """Why value cannot be stored as JSON, or None."""
    if contains_nul(value):
        return "text may not contain NUL characters"
    if contains_non_finite(value):
        return "a number is out of range (JSON numbers must be finite)"
    return None


@dataclass
class Problems:
    found: dict[str, list[str]] = field(default_factory=dict)

    def add(self, where: str, message: str) -> None:
        self.found.setdefault(where, []).append(message)

    def raise_if_any(self, error_class=GraphValidationError) -> None:
        if self.found:
            raise error_class(self.found)


def is_input_block(block: type[Block]) -> TypeGuard[type[AgentInputBlock]]:
    return issubclass(block, AgentInputBlock)


def is_output_block(block: type[Block]) -> TypeGuard[type[AgentOutputBlock]]:
    return issubclass(block, AgentOutputBlock)


def validate_graph(*, name: str, nodes: list[dict[str, Any]], links: list[dict[str, Any]], user_id: Any = None) -> None:
    """Raise GraphValidationError naming every problem of a graph body (with user_id: also every
    `credentials` pin naming a credential that user may not use)."""
    problems = Problems()
    if not str(name or "").strip():
        problems.add("name", "A graph needs a name.")
    blocks = _node_blocks(nodes, problems)
    linked_pins = _check_links(links, {str(node["id"]) for node in nodes}, blocks, problems)
    names: dict[str, dict[str, str]] = {"input": {}, "output": {}}
    for node in nodes:
        node_id = str(node["id"])
        defaults = node.get("input_default") or {}
        unstorable = _check_storable(node_id, defaults, node.get("metadata"), problems)
        block = blocks.get(node_id)
        if block is None or not block.runs:
            continue
        _check_node_inputs(node_id, block, defaults, linked_pins, problems, unstorable=unstorable)
        _check_io_name(node_id, block, defaults, names, problems)
        if user_id is not None:
            _check_credentials(node_id, block, defaults, user_id, problems)
    problems.raise_if_any()


def _check_credentials(node_id: str, block: type[Block], defaults: dict, user_id: Any, problems: Problems) -> None:
    """A `credentials` pin names a credential the user may use (their own, or a configured system one)."""
    chosen = defaults.get("credentials")
    if "credentials" not in block.Input.model_fields or not isinstance(chosen, dict):
        return
    where = f"nodes.{node_id}.credentials"
    try:
        credential_check_owned(
            user_id=user_id, credential_id=chosen.get("id"), provider=credentials_provider(block.Input), field=where
        )
    except FieldError as exc:
        problems.add(where, exc.details[where][0])


def _node_blocks(nodes: list[dict[str, Any]], problems: Problems) -> dict[str, type[Block]]:
    """Each node's block, by node id; duplicate ids and unknown blocks are problems."""
    blocks: dict[str, type[Block]] = {}
    for node in nodes:
        node_id = str(node["id"])
        where = f"nodes.{node_id}"
        if node_id in blocks:
            problems.add(where, f"Duplicate node id '{node_id}'.")
            continue
        block = get_block(str(node["block_id"]))
        if block is None:
            problems.add(f"{where}.block_id", f"Unknown block id '{node['block_id']}'.")
            continue
        blocks[node_id] = block
    return blocks


def _check_links(
    links: list[dict[str, Any]], node_ids: set[str], blocks: dict[str, type[Block]], problems: Problems
) -> set[tuple[str, str]]:
    """Check every link's ends and pins; returns the (sink node, pin) pairs that links feed."""
    linked_pins: set[tuple[str, str]] = set()
    for index, link in enumerate(links):
        where = f"links.{index}"
        source, sink = str(link["source_id"]), str(link["sink_id"])
        for end, node_id in (("source_id", source), ("sink_id", sink)):
            if node_id not in node_ids:
                problems.add(f"{where}.{end}", f"No node with id '{node_id}' in this graph.")
        source_block, sink_block = blocks.get(source), blocks.get(sink)
        if (
            source_block
            and not source_block.dynamic_output_pins
            and base_pin(link["source_name"]) not in source_block.Output.pins()
        ):
            problems.add(
                f"{where}.source_name",
                f"Node '{source}' ({source_block.name}) has no output pin '{link['source_name']}'.",
            )
        if (
            sink_block
            and not sink_block.dynamic_input_pins
            and base_pin(link["sink_name"]) not in sink_block.Input.pins()
        ):
            problems.add(
                f"{where}.sink_name", f"Node '{sink}' ({sink_block.name}) has no input pin '{link['sink_name']}'."
            )
        linked_pins.add((sink, base_pin(link["sink_name"])))
    return linked_pins


def _check_storable(node_id: str, defaults: dict, metadata: Any, problems: Problems) -> set[str]:
    """Defaults and metadata can be stored as JSON (any node's, a Note's too); returns the pins
    that cannot."""
    if problem := storage_problem(metadata):
        problems.add(f"nodes.{node_id}.metadata", f"Node '{node_id}', metadata: {problem}.")
    unstorable = set()
    for pin, value in defaults.items():
        if problem := storage_problem(value):
            problems.add(f"nodes.{node_id}.{pin}", f"Node '{node_id}', pin '{pin}': {problem}.")
            unstorable.add(pin)
    return unstorable


def _check_node_inputs(
    node_id: str,
    block: type[Block],
    defaults: dict,
    linked_pins: set[tuple[str, str]],
    problems: Problems,
    *,
    unstorable: set[str],
) -> None:
    """Required pins have a default or a link; defaults (those that can be stored) have the pin's type."""
    for pin in sorted(block.Input.required_pins()):
        if pin not in defaults and (node_id, pin) not in linked_pins:
            problems.add(
                f"nodes.{node_id}.{pin}",
                f"Node '{node_id}' ({block.name}): required input '{pin}' has neither a default nor a link.",
            )
    for pin, value in defaults.items():
        error = pin not in unstorable and pin_type_error(block.Input, pin, value)
        if error:
            problems.add(f"nodes.{node_id}.{pin}", f"Node '{node_id}' ({block.name}), pin '{pin}': {error}.")


def _check_io_name(
    node_id: str, block: type[Block], defaults: dict, names: dict[str, dict[str, str]], problems: Problems
) -> None:
    """Two Agent Input (or two Agent Output) nodes may not share a name."""
    for kind, matches in (("input", is_input_block(block)), ("output", is_output_block(block))):
        io_name = defaults.get("name")
        if not matches or not io_name:
            continue
        if io_name in names[kind]:
            problems.add(
                f"nodes.{node_id}.name",
                f"Two {kind} nodes are named '{io_name}': '{names[kind][io_name]}' and '{node_id}'.",
            )
        names[kind][io_name] = node_id


def has_webhook_trigger(graph_version) -> bool:
    """Whether a node of the graph is started by webhook deliveries (Generic Webhook Trigger)."""
    return any(
        (block := get_block(node.block_id)) is not None and block.webhook_payload_pin
        for node in graph_version.nodes.all()
    )


def validate_execution_inputs(graph_version, inputs: Any) -> None:
    """Raise GraphValidationError when inputs do not fit the graph's Agent Input nodes."""
    problems = Problems()
    if not isinstance(inputs, dict):
        problems.add("inputs", "inputs must be an object of input name to value.")
        problems.raise_if_any(InputValidationError)
    input_nodes = {}
    for node in graph_version.nodes.all():
        block = get_block(node.block_id)
        if block is not None and is_input_block(block) and node.input_default.get("name"):
            input_nodes[node.input_default["name"]] = (node, block)
    for name in inputs:
        if name == WEBHOOK_PAYLOAD_INPUT and name not in input_nodes and has_webhook_trigger(graph_version):
            if not isinstance(inputs[name], dict):
                problems.add(f"inputs.{name}", "The webhook payload is a JSON object.")
        elif name not in input_nodes:
            known = ", ".join(sorted(input_nodes)) or "none"
            problems.add(f"inputs.{name}", f"This graph has no input named '{name}' (its inputs: {known}).")
    for name, (node, block) in input_nodes.items():
        value = inputs.get(name)
        if problem := storage_problem(value):
            problems.add(f"inputs.{name}", f"Input '{name}': {problem}.")
        elif value is None:
            if node.input_default.get("value", block.Input.model_fields["value"].default) is None:
                problems.add(f"inputs.{name}", f"Input '{name}' is required.")
        elif error := pin_type_error(block.Input, "value", value):
            problems.add(f"inputs.{name}", f"Input '{name}': {error}.")
    problems.raise_if_any(InputValidationError)
