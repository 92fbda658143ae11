"""The schedules figure (issue 5, section 5): scheduling precision.

100 one-off schedules of a one-node graph, all due at the same second, created in-process through
executions.schedules.schedule_create (as the API does) some seconds ahead; a real beat
(DatabaseScheduler, as settings configure it) fires them, a system worker (-Q system_events) runs
run_schedule, which creates each execution, and an executor worker (-Q agent_executions) runs them.
For each: the delay from the due time to the execution's created_at (when run_schedule created it)
and to its started_at (when the engine started it), p50 and max; and whether each ran exactly once.

Where the time goes is read from the logs of beat and the system worker (INFO): when beat sent each
task, when the worker received it and how long it ran.

Set-up: its own database (dropped and created anew), its own RabbitMQ virtual host, one beat, one
system worker and one executor worker (prefork, concurrency = cores each, as the README's roles run
them), all stopped at the end.
"""

import datetime as dt
import math
import os
import re
import socket
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from agents.services import graph_create
from autogpt_platform.celery import app
from autogpt_platform.queues import CeleryQueue
from autogpt_platform.redis_client import get_redis
from executions.models import TERMINAL_STATUSES, GraphExecution, Schedule, ScheduleStatus, TriggerKind
from executions.schedules import schedule_create
from tests import processes
from tests.graphs import STORE_VALUE, node

from . import support

SCHEDULES = 100
LEAD_SECONDS = 8
WAIT_SECONDS = 60
SETTLE_SECONDS = 3  # after all ran: long enough for beat (1 s loop) to fire any of them again
AIM_SECONDS = 1.0

TERMINAL = [str(s) for s in TERMINAL_STATUSES]

LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) \w+ [\w.]+: (.*)$")
SENT = re.compile(r"Sending due task schedule:([0-9a-f-]{36}) ")
RECEIVED = re.compile(r"Task executions\.tasks\.run_schedule\[([0-9a-f-]{36})\] received")
SUCCEEDED = re.compile(
    r"Task executions\.tasks\.run_schedule\[([0-9a-f-]{36})\] succeeded in ([0-9.e-]+)s: '([0-9a-f-]{36})'"
)


def run():
    with support.Processes() as stack:
        support.use_bench_database()
        broker = support.use_bench_vhost()
        load_at_start = [round(v, 2) for v in os.getloadavg()]
        queue_at_start = support.wait_for_no_other_executor()
        system_at_start = queue_state(CeleryQueue.SYSTEM_EVENTS.value)
        if system_at_start["consumers"]:
            raise RuntimeError(f"{system_at_start['consumers']} other consumer(s) on system_events in the bench vhost")
        purged = purge_bench_queues(broker)
        user = User.objects.create_user(email="bench@example.com", password="bench-password-123", name="Bench")
        graph = graph_create(
            user=user, name="bench schedules one node", nodes=[node("store", STORE_VALUE, input="x")], links=[]
        )
        concurrency = support.cores()
        executor = stack.add(support.start_executor_worker(concurrency))
        system = stack.add(start_system_worker(concurrency))
        beat = stack.add(processes.celery_beat(name=f"bench-beat-{os.getpid()}"))
        commit_ms = support.postgres_commit_ms()
        common = {
            "machine": support.machine(),
            "beat": "celery beat, autogpt_platform.beat:HeartbeatDatabaseScheduler (django-celery-beat), "
            f"max loop interval {settings.CELERY_BEAT_MAX_LOOP_INTERVAL:g} s, log level INFO",
            "workers": f"system: celery prefork -Q system_events, concurrency {concurrency}, log level INFO; "
            f"executor: celery prefork -Q agent_executions, concurrency {concurrency}, log level WARNING",
            "broker": support.broker_description(broker),
            "load_average_1_5_15_min_at_start": load_at_start,
            "postgres_commit_ms": commit_ms,
            "at_start": {
                "agent_executions": queue_at_start,
                "system_events": system_at_start,
                "stale_messages_purged": purged,
            },
        }
        yield from support.measured_figures(
            [("schedule_due_to_start_delay", lambda: measure(user, graph, beat, system, executor))], common
        )


