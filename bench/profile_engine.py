"""Where an execution's time goes, in one process: not part of `make bench` (its name does not start
with bench_). Run it as

    DJANGO_SETTINGS_MODULE=autogpt_platform.settings.test .venv/bin/python -m bench.profile_engine

It uses a database of its own (<bench database>_profile, dropped and created anew) and no worker: the
Celery publish of execute_graph is replaced by a list, and the engine (run_graph_execution) runs here,
under cProfile and with every SQL statement counted. It prints, for the submit request (DRF in-process,
no daphne), a one-node execution and a 100-node chain: ms each, SQL statements each, and the top
functions by cumulative and by own time.
"""

import cProfile
import io
import json
import pstats
import sys
import time
from collections import Counter
from unittest import mock

import django
from django.db import connection
from django.test.utils import CaptureQueriesContext


def top(profile: cProfile.Profile, sort: str, limit: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    return out.getvalue()


def query_kinds(queries: list[dict]) -> dict[str, int]:
    return dict(Counter(q["sql"].split()[0].upper() for q in queries).most_common())


def main() -> int:
    django.setup()
    # A script run on its own: models can be imported only once Django is set up.
    from rest_framework.test import APIClient  # noqa: PLC0415
    from rest_framework_simplejwt.tokens import AccessToken  # noqa: PLC0415

    from accounts.models import User  # noqa: PLC0415
    from executions.engine import run_graph_execution  # noqa: PLC0415
    from executions.models import GraphExecution  # noqa: PLC0415
    from tests.graphs import STORE_VALUE, link, node  # noqa: PLC0415

    from . import support  # noqa: PLC0415

    support.use_bench_database(support.BENCH_DATABASE + "_profile")
    user = User.objects.create_user(email="profile@example.com", password="bench-password-123")
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    queued: list[str] = []

    def create(nodes, links):
        response = client.post("/api/v1/graphs", {"name": "p", "nodes": nodes, "links": links}, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    def submit(graph):
        response = client.post(
            f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": {}}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    one = create([node("store", STORE_VALUE, input="x")], [])
    chain = create(
        [node(f"s{i}", STORE_VALUE, **({"input": 1} if i == 0 else {})) for i in range(100)],
        [link(f"s{i}", "output", f"s{i + 1}", "input") for i in range(99)],
    )
    report = {}
    with mock.patch("executions.tasks.execute_graph.delay", side_effect=lambda exec_id: queued.append(exec_id)):
        for _ in range(5):  # warm-up
            run_graph_execution(submit(one))

        # The submit request, in-process (DRF + Django, no ASGI server, no broker publish).
        n = 200
        profile = cProfile.Profile()
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            profile.enable()
            ids = [submit(one) for _ in range(n)]
            profile.disable()
            elapsed = time.perf_counter() - t0
        report["submit"] = {
            "ms_each": round(elapsed * 1000 / n, 3),
            "sql_each": len(queries) / n,
            "sql_kinds_total": query_kinds(queries.captured_queries),
        }
        submit_profile = profile

        # One-node executions, the engine in this process.
        profile = cProfile.Profile()
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            profile.enable()
            for exec_id in ids:
                run_graph_execution(exec_id, worker="profile")
            profile.disable()
            elapsed = time.perf_counter() - t0
        assert GraphExecution.objects.filter(id__in=ids, status="COMPLETED").count() == n
        report["one_node_execution"] = {
            "ms_each": round(elapsed * 1000 / n, 3),
            "sql_each": len(queries) / n,
            "sql_kinds_total": query_kinds(queries.captured_queries),
        }
        one_profile = profile

        # The 100-node chain.
        runs = 3
        chain_ids = [submit(chain) for _ in range(runs + 1)]
        run_graph_execution(chain_ids.pop(), worker="profile")  # warm-up: graph spec cache
        profile = cProfile.Profile()
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            profile.enable()
            for exec_id in chain_ids:
                run_graph_execution(exec_id, worker="profile")
            profile.disable()
            elapsed = time.perf_counter() - t0
        report["chain_100"] = {
            "ms_per_node": round(elapsed * 1000 / (100 * runs), 3),
            "sql_per_node": len(queries) / (100 * runs),
            "sql_kinds_total": query_kinds(queries.captured_queries),
        }
        chain_profile = profile

    print(json.dumps(report, indent=1))
    for name, prof in (("submit", submit_profile), ("one-node execution", one_profile), ("chain", chain_profile)):
        print(f"\n===== {name}: by cumulative time =====")
        print(top(prof, "cumulative"))
        print(f"===== {name}: by own time =====")
        print(top(prof, "tottime", 15))
    return 0


if __name__ == "__main__":
    sys.exit(main())
