from rest_framework import serializers

from agents.autogpt_format import graph_to_export
from agents.selectors import graph_input_schema, graph_output_schema
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
    id = serializers.CharField()
    block_id = serializers.CharField()
    input_default = serializers.DictField()
    metadata = serializers.DictField()


class LinkOutputSerializer(LinkInputSerializer):
    id = serializers.CharField()


class GraphSummarySerializer(serializers.Serializer):
    """A graph version without its nodes and links."""

    id = serializers.UUIDField()
    version = serializers.IntegerField()
    is_active = serializers.BooleanField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    input_schema = serializers.DictField(help_text="JSON Schema of the graph's inputs (its Agent Input nodes).")
    output_schema = serializers.DictField(help_text="JSON Schema of the graph's outputs (its Agent Output nodes).")

    def to_representation(self, graph_version):
        return {
            "id": str(graph_version.graph_id),
            "version": graph_version.version,
            "is_active": graph_version.graph.active_version == graph_version.version,
            "name": graph_version.name,
            "description": graph_version.description,
            "created_at": graph_version.created_at.isoformat(),
            "input_schema": graph_input_schema(graph_version),
            "output_schema": graph_output_schema(graph_version),
        }


class GraphOutputSerializer(GraphSummarySerializer):
    """A graph version, with its nodes and links and the derived input and output schemas."""

    instructions = serializers.CharField()
    nodes = NodeOutputSerializer(many=True)
    links = LinkOutputSerializer(many=True)

    def to_representation(self, graph_version):
        exported = graph_to_export(graph_version)
        return {
            "id": exported["id"],
            "version": exported["version"],
            "is_active": exported["is_active"],
            "name": exported["name"],
            "description": exported["description"],
            "instructions": graph_version.instructions,
            "created_at": exported["created_at"],
            "nodes": [
                {key: node[key] for key in ("id", "block_id", "input_default", "metadata")}
                for node in exported["nodes"]
            ],
            "links": exported["links"],
            "input_schema": exported["input_schema"],
            "output_schema": exported["output_schema"],
        }


class GraphVersionQuerySerializer(serializers.Serializer):
    version = WholeNumberField(
        min_value=1,
        required=False,
        help_text="A version other than the active one.",
        error_messages={key: "A version is a whole number from 1." for key in ("invalid", "min_value")},
    )


class ActiveVersionInputSerializer(serializers.Serializer):
    active_graph_version = serializers.IntegerField(min_value=1)
