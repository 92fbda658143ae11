"""No run is lost through a broker, Redis or database outage.

The platform's roles (daphne, an executor, a system worker, beat) run against a RabbitMQ node, a
redis-server and a PostgreSQL cluster this module starts for itself on ports of its own
(tests/private_services.py). Each test submits 200 one-second runs through REST at 20 a second,
takes one service down mid-run (a clean stop, or SIGKILL for RabbitMQ) and starts it again
(tests/outages.py), then checks what became of every run. The figures are printed, and written to
TEST_LOG_DIR/outages.jsonl.
"""

import json

import pytest

from tests import processes
from tests.outages import OUTAGES, PROBES, OutagePlatform, run_outage
from tests.private_services import PrivateServices

RUNS = 200


@pytest.fixture(scope="module")
def outage_platform(django_db_setup):
    services = PrivateServices()
    try:
        services.start()
        platform = OutagePlatform(services)
    except Exception:
        services.stop()
        raise
    yield platform
    platform.stop()
    services.stop()


def _report(figures, capsys) -> None:
    line = json.dumps(figures.as_dict())
    processes.LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(processes.LOG_DIR / "outages.jsonl", "a") as report:
        report.write(line + "\n")
    with capsys.disabled():
        print(f"\n[outage figures] {line}")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("outage", list(OUTAGES))
def test_every_accepted_run_ends_through_an_outage(outage_platform, outage, capsys):
    figures = run_outage(outage_platform, outage, runs=RUNS)
    _report(figures, capsys)

    # Every POST was taken (201) or refused in the one shape (503), and a refused one left nothing.
    assert figures.answered_otherwise == 0, figures.answers
    assert figures.created_for_refused == 0
    if outage != "postgres_restart":
        # Broker and Redis are not needed to make a run durable: every submit is taken.
        assert figures.accepted == RUNS, figures.answers
    # No accepted run is lost or left QUEUED/RUNNING; any failure names the outage.
    assert figures.lost == 0
    assert figures.stuck == 0
    assert figures.completed + figures.failed == figures.accepted
    assert all("unreachable" in message for message in figures.failure_messages), figures.failure_messages
    # A node that completed never ran again.
    assert figures.nodes_rerun == 0
    # Readiness said so while the service was down, and recovered by itself once it was back.
    assert figures.ready_503_while_down
    assert figures.ready_200_after_return_seconds is not None and figures.ready_200_after_return_seconds <= 15
    # Runs sent after the outage are taken and complete; every role reconnected by itself.
    assert figures.accepted_after_return == PROBES
    assert figures.probes_completed == PROBES
    assert figures.roles_exited == []