def queue_state(queue: str) -> dict[str, int]:
    with app.connection_for_write() as conn:
        try:
            _, messages, consumers = conn.default_channel.queue_declare(queue=queue, passive=True)
        except conn.channel_errors:
            return {"messages": 0, "consumers": 0}
    return {"messages": messages, "consumers": consumers}


def purge_bench_queues(broker: str) -> int | None:
    """Messages left in the bench's own virtual host by an earlier, interrupted run name rows of a
    database since dropped: purge them, so that the system worker starts on an empty queue. Never
    in another virtual host (a test run's queues)."""
    if urlsplit(broker).path.lstrip("/") != support.BENCH_VHOST:
        return None
    purged = 0
    for queue in (CeleryQueue.SYSTEM_EVENTS.value, CeleryQueue.AGENT_EXECUTIONS.value):
        if queue_state(queue)["messages"]:
            with app.connection_for_write() as conn:
                purged += conn.default_channel.queue_purge(queue) or 0
    return purged


def start_system_worker(concurrency: int) -> processes.PlatformProcess:
    """The system worker (-Q system_events, prefork), at INFO so that its log says when each task was
    received and how long it ran. Ready when its heartbeat appears in Redis."""
    hostname = f"bench-system-{os.getpid()}@{socket.gethostname()}"
    worker = processes.PlatformProcess(
        f"bench-system-{os.getpid()}",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "autogpt_platform",
            "worker",
            "-Q",
            CeleryQueue.SYSTEM_EVENTS.value,
            "-n",
            hostname,
            "-c",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
    )
    key = f"health:workers:{CeleryQueue.SYSTEM_EVENTS.value}"
    redis = get_redis()
    try:
        processes.wait_until(
            lambda: support._alive(worker) and redis.hexists(key, hostname),
            timeout=60,
            interval=0.1,
            message="the bench system worker's heartbeat",
        )
    except Exception:
        worker.stop()
        raise
    return worker


def log_entries(process: processes.PlatformProcess) -> list[tuple[float, str]]:
    """(unix time, message) of each line of a process's log (the `plain` format: local time, ms)."""
    entries = []
    for line in process.log().splitlines():
        match = LOG_LINE.match(line)
        if match:
            stamp = time.mktime(time.strptime(match[1], "%Y-%m-%d %H:%M:%S")) + int(match[2]) / 1000
            entries.append((stamp, match[3]))
    return entries


def ms(values: list[float], fraction: float | None = None) -> float:
    value = max(values) if fraction is None else support.percentile(values, fraction)
    return round(value * 1000, 1)


