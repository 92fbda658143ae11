from datetime import UTC

from rest_framework import serializers

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
    local = serializers.DateTimeField(help_text="In the schedule's time zone.")
    utc = serializers.DateTimeField()


class ScheduleOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    graph_id = serializers.UUIDField()
    graph_version = serializers.IntegerField()
    cron = serializers.CharField(allow_null=True)
    timezone = serializers.CharField()
    run_at = serializers.DateTimeField(allow_null=True)
    inputs = serializers.DictField()
    status = serializers.CharField(help_text="active, paused, done (a one-off that ran) or disabled.")
    is_paused = serializers.BooleanField()
    next_runs = NextRunSerializer(many=True)
    last_run_at = serializers.DateTimeField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def to_representation(self, schedule):
        return {
            "id": str(schedule.id),
            "name": schedule.name,
            "graph_id": str(schedule.graph_id),
            "graph_version": schedule.graph_version,
            "cron": schedule.cron or None,
            "timezone": schedule.timezone,
            "run_at": schedule.run_at.isoformat() if schedule.run_at else None,
            "inputs": schedule.inputs,
            "status": schedule.status,
            "is_paused": schedule.status == "paused",
            "next_runs": [
                {"local": run.isoformat(), "utc": run.astimezone(UTC).isoformat()}
                for run in schedule_next_runs(schedule)
            ],
            "last_run_at": schedule.last_run_at.isoformat() if schedule.last_run_at else None,
            "consecutive_failures": schedule.consecutive_failures,
            "created_at": schedule.created_at.isoformat(),
        }


class ScheduleDetailSerializer(ScheduleOutputSerializer):
    executions = ExecutionSummarySerializer(many=True, help_text=f"The latest {RECENT_EXECUTIONS_SHOWN} runs.")

    def to_representation(self, schedule):
        data = super().to_representation(schedule)
        recent = schedule_executions(schedule)[:RECENT_EXECUTIONS_SHOWN]
        data["executions"] = ExecutionSummarySerializer(recent, many=True).data
        return data
