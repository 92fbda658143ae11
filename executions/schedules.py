"""Schedules: a graph run on a cron schedule in a time zone, or once at an instant.

Each schedule is a row of ours (owner, graph, inputs, status) and a django-celery-beat
PeriodicTask that beat's DatabaseScheduler fires: with a CrontabSchedule carrying the time zone,
or a one-off ClockedSchedule. Both are created, changed and removed only here, so the Django admin
shows them and beat picks up every change without a restart.

Missed runs: when beat was down, a cron schedule runs once on recovery, not once per missed slot
(celery's crontab is due once when its last run is older than its last slot); a one-off whose
instant passed while beat was down runs once when beat comes back. Daylight saving: a wall time
that does not exist (spring forward) runs at the same instant as the hour before's wall time plus
one hour (02:30 becomes 03:30), one that exists twice (fall back) runs once, at its first occurrence.
"""

import datetime as dt
import json
import logging
import uuid
import zoneinfo
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, PeriodicTask

from accounts.models import User
from agents.selectors import graph_get_for_user
from agents.validation import validate_execution_inputs
from autogpt_platform.errors import ApplicationError, FieldError, NotFoundError
from autogpt_platform.queues import CeleryQueue
from notifications.models import NotificationType
from notifications.services import notification_create

from .models import GraphExecution, Schedule, ScheduleStatus, TriggerKind
from .services import execution_create

logger = logging.getLogger(__name__)

RUN_TASK = "executions.tasks.run_schedule"
NEXT_RUNS_SHOWN = 5
MAX_DAYS_SEARCHED = 366 * 5


# --- cron and time zones ------------------------------------------------------------------------
def parse_cron(expression: str) -> crontab:
    """A standard 5-field cron expression as celery's crontab, or FieldError naming cron."""
    fields = str(expression or "").split()
    if len(fields) != 5:
        raise FieldError("cron", f"'{expression}' is not a 5-field cron expression (minute hour day month weekday).")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        )
    except (ValueError, TypeError, IndexError) as exc:
        raise FieldError("cron", f"'{expression}' is not a valid cron expression: {exc}") from exc


def parse_timezone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise FieldError("timezone", f"'{name}' is not an IANA time zone name (such as Europe/Berlin).") from None


def next_cron_runs(
    expression: str, tz_name: str, after: dt.datetime, count: int = NEXT_RUNS_SHOWN
) -> list[dt.datetime]:
    """The next instants a cron schedule fires after `after`, with the daylight-saving rules above:
    wall times are resolved with fold=0 and the same instant is never counted twice."""
    cron, tz = parse_cron(expression), parse_timezone(tz_name)
    local_after = after.astimezone(tz)
    runs: list[dt.datetime] = []
    day = local_after.date()
    for _ in range(MAX_DAYS_SEARCHED):
        weekday = (day.isoweekday()) % 7  # cron: Sunday is 0
        if day.month in cron.month_of_year and day.day in cron.day_of_month and weekday in cron.day_of_week:
            for hour in sorted(cron.hour):
                for minute in sorted(cron.minute):
                    instant = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                    instant = instant.astimezone(dt.UTC).astimezone(tz)  # a non-existent wall time moves on
                    if instant > local_after and instant not in runs:
                        runs.append(instant)
                        if len(runs) == count:
                            return runs
        day += dt.timedelta(days=1)
    return runs


# --- reads ------------------------------------------------------------------------------------------
def schedule_list(*, user: User, graph_id: uuid.UUID | None = None) -> QuerySet[Schedule]:
    schedules = Schedule.objects.filter(user=user)
    if graph_id is not None:
        graph_get_for_user(user=user, graph_id=graph_id)  # another user's graph: 404
        schedules = schedules.filter(graph_id=graph_id)
    return schedules


def schedule_get(*, user: User, schedule_id: uuid.UUID) -> Schedule:
    schedule = Schedule.objects.filter(id=schedule_id, user=user).first()
    if schedule is None:
        raise NotFoundError("Schedule not found.")
    return schedule


def schedule_executions(schedule: Schedule) -> QuerySet[GraphExecution]:
    return GraphExecution.objects.filter(
        user_id=schedule.user_id, trigger_kind=TriggerKind.SCHEDULE, trigger_id=str(schedule.id)
    ).select_related("graph_version")


