"""Generic Webhook Trigger: AutoGPT's block (backend/blocks/generic_webhook/triggers.py), with its id
and pins, bound to the platform's webhook triggers (executions/triggers.py).

A graph whose start node is this block is started by a delivery to one of its triggers
(`POST /api/v1/graphs/{id}/triggers` makes one; deliveries are HMAC-signed): the delivery's JSON
object is the execution's `payload` input, which the engine puts on this block's `payload` pin
(`webhook_payload_pin`), and the block outputs it with the node's `constants`.
"""

from typing import Any

from .base import Block, BlockCategory, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .registry import register

EXAMPLE_PAYLOAD = {"message": "Hello, World!"}


@register
class GenericWebhookTriggerBlock(Block):
    """Starts the graph when a webhook is delivered to one of the graph's triggers, and outputs
    the delivery's JSON object on `payload`, with the constants set on the node."""

    id = "8fa8c167-2002-47ce-aba8-97572fc5d387"
    name = "Generic Webhook Trigger"
    categories = {BlockCategory.INPUT}
    webhook_payload_pin = "payload"

    class Input(BlockSchema):
        payload: dict[str, Any] = SchemaField(
            default_factory=dict, description="The delivery's JSON object (set by the trigger).", advanced=True
        )
        constants: dict[str, Any] = SchemaField(
            default_factory=dict, description="The constants to be set when the block is put on the graph."
        )

    class Output(BlockOutput):
        payload: dict[str, Any] = SchemaField(
            description="The complete webhook payload that was received from the generic webhook."
        )
        constants: dict[str, Any] = SchemaField(
            description="The constants to be set when the block is put on the graph."
        )

    test_cases = [
        BlockTestCase(
            {"constants": {"key": "value"}, "payload": EXAMPLE_PAYLOAD},
            [("constants", {"key": "value"}), ("payload", EXAMPLE_PAYLOAD)],
        ),
        BlockTestCase({}, [("constants", {}), ("payload", {})], description="run by hand: nothing delivered"),
    ]

    def run(self, input_data, context):
        yield "constants", input_data.constants
        yield "payload", input_data.payload
