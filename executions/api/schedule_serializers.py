from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from autogpt_platform.fields import IsoDateTimeField
from executions.schedules import schedule_executions, schedule_next_runs

from .serializers import ExecutionSummarySerializer

RECENT_EXECUTIONS_SHOWN = 20


class ScheduleCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    cron = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="A 5-field cron expression; or give run_at for a one-off.",
    )
    timezone = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        default=None,
        help_text="An IANA time zone; default: the user's.",
    )
    run_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Run once at this instant (ISO 8601 with an offset)."
    )
    inputs = serializers.DictField(required=False, default=dict)
    graph_version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


class ScheduleUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    is_paused = serializers.BooleanField(required=False)
    cron = serializers.CharField(max_length=120, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    run_at = serializers.DateTimeField(required=False)
    inputs = serializers.DictField(required=False)
    graph_version = serializers.IntegerField(required=False, min_value=1)


class NextRunSerializer(serializers.Serializer):
    """One instant the schedule fires."""

    local = IsoDateTimeField(source="*", help_text="In the schedule's time zone.")
    utc = IsoDateTimeField(source="*", default_timezone=UTC)


class ScheduleOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    graph_id = serializers.UUIDField()
    graph_version = serializers.IntegerField()
    cron = serializers.SerializerMethodField(help_text="null for a one-off.")
    timezone = serializers.CharField()
    run_at = IsoDateTimeField(allow_null=True)
    inputs = serializers.DictField()
    status = serializers.CharField(help_text="active, paused, done (a one-off that ran) or disabled.")
    is_paused = serializers.BooleanField()
    next_runs = serializers.SerializerMethodField()
    last_run_at = IsoDateTimeField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    created_at = IsoDateTimeField()

    def get_cron(self, schedule) -> str | None:
        return schedule.cron or None

    @extend_schema_field(NextRunSerializer(many=True))
    def get_next_runs(self, schedule):
        return NextRunSerializer(schedule_next_runs(schedule), many=True).data


class ScheduleDetailSerializer(ScheduleOutputSerializer):
    executions = serializers.SerializerMethodField(help_text=f"The latest {RECENT_EXECUTIONS_SHOWN} runs.")

    @extend_schema_field(ExecutionSummarySerializer(many=True))
    def get_executions(self, schedule):
        recent = schedule_executions(schedule)[:RECENT_EXECUTIONS_SHOWN]
        return ExecutionSummarySerializer(recent, many=True).data