def measure(user: User, graph, beat, system, executor) -> dict[str, Any]:
    due = dt.datetime.fromtimestamp(math.ceil(time.time()) + LEAD_SECONDS, tz=dt.UTC)
    t_create = time.time()
    ids = [
        str(schedule_create(user=user, graph_id=graph.graph_id, name=f"bench one-off {i}", inputs={}, run_at=due).id)
        for i in range(SCHEDULES)
    ]
    create_seconds = time.time() - t_create
    if timezone.now() >= due:
        raise RuntimeError(f"creating {SCHEDULES} schedules took {create_seconds:.1f} s, past their due time")
    cpu_before = {
        "beat": support.process_group_cpu_seconds(beat.pid),
        "system_worker": support.process_group_cpu_seconds(system.pid),
        "executor_worker": support.process_group_cpu_seconds(executor.pid),
    }

    executions = GraphExecution.objects.filter(trigger_kind=TriggerKind.SCHEDULE, trigger_id__in=ids)
    deadline = time.monotonic() + LEAD_SECONDS + WAIT_SECONDS
    while executions.filter(status__in=TERMINAL).count() < SCHEDULES and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(SETTLE_SECONDS)
    cpu_used = {
        name: round(support.process_group_cpu_seconds(p.pid) - cpu_before[name], 2)
        if cpu_before[name] is not None
        else None
        for name, p in (("beat", beat), ("system_worker", system), ("executor_worker", executor))
    }
    rows = list(executions.values_list("trigger_id", "status", "created_at", "started_at", "ended_at"))
    runs_per_schedule = {schedule_id: 0 for schedule_id in ids}
    for row in rows:
        runs_per_schedule[row[0]] += 1
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row[1]] = statuses.get(row[1], 0) + 1
    due_ts = due.timestamp()
    to_created = [r[2].timestamp() - due_ts for r in rows]
    started = [r for r in rows if r[3] is not None]
    to_started = [r[3].timestamp() - due_ts for r in started]
    queue = [(r[3] - r[2]).total_seconds() for r in started]
    engine = [(r[4] - r[3]).total_seconds() for r in started if r[4] is not None]

    # Where the time went: beat's sends, the system worker's receipt and run time, from their logs.
    sends = [(t, SENT.search(m)[1]) for t, m in log_entries(beat) if SENT.search(m)]
    sends = [(t, sid) for t, sid in sends if sid in runs_per_schedule]
    received, succeeded = {}, {}
    for t, message in log_entries(system):
        if t < t_create:
            continue  # before the schedules existed
        if match := RECEIVED.search(message):
            received[match[1]] = t
        elif match := SUCCEEDED.search(message):
            succeeded[match[1]] = float(match[2])
    send_times = [t for t, _ in sends]
    task_seconds = list(succeeded.values())
    ran = [s for s, count in runs_per_schedule.items() if count >= 1]
    exactly_once = sum(1 for count in runs_per_schedule.values() if count == 1)
    late = [d for d in to_started if d > AIM_SECONDS]
    beat_log = [m for _, m in log_entries(beat)]
    breakdown: dict[str, Any] = {
        "beat_sends": len(sends),
        "due_to_first_send_ms": round((min(send_times) - due_ts) * 1000, 1) if sends else None,
        "due_to_last_send_ms": round((max(send_times) - due_ts) * 1000, 1) if sends else None,
        "beat_ms_per_send": round((max(send_times) - min(send_times)) * 1000 / max(1, len(sends) - 1), 2)
        if sends
        else None,
        "beat_schedule_reloads_logged": sum(1 for m in beat_log if "Schedule changed" in m),
        "system_task_ms": {"p50": ms(task_seconds, 0.5), "max": ms(task_seconds)} if task_seconds else None,
        "system_task_ms_total": round(sum(task_seconds) * 1000, 1),
        "system_first_received_ms_after_due": round((min(received.values()) - due_ts) * 1000, 1) if received else None,
        "system_tasks_logged": len(succeeded),
        "created_to_started_ms": {"p50": ms(queue, 0.5), "max": ms(queue)} if queue else None,
        "engine_run_ms": {"p50": ms(engine, 0.5), "max": ms(engine)} if engine else None,
        "log_clock_note": "beat and worker log times are wall-clock to the millisecond (same machine)",
    }
    figure: dict[str, Any] = {
        "figure": "schedule_due_to_start_delay",
        "value": {
            "due_to_started_p50": ms(to_started, 0.5) if to_started else None,
            "due_to_started_max": ms(to_started) if to_started else None,
            "due_to_created_p50": ms(to_created, 0.5) if to_created else None,
            "due_to_created_max": ms(to_created) if to_created else None,
        },
        "unit": "ms after the due time",
        "how": f"{SCHEDULES} one-off schedules (executions.schedules.schedule_create, run_at = the same whole "
        f"second, about {LEAD_SECONDS} s ahead) of a one-node graph (one Store Value node, input_default "
        "input='x'); due -> GraphExecution.created_at (run_schedule in the system worker created it) and due -> "
        f"started_at (the engine started it); waited at most {WAIT_SECONDS} s, then {SETTLE_SECONDS} s more for "
        "any second run",
        "due_at": due.isoformat(),
        "create_seconds": round(create_seconds, 2),
        "schedules": SCHEDULES,
        "ran": len(ran),
        "ran_exactly_once": exactly_once,
        "ran_more_than_once": sum(1 for count in runs_per_schedule.values() if count > 1),
        "statuses": statuses,
        "started_later_than_aim": len(late),
        "breakdown": breakdown,
        "cpu_seconds_from_creation_to_end": cpu_used,
        "aim": f"every one starts within {AIM_SECONDS:g} s of its due time",
        "meets_aim": len(started) == SCHEDULES and exactly_once == SCHEDULES and not late,
    }
    if exactly_once != SCHEDULES:
        figure["error"] = f"{exactly_once} of {SCHEDULES} schedules ran exactly once ({len(rows)} executions)"
    figure["schedule_rows_done"] = Schedule.objects.filter(id__in=ids, status=ScheduleStatus.DONE).count()
    return figure
