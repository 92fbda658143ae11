"""Flow blocks: running another of the user's agents as a step."""

from typing import Any

from .base import Block, BlockCategory, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register


@register
class AgentExecutorBlock(Block):
    """Runs another of your agents as a child execution and yields each of its outputs on a pin
    named after the output. Links into this node that are not one of its pins become the child's
    inputs of that name. Stopping the parent stops the child."""

    id = "e189baac-8c20-45a1-94a7-55177ea42565"
    name = "Agent Executor"
    categories = {BlockCategory.AGENT}
    dynamic_input_pins = True
    dynamic_output_pins = True

    class Input(BlockSchema):
        user_id: str = SchemaField("", description="Ignored: the child runs as the parent's user.", advanced=True)
        graph_id: str = SchemaField(description="The agent to run.")
        graph_version: int = SchemaField(description="Its version.")
        inputs: dict[str, Any] = SchemaField(default_factory=dict, description="The child's inputs by name.")
        input_schema: dict[str, Any] = SchemaField(
            default_factory=dict, description="The child's input schema.", advanced=True
        )
        output_schema: dict[str, Any] = SchemaField(
            default_factory=dict, description="The child's output schema.", advanced=True
        )
        agent_name: str = SchemaField("", description="The child's name, for display.", advanced=True)

    class Output(BlockOutput):
        pass

    test_cases = [
        BlockTestCase(
            {"graph_id": "g", "graph_version": 1, "inputs": {"x": 1}},
            [("result", 2), ("result", 3)],
            "yields every output of the child, by name",
            context={"run_graph": lambda graph_id, version, inputs: iter([("result", inputs["x"] + 1), ("result", 3)])},
        ),
        BlockTestCase(
            {"graph_id": "g", "graph_version": 1},
            [("error", "This block can only run inside an execution.")],
            context={"run_graph": None},
        ),
    ]

    def run(self, input_data, context):
        if context.run_graph is None:
            yield "error", "This block can only run inside an execution."
            return
        try:
            yield from context.run_graph(input_data.graph_id, input_data.graph_version, input_data.inputs)
        except LookupError as exc:
            raise BlockError(str(exc)) from exc
