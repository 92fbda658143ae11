"""The schedules API and its rules, without beat: what is stored, validated and computed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from executions.models import Schedule
from executions.schedules import next_cron_runs
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for
from tests.graphs import AGENT_OUTPUT, create_graph, import_calculator, link, node

pytestmark = pytest.mark.django_db


def schedules_url(graph) -> str:
    return f"/api/v1/graphs/{graph['id']}/schedules"


def create(client, graph, **body):
    return client.post(schedules_url(graph), {"name": "nightly", "inputs": {"Input": 8}, **body}, format="json")


def nothing_saved():
    return Schedule.objects.count() == 0 and PeriodicTask.objects.filter(name__startswith="schedule:").count() == 0


class TestCreate:
    def test_a_cron_schedule_is_a_periodic_task_with_its_timezone_and_shows_its_next_runs(self, auth_client):
        graph = import_calculator(auth_client)

        response = create(auth_client, graph, cron="30 2 * * *", timezone="Europe/Berlin")

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["cron"], body["timezone"], body["status"], body["graph_version"]) == (
            "30 2 * * *",
            "Europe/Berlin",
            "active",
            1,
        )
        assert len(body["next_runs"]) == 5
        first = datetime.fromisoformat(body["next_runs"][0]["local"])
        assert (first.hour, first.minute) == (2, 30) or (first.hour, first.minute) == (3, 30)  # 3:30 only on DST day
        assert datetime.fromisoformat(body["next_runs"][0]["utc"]).utcoffset() == timedelta(0)
        assert datetime.fromisoformat(body["next_runs"][0]["utc"]) == first
        task = PeriodicTask.objects.get(name=f"schedule:{body['id']}")
        assert task.crontab.timezone.key == "Europe/Berlin"
        assert (task.crontab.minute, task.crontab.hour, task.enabled, task.queue) == ("30", "2", True, "system_events")
        assert task.task == "executions.tasks.run_schedule"

    def test_the_timezone_defaults_to_the_users(self, auth_client, user):
        user.timezone = "Asia/Tokyo"
        user.save()
        graph = import_calculator(auth_client)

        assert create(auth_client, graph, cron="0 9 * * 1-5").json()["timezone"] == "Asia/Tokyo"

    def test_a_one_off_is_a_clocked_one_off_task(self, auth_client):
        graph = import_calculator(auth_client)
        run_at = timezone.now() + timedelta(hours=1)

        body = create(auth_client, graph, run_at=run_at.isoformat()).json()

        task = PeriodicTask.objects.get(name=f"schedule:{body['id']}")
        assert task.one_off is True and task.clocked.clocked_time == run_at
        assert [datetime.fromisoformat(r["utc"]) for r in body["next_runs"]] == [run_at]

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"cron": "61 * * * *"}, "cron"),
            ({"cron": "* * * *"}, "cron"),
            ({"cron": "every day"}, "cron"),
            ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone"),
            ({"run_at": "2020-01-01T00:00:00Z"}, "run_at"),
            ({"run_at": "tomorrow"}, "run_at"),
            ({}, "cron"),
            ({"cron": "0 9 * * *", "inputs": {"Input": 8, "Nope": 1}}, "inputs.Nope"),
            ({"cron": "0 9 * * *", "inputs": {}}, "inputs.Input"),
            ({"cron": "0 9 * * *", "graph_version": 7}, "graph_version"),
            ({"cron": "0 9 * * *", "name": ""}, "name"),
        ],
    )
    def test_bad_input_is_400_naming_the_field_and_saves_nothing(self, auth_client, body, field):
        graph = import_calculator(auth_client)

        assert_error(create(auth_client, graph, **body), 400, field=field)
        assert nothing_saved()

    def test_an_input_of_the_wrong_type_is_400_naming_it(self, auth_client):
        number_input = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"
        graph = create_graph(
            auth_client,
            [node("n", number_input, name="count"), node("o", AGENT_OUTPUT, name="out")],
            [link("n", "result", "o", "value")],
        )

        response = auth_client.post(
            schedules_url(graph), {"name": "x", "cron": "0 9 * * *", "inputs": {"count": "many"}}, format="json"
        )

        assert_error(response, 400, field="inputs.count")
        assert nothing_saved()

    def test_another_users_graph_is_404(self, auth_client, other_user):
        graph = import_calculator(client_for(other_user))

        assert_error(create(auth_client, graph, cron="0 9 * * *"), 404)
        assert nothing_saved()


class TestChange:
    def test_pause_and_resume_switch_the_periodic_task(self, auth_client):
        graph = import_calculator(auth_client)
        schedule = create(auth_client, graph, cron="0 9 * * *").json()

        paused = auth_client.patch(f"/api/v1/schedules/{schedule['id']}", {"is_paused": True}, format="json").json()
        assert (paused["status"], paused["next_runs"]) == ("paused", [])
        assert PeriodicTask.objects.get(name=f"schedule:{schedule['id']}").enabled is False

        resumed = auth_client.patch(f"/api/v1/schedules/{schedule['id']}", {"is_paused": False}, format="json").json()
        assert resumed["status"] == "active"
        assert PeriodicTask.objects.get(name=f"schedule:{schedule['id']}").enabled is True

    def test_changing_cron_timezone_and_inputs(self, auth_client):
        graph = import_calculator(auth_client)
        schedule = create(auth_client, graph, cron="0 9 * * *").json()

        response = auth_client.patch(
            f"/api/v1/schedules/{schedule['id']}",
            {"cron": "15 18 * * 0", "timezone": "America/New_York", "inputs": {"Input": 1}},
            format="json",
        )

        assert response.status_code == 200, response.content
        task = PeriodicTask.objects.get(name=f"schedule:{schedule['id']}")
        assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("15", "18", "0")
        assert task.crontab.timezone.key == "America/New_York"
        assert Schedule.objects.get(id=schedule["id"]).inputs == {"Input": 1}

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"cron": "0 25 * * *"}, "cron"),
            ({"timezone": "Nowhere"}, "timezone"),
            ({"inputs": {"Other": "x"}}, "inputs.Other"),
            ({"graph_version": 9}, "graph_version"),
            ({"run_at": "2030-01-01T00:00:00Z"}, "run_at"),
        ],
    )
    def test_a_bad_change_is_400_and_changes_nothing(self, auth_client, change, field):
        graph = import_calculator(auth_client)
        schedule = create(auth_client, graph, cron="0 9 * * *").json()

        assert_error(auth_client.patch(f"/api/v1/schedules/{schedule['id']}", change, format="json"), 400, field=field)
        stored = Schedule.objects.get(id=schedule["id"])
        assert (stored.cron, stored.timezone, stored.inputs, stored.graph_version) == (
            "0 9 * * *",
            "UTC",
            {"Input": 8},
            1,
        )

    def test_delete_removes_the_beat_rows(self, auth_client):
        graph = import_calculator(auth_client)
        schedule = create(auth_client, graph, run_at=(timezone.now() + timedelta(hours=1)).isoformat()).json()

        assert auth_client.delete(f"/api/v1/schedules/{schedule['id']}").status_code == 204

        assert nothing_saved() and ClockedSchedule.objects.count() == 0

    def test_deleting_the_graph_or_the_user_removes_its_schedules(self, auth_client, user):
        graph = import_calculator(auth_client)
        create(auth_client, graph, cron="0 9 * * *")
        other_graph = import_calculator(auth_client)
        create(auth_client, other_graph, cron="0 10 * * *")

        assert auth_client.delete(f"/api/v1/graphs/{graph['id']}").status_code == 204
        assert PeriodicTask.objects.filter(name__startswith="schedule:").count() == 1
        user.delete()
        assert nothing_saved()

    def test_another_users_schedule_is_404(self, auth_client, other_user):
        others = client_for(other_user)
        schedule = create(others, import_calculator(others), cron="0 9 * * *").json()

        for response in (
            auth_client.get(f"/api/v1/schedules/{schedule['id']}"),
            auth_client.patch(f"/api/v1/schedules/{schedule['id']}", {"is_paused": True}, format="json"),
            auth_client.delete(f"/api/v1/schedules/{schedule['id']}"),
        ):
            assert_error(response, 404)
        assert PeriodicTask.objects.get(name=f"schedule:{schedule['id']}").enabled is True
        assert auth_client.get("/api/v1/schedules").json()["count"] == 0


class TestLists:
    def test_listing_all_and_per_graph(self, auth_client):
        first, second = import_calculator(auth_client), import_calculator(auth_client)
        create(auth_client, first, cron="0 9 * * *")
        create(auth_client, second, cron="0 10 * * *")

        assert auth_client.get("/api/v1/schedules").json()["count"] == 2
        per_graph = auth_client.get(schedules_url(first)).json()["results"]
        assert [s["graph_id"] for s in per_graph] == [first["id"]]


class TestDaylightSaving:
    """Both transitions, through the schedule beat actually fires (django-celery-beat's crontab
    with the schedule's time zone, driven by a controlled clock) and through next_runs."""

    def fired(self, task: PeriodicTask, start: datetime, hours: int) -> list[datetime]:
        schedule = task.schedule
        now = [start]
        schedule.nowfun = lambda: now[0].astimezone(schedule.tz)
        last, runs = start.astimezone(schedule.tz), []
        while now[0] < start + timedelta(hours=hours):
            due, _ = schedule.is_due(last)
            if due:
                last = now[0].astimezone(schedule.tz)
                runs.append(now[0])
            now[0] += timedelta(seconds=30)
        return runs

    @pytest.mark.parametrize(
        "start, expected_local",
        [
            # spring forward, 29 March 2026: 02:00 -> 03:00, so 02:30 does not exist that day
            (
                datetime(2026, 3, 27, 12, tzinfo=UTC),
                ["2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"],
            ),
            # fall back, 25 October 2026: 03:00 -> 02:00, so 02:30 happens twice that day
            (
                datetime(2026, 10, 23, 12, tzinfo=UTC),
                ["2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
            ),
        ],
    )
    def test_a_daily_run_is_neither_skipped_nor_doubled(self, auth_client, start, expected_local):
        graph = import_calculator(auth_client)
        body = create(auth_client, graph, cron="30 2 * * *", timezone="Europe/Berlin").json()
        task = PeriodicTask.objects.get(name=f"schedule:{body['id']}")

        fired = self.fired(task, start, hours=72)
        shown = next_cron_runs("30 2 * * *", "Europe/Berlin", start, count=3)

        assert [run.astimezone(task.schedule.tz).isoformat() for run in fired] == expected_local
        assert [run.isoformat() for run in shown] == expected_local
