from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from executions.models import ExecutionStatus, GraphExecution, NodeExecution
from executions.selectors import execution_llm_stats


class ExecuteInputSerializer(serializers.Serializer):
    inputs = serializers.DictField(required=False, default=dict)


def _seconds(start, end) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None


class NodeExecutionSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = NodeExecution
        fields = [
            "id",
            "node_id",
            "block_id",
            "status",
            "input_data",
            "output_data",
            "error",
            "queued_at",
            "started_at",
            "ended_at",
            "duration_seconds",
            "stats",
        ]

    def get_duration_seconds(self, node_exec) -> float | None:
        return _seconds(node_exec.started_at, node_exec.ended_at)


class ExecutionSummarySerializer(serializers.ModelSerializer):
    graph_version = serializers.IntegerField(source="graph_version.version")
    trigger = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = GraphExecution
        fields = [
            "id",
            "graph_id",
            "graph_version",
            "status",
            "inputs",
            "outputs",
            "error",
            "trigger",
            "parent_id",
            "created_at",
            "started_at",
            "ended_at",
            "duration_seconds",
        ]

    def get_trigger(self, graph_exec) -> dict:
        return {"kind": graph_exec.trigger_kind, "id": graph_exec.trigger_id or None}

    def get_duration_seconds(self, graph_exec) -> float | None:
        return _seconds(graph_exec.started_at, graph_exec.ended_at)


class ModelUsageSerializer(serializers.Serializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    llm_calls = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost = serializers.FloatField(help_text="Estimated, in US dollars, from list prices.")


class ExecutionStatsSerializer(serializers.Serializer):
    llm_calls = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost = serializers.FloatField(help_text="Estimated, in US dollars, from list prices.")
    by_model = ModelUsageSerializer(many=True)


class ExecutionDetailSerializer(ExecutionSummarySerializer):
    node_executions = NodeExecutionSerializer(many=True)
    totals = serializers.SerializerMethodField()
    stats = serializers.SerializerMethodField()

    class Meta(ExecutionSummarySerializer.Meta):
        fields = [*ExecutionSummarySerializer.Meta.fields, "node_executions", "totals", "stats"]

    @extend_schema_field(ExecutionStatsSerializer)
    def get_stats(self, graph_exec) -> dict:
        """Model calls of this execution's nodes: tokens and estimated cost, per provider and model."""
        return execution_llm_stats(node_executions=graph_exec.node_executions.all())

    def get_totals(self, graph_exec) -> dict:
        node_executions = list(graph_exec.node_executions.all())
        by_status = {status: 0 for status in ExecutionStatus.values}
        for node_exec in node_executions:
            by_status[node_exec.status] += 1
        return {
            "node_executions": len(node_executions),
            "by_status": by_status,
            "node_seconds": round(sum(_seconds(n.started_at, n.ended_at) or 0 for n in node_executions), 3),
        }
