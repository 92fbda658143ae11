"""The durability issue's table, measured: 200 one-second runs submitted through REST at 20 a second,
and one service taken down mid-run and started again: RabbitMQ (a clean restart, and SIGKILL),
Redis, PostgreSQL. Everything runs on a RabbitMQ node, a redis-server and a PostgreSQL cluster of
the bench's own (tests/private_services.py), with daphne, an executor (-c 6), a system worker and
beat (tests/outages.py), so the machine's shared services are never touched.

One JSON object per outage, then the table (markdown) in a last object.
"""

import time

from tests.outages import OUTAGES, OutageFigures, OutagePlatform, run_outage
from tests.private_services import PrivateServices

from . import support

RUNS = 200
PER_SECOND = 20.0
DOWN_SECONDS = 5.0
COLUMNS = {
    "rabbitmq_restart": "RabbitMQ restart",
    "redis_restart": "Redis restart",
    "postgres_restart": "PostgreSQL restart",
    "rabbitmq_sigkill": "RabbitMQ SIGKILL",
}


def run():
    services = PrivateServices()
    platform = None
    results: list[OutageFigures] = []
    try:
        services.start()
        platform = OutagePlatform(services, name="bench-outage")
        common = {
            "machine": support.machine(),
            "runs": RUNS,
            "per_second": PER_SECOND,
            "down_seconds_asked": DOWN_SECONDS,
            "executor": "celery prefork, -Q agent_executions, concurrency 6",
        }

        def measure(outage: str):
            def figure():
                started = time.monotonic()
                result = run_outage(platform, outage, runs=RUNS, per_second=PER_SECOND, down_seconds=DOWN_SECONDS)
                results.append(result)
                return {"figure": outage, "seconds": round(time.monotonic() - started, 1), **result.as_dict()}

            return outage, figure

        yield from support.measured_figures([measure(outage) for outage in OUTAGES], common)
    finally:
        if platform is not None:
            platform.stop()
        services.stop()
    yield {"figure": "outage_table", "table": table(results)}


def table(results: list[OutageFigures]) -> str:
    """The issue's table, with the figures of this run."""

    def answers(figures: OutageFigures) -> str:
        return ", ".join(f"{count} × {status}" for status, count in sorted(figures.answers.items()))

    rows = {
        "POST answers": answers,
        "created although the POST was refused": lambda f: str(f.created_for_refused),
        "accepted (201) and never finished (lost or stuck)": lambda f: str(f.lost + f.stuck),
        "left QUEUED or RUNNING for good": lambda f: str(f.stuck),
        "lost (accepted, then gone)": lambda f: str(f.lost),
        "completed / failed": lambda f: f"{f.completed} / {f.failed}",
        "completed nodes run again": lambda f: str(f.nodes_rerun),
        "service down (s)": lambda f: f"{f.down_seconds:g}",
        "/health/ready 200 again after (s)": lambda f: str(f.ready_200_after_return_seconds),
    }
    header = "| | " + " | ".join(COLUMNS[f.outage] for f in results) + " |"
    lines = [header, "|---|" + "---|" * len(results)]
    lines += [f"| {name} | " + " | ".join(cell(f) for f in results) + " |" for name, cell in rows.items()]
    return "\n".join(lines)