def schedule_next_runs(schedule: Schedule, count: int = NEXT_RUNS_SHOWN) -> list[dt.datetime]:
    if schedule.status != ScheduleStatus.ACTIVE:
        return []
    if schedule.run_at is not None:  # a one-off
        return (
            [schedule.run_at.astimezone(parse_timezone(schedule.timezone))] if schedule.run_at > timezone.now() else []
        )
    return next_cron_runs(schedule.cron, schedule.timezone, timezone.now(), count)


# --- writes -----------------------------------------------------------------------------------------
def _validated(*, user: User, graph_id, graph_version: int | None, inputs: Any) -> int:
    """The graph version the schedule runs; inputs checked against that version's input schema."""
    if graph_version is None:
        version = graph_get_for_user(user=user, graph_id=graph_id)
    else:
        try:
            version = graph_get_for_user(user=user, graph_id=graph_id, version=graph_version)
        except NotFoundError:
            graph_get_for_user(user=user, graph_id=graph_id)  # the graph itself must be there: else 404
            raise FieldError("graph_version", f"The graph has no version {graph_version}.") from None
    validate_execution_inputs(version, inputs)
    return version.version


def _check_run_at(run_at: dt.datetime) -> None:
    if run_at <= timezone.now():
        raise FieldError("run_at", "run_at must be in the future.")


def _beat_schedule_for(schedule: Schedule) -> dict[str, Any]:
    """The PeriodicTask fields that say when beat fires the schedule."""
    if schedule.is_one_off:
        clocked = ClockedSchedule.objects.create(clocked_time=schedule.run_at)
        return {"clocked": clocked, "crontab": None, "one_off": True}
    minute, hour, day_of_month, month_of_year, day_of_week = schedule.cron.split()
    cron, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone=schedule.timezone,
    )
    return {"crontab": cron, "clocked": None, "one_off": False}


def _sync_periodic_task(schedule: Schedule) -> None:
    """Write the schedule's PeriodicTask: beat notices the change on its next tick."""
    fields = {
        "name": f"schedule:{schedule.id}",
        "task": RUN_TASK,
        "kwargs": json.dumps({"schedule_id": str(schedule.id)}),
        "queue": CeleryQueue.SYSTEM_EVENTS.value,
        "enabled": schedule.status == ScheduleStatus.ACTIVE,
        "description": f"{schedule.name} — graph {schedule.graph_id} v{schedule.graph_version} of {schedule.user}",
        **_beat_schedule_for(schedule),
    }
    old_clocked = None
    if schedule.periodic_task is None:
        schedule.periodic_task = PeriodicTask.objects.create(**fields)
        schedule.save(update_fields=["periodic_task"])
    else:
        task = schedule.periodic_task
        old_clocked = task.clocked
        for key, value in fields.items():
            setattr(task, key, value)
        if not schedule.is_one_off:
            task.last_run_at = None  # a changed cron counts from now, not from its last run
        task.save()
    if old_clocked is not None and old_clocked != fields.get("clocked"):
        old_clocked.delete()


@transaction.atomic
def schedule_create(
    *,
    user: User,
    graph_id: uuid.UUID,
    name: str,
    inputs: dict[str, Any],
    cron: str = "",
    timezone_name: str | None = None,
    run_at: dt.datetime | None = None,
    graph_version: int | None = None,
) -> Schedule:
    """A cron schedule (cron + timezone, default the user's) or a one-off (run_at)."""
    if bool(cron) == bool(run_at):
        raise ApplicationError(
            "Give either cron (with an optional timezone) or run_at.",
            code="validation_error",
            details={"cron": ["Give either cron or run_at."], "run_at": ["Give either cron or run_at."]},
        )
    tz_name = timezone_name or user.timezone or "UTC"
    parse_timezone(tz_name)
    if cron:
        parse_cron(cron)
    elif run_at is not None:
        _check_run_at(run_at)
    version = _validated(user=user, graph_id=graph_id, graph_version=graph_version, inputs=inputs)
    schedule = Schedule.objects.create(
        user=user,
        graph_id=graph_id,
        graph_version=version,
        name=name,
        cron=" ".join(cron.split()),
        timezone=tz_name,
        run_at=run_at,
        inputs=inputs,
    )
    _sync_periodic_task(schedule)
    return schedule


