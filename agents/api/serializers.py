from typing import Any

from rest_framework import serializers

from agents.blocks.base import BlockCategory
from agents.selectors import graph_input_schema, graph_output_schema
from autogpt_platform.fields import IsoDateTimeField
from autogpt_platform.pagination import WholeNumberField


class NodeInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100)
    block_id = serializers.CharField(max_length=64)
    input_default = serializers.DictField(required=False, default=dict)
    metadata = serializers.DictField(required=False, default=dict)


class LinkInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, required=False)
    source_id = serializers.CharField(max_length=100)
    source_name = serializers.CharField(max_length=200)
    sink_id = serializers.CharField(max_length=100)
    sink_name = serializers.CharField(max_length=200)
    is_static = serializers.BooleanField(required=False, default=False)


class GraphInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    instructions = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    nodes = NodeInputSerializer(many=True)
    links = LinkInputSerializer(many=True, required=False, default=list)


class GraphUpdateInputSerializer(GraphInputSerializer):
    is_active = serializers.BooleanField(required=False, default=True)


class NodeOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="node_id")
    block_id = serializers.CharField()
    input_default = serializers.DictField()
    metadata = serializers.DictField()


class LinkOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="link_id")
    source_id = serializers.CharField()
    sink_id = serializers.CharField()
    source_name = serializers.CharField()
    sink_name = serializers.CharField()
    is_static = serializers.BooleanField()


INPUT_SCHEMA_HELP = "JSON Schema of the graph's inputs (its Agent Input nodes)."
OUTPUT_SCHEMA_HELP = "JSON Schema of the graph's outputs (its Agent Output nodes)."


class GraphSchemasMixin:
    """A graph version's input and output JSON Schemas, derived from its nodes by the selectors."""

    def get_input_schema(self, graph_version) -> dict[str, Any]:
        return graph_input_schema(graph_version)

    def get_output_schema(self, graph_version) -> dict[str, Any]:
        return graph_output_schema(graph_version)


class GraphSummarySerializer(GraphSchemasMixin, serializers.Serializer):
    """A graph version without its nodes and links."""

    id = serializers.UUIDField(source="graph_id")
    version = serializers.IntegerField()
    is_active = serializers.BooleanField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = IsoDateTimeField()
    input_schema = serializers.SerializerMethodField(help_text=INPUT_SCHEMA_HELP)
    output_schema = serializers.SerializerMethodField(help_text=OUTPUT_SCHEMA_HELP)


class GraphOutputSerializer(GraphSchemasMixin, serializers.Serializer):
    """A graph version, with its nodes and links and the derived input and output schemas."""

    id = serializers.UUIDField(source="graph_id")
    version = serializers.IntegerField()
    is_active = serializers.BooleanField()
    name = serializers.CharField()
    description = serializers.CharField()
    instructions = serializers.CharField()
    created_at = IsoDateTimeField()
    nodes = NodeOutputSerializer(many=True)
    links = LinkOutputSerializer(many=True)
    input_schema = serializers.SerializerMethodField(help_text=INPUT_SCHEMA_HELP)
    output_schema = serializers.SerializerMethodField(help_text=OUTPUT_SCHEMA_HELP)


class BlockOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(help_text="What the block does.")
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=[category.value for category in BlockCategory]), source="category_names"
    )
    input_schema = serializers.DictField(source="input_json_schema", help_text="JSON Schema of the input pins.")
    output_schema = serializers.DictField(source="output_json_schema", help_text="JSON Schema of the output pins.")
    static_output = serializers.BooleanField(help_text="Every link out of the block behaves as a static link.")


class GraphVersionQuerySerializer(serializers.Serializer):
    version = WholeNumberField(
        min_value=1,
        required=False,
        blank_is_missing=False,
        help_text="A version other than the active one.",
        error_messages={key: "A version is a whole number from 1." for key in ("invalid", "min_value")},
    )


class ActiveVersionInputSerializer(serializers.Serializer):
    active_graph_version = serializers.IntegerField(min_value=1)
