"""Schedules fired by a real beat process (DatabaseScheduler) and run by a real worker."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from executions.models import GraphExecution, Schedule, TriggerKind
from executions.tasks import run_schedule
from tests.graphs import import_calculator, wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker", "live_beat")]


def runs_of(schedule_id) -> list[GraphExecution]:
    return list(GraphExecution.objects.filter(trigger_kind=TriggerKind.SCHEDULE, trigger_id=str(schedule_id)))


def wait_for_runs(schedule_id, count: int, timeout: float) -> list[GraphExecution]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = runs_of(schedule_id)
        if len(runs) >= count:
            return runs
        time.sleep(0.1)
    return runs_of(schedule_id)


def one_off(client, graph, seconds: float) -> dict:
    run_at = timezone.now() + timedelta(seconds=seconds)
    response = client.post(
        f"/api/v1/graphs/{graph['id']}/schedules",
        {"name": "soon", "run_at": run_at.isoformat(), "inputs": {"Input": 8}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_one_off_due_in_two_seconds_runs_once(auth_client):
    graph = import_calculator(auth_client)
    schedule = one_off(auth_client, graph, 2)

    runs = wait_for_runs(schedule["id"], 1, timeout=20)
    time.sleep(3)  # and never again

    assert len(runs_of(schedule["id"])) == 1
    detail = wait_for_status(auth_client, str(runs[0].id))
    assert detail["outputs"] == {"Output": [42.0]}
    assert detail["trigger"] == {"kind": "schedule", "id": schedule["id"]}
    stored = auth_client.get(f"/api/v1/schedules/{schedule['id']}").json()
    assert stored["status"] == "done" and stored["next_runs"] == []
    assert [e["id"] for e in stored["executions"]] == [detail["id"]]
    assert PeriodicTask.objects.get(name=f"schedule:{schedule['id']}").enabled is False


def test_a_paused_schedule_does_not_run(auth_client):
    graph = import_calculator(auth_client)
    schedule = one_off(auth_client, graph, 2)

    auth_client.patch(f"/api/v1/schedules/{schedule['id']}", {"is_paused": True}, format="json")
    time.sleep(4)

    assert runs_of(schedule["id"]) == []


def test_a_deleted_schedule_does_not_run(auth_client):
    graph = import_calculator(auth_client)
    schedule = one_off(auth_client, graph, 2)

    auth_client.delete(f"/api/v1/schedules/{schedule['id']}")
    time.sleep(4)

    assert runs_of(schedule["id"]) == []


def test_missed_runs_run_once_on_recovery_not_once_per_missed_slot(auth_client):
    """A daily schedule whose beat was away for ten days (its last run ten days ago) runs once."""
    graph = import_calculator(auth_client)
    response = auth_client.post(
        f"/api/v1/graphs/{graph['id']}/schedules",
        {"name": "daily", "cron": "0 0 * * *", "inputs": {"Input": 8}},
        format="json",
    )
    schedule = response.json()
    task = PeriodicTask.objects.get(name=f"schedule:{schedule['id']}")
    task.last_run_at = timezone.now() - timedelta(days=10)
    task.save()  # as beat left it before going away; saving tells beat the schedule changed

    wait_for_runs(schedule["id"], 1, timeout=20)
    time.sleep(4)

    assert len(runs_of(schedule["id"])) == 1
    assert Schedule.objects.get(id=schedule["id"]).status == "active"


def test_a_schedule_that_cannot_start_is_disabled_after_repeated_failures(auth_client, settings):
    graph = import_calculator(auth_client)
    schedule = auth_client.post(
        f"/api/v1/graphs/{graph['id']}/schedules",
        {"name": "yearly", "cron": "0 0 1 1 *", "inputs": {"Input": 8}},
        format="json",
    ).json()
    Schedule.objects.filter(id=schedule["id"]).update(inputs={"Input": None})  # no longer valid for the graph

    for _ in range(settings.SCHEDULE_MAX_CONSECUTIVE_FAILURES):
        run_schedule.delay(schedule["id"])  # as beat would, on the real system worker
    deadline = time.monotonic() + 20
    while Schedule.objects.get(id=schedule["id"]).status != "disabled" and time.monotonic() < deadline:
        time.sleep(0.1)

    stored = Schedule.objects.get(id=schedule["id"])
    assert (stored.status, stored.consecutive_failures) == ("disabled", settings.SCHEDULE_MAX_CONSECUTIVE_FAILURES)
    assert runs_of(schedule["id"]) == []
    assert PeriodicTask.objects.get(name=f"schedule:{schedule['id']}").enabled is False