@transaction.atomic
def schedule_update(*, user: User, schedule_id: uuid.UUID, **changes: Any) -> Schedule:
    """Pause or resume (`is_paused`), or change name, cron, timezone, run_at, inputs or
    graph_version. Everything is checked before anything is written."""
    schedule = Schedule.objects.select_for_update().filter(id=schedule_id, user=user).first()
    if schedule is None:
        raise NotFoundError("Schedule not found.")
    if "is_paused" in changes:
        if schedule.status == ScheduleStatus.DONE:
            raise FieldError("is_paused", "This one-off schedule has already run.")
        schedule.status = ScheduleStatus.PAUSED if changes["is_paused"] else ScheduleStatus.ACTIVE
        if not changes["is_paused"]:
            schedule.consecutive_failures = 0
    if "name" in changes:
        schedule.name = changes["name"]
    if "cron" in changes:
        if schedule.is_one_off:
            raise FieldError("cron", "A one-off schedule has run_at, not cron.")
        parse_cron(changes["cron"])
        schedule.cron = " ".join(changes["cron"].split())
    if "timezone" in changes:
        parse_timezone(changes["timezone"])
        schedule.timezone = changes["timezone"]
    if "run_at" in changes:
        if not schedule.is_one_off:
            raise FieldError("run_at", "A cron schedule has cron, not run_at.")
        _check_run_at(changes["run_at"])
        schedule.run_at = changes["run_at"]
        if schedule.status == ScheduleStatus.DONE:
            schedule.status = ScheduleStatus.ACTIVE
    if "inputs" in changes or "graph_version" in changes:
        schedule.inputs = changes.get("inputs", schedule.inputs)
        schedule.graph_version = _validated(
            user=user,
            graph_id=schedule.graph_id,
            graph_version=changes.get("graph_version", schedule.graph_version),
            inputs=schedule.inputs,
        )
    schedule.save()
    _sync_periodic_task(schedule)
    return schedule


@transaction.atomic
def schedule_delete(*, user: User, schedule_id: uuid.UUID) -> None:
    schedule_get(user=user, schedule_id=schedule_id).delete()


@receiver(post_delete, sender=Schedule)
def _delete_periodic_task(sender, instance: Schedule, **kwargs) -> None:
    """A schedule goes with its graph or user (cascade); its beat rows must go too."""
    if instance.periodic_task_id:
        task = PeriodicTask.objects.filter(id=instance.periodic_task_id).select_related("clocked").first()
        if task is not None:
            clocked = task.clocked
            task.delete()
            if clocked is not None:
                clocked.delete()


def schedule_run(*, schedule_id: uuid.UUID) -> GraphExecution | None:
    """Fired by beat: start the schedule's execution. A one-off is done afterwards; a schedule
    whose runs keep failing to start is disabled."""
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(of=("self",))
            .select_related("user", "periodic_task")
            .filter(id=schedule_id)
            .first()
        )
        if schedule is None or schedule.status != ScheduleStatus.ACTIVE:
            return None
        schedule.last_run_at = timezone.now()
        if schedule.is_one_off:
            schedule.status = ScheduleStatus.DONE
        try:
            with transaction.atomic():
                graph_exec = execution_create(
                    user=schedule.user,
                    graph_id=schedule.graph_id,
                    graph_version=schedule.graph_version,
                    inputs=schedule.inputs,
                    trigger_kind=TriggerKind.SCHEDULE,
                    trigger_id=str(schedule.id),
                )
            schedule.consecutive_failures = 0
        except ApplicationError as exc:
            graph_exec = None
            schedule.consecutive_failures += 1
            if schedule.consecutive_failures >= settings.SCHEDULE_MAX_CONSECUTIVE_FAILURES:
                schedule.status = ScheduleStatus.DISABLED
                _notify_disabled(schedule, exc.message)
        schedule.save()
        if schedule.periodic_task is not None and schedule.status == ScheduleStatus.DISABLED:
            schedule.periodic_task.enabled = False
            schedule.periodic_task.save(update_fields=["enabled"])  # save(), so that beat notices
        elif schedule.periodic_task is not None and schedule.status == ScheduleStatus.DONE:
            # Beat never fires a one-off twice; a plain UPDATE spares it reloading every schedule.
            PeriodicTask.objects.filter(pk=schedule.periodic_task_id).update(enabled=False)
    return graph_exec


def _notify_disabled(schedule: Schedule, reason: str) -> None:
    """Tell the owner, in the transaction that disables the schedule; never fails the run."""
    try:
        with transaction.atomic():
            notification_create(
                user=schedule.user,
                type=NotificationType.SCHEDULE_DISABLED,
                data={
                    "schedule_id": str(schedule.id),
                    "schedule_name": schedule.name,
                    "graph_id": str(schedule.graph_id),
                    "graph_version": schedule.graph_version,
                    "failures": schedule.consecutive_failures,
                    "reason": reason,
                },
            )
    except Exception:
        logger.exception("Could not create the notification for disabled schedule %s", schedule.id)
