"""The engine's figures (issue 3, section 6), each beside an anchor measured in the same run on the
same broker and worker:

(a) chain: a 100-node chain of Store Value nodes, ms per node, beside a Celery chain of 100 no-op tasks;
(b) throughput: 1,000 one-node executions submitted through the REST API, executions/s until all are
    COMPLETED, beside 1,000 no-op Celery tasks;
(c) latency: submit-to-COMPLETED p50/p99 of a one-node graph over 200 sequential runs, beside the
    send-to-done latency of a no-op task.

Set-up: its own database (dropped and created anew), one user with a JWT, one executor worker
(-Q agent_executions, prefork, concurrency = cores) and one daphne on a free port, all stopped at the end.
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import chain
from django.db import connection, transaction
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from autogpt_platform.redis_client import get_redis
from executions.models import TERMINAL_STATUSES, ExecutionStatus, GraphExecution
from executions.services import execution_create
from tests.graphs import STORE_VALUE, link, node

from . import support
from .tasks import noop

CHAIN_LENGTH = 100
CHAIN_RUNS = 5
THROUGHPUT_EXECUTIONS = 1000
WORKER_ONLY_EXECUTIONS = 500
CLIENT_THREADS = 8
LATENCY_RUNS = 200
LATENCY_POLL_SECONDS = 0.002
WAIT_TIMEOUT = 120

TERMINAL = [str(s) for s in TERMINAL_STATUSES]
EXEC_TABLE = GraphExecution._meta.db_table


def run():
    with support.Processes() as stack:
        support.use_bench_database()
        broker = support.use_bench_vhost()
        load_at_start = [round(v, 2) for v in os.getloadavg()]
        # What else runs on the machine (also what ps cannot see: other guests' steal, other containers).
        cpu_idle_check = support.cpu_times()
        time.sleep(2)
        busy_before = support.cpu_share(cpu_idle_check, support.cpu_times())
        queue_at_start = support.wait_for_no_other_executor()
        user = User.objects.create_user(email="bench@example.com", password="bench-password-123", name="Bench")
        token = str(AccessToken.for_user(user))
        concurrency = support.cores()
        stack.add(support.start_executor_worker(concurrency))
        server, port = support.start_daphne()
        stack.add(server)
        client = support.HttpClient(port, token)
        stack.callback(client.close)
        common = {
            "machine": support.machine(),
            "worker": f"celery prefork, -Q agent_executions, concurrency {concurrency}, prefetch multiplier 1, acks_late",
            "worker_concurrency": concurrency,
            "broker": support.broker_description(broker),
        }
        bench = Bench(
            client,
            get_redis(),
            user,
            {**queue_at_start, "load_average_1_5_15_min": load_at_start, "machine_cpu_2s_before_start": busy_before},
        )
        yield from support.measured_figures(
            [
                ("chain_ms_per_node", bench.chain_figure),
                ("rest_executions_per_second", bench.throughput_figure),
                ("submit_to_completed_latency", bench.latency_figure),
            ],
            common,
        )


class ConnectionSampler:
    """The peak number of PostgreSQL connections to the bench database, sampled every 100 ms."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-pg-sampler", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                    self.peak = max(self.peak, cursor.fetchone()[0])
                self._stop.wait(0.1)
        finally:
            connection.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Bench:
    def __init__(self, client: support.HttpClient, redis, user: User, queue_at_start: dict):
        self.client = client
        self.user = user
        self.redis = redis
        self.queue_at_start = queue_at_start
        self.key_seq = 0

    # --- helpers ------------------------------------------------------------------------------------
    def create_graph(self, name: str, nodes: list, links: list) -> dict:
        return self.client.post("/api/v1/graphs", {"name": name, "nodes": nodes, "links": links})

    def submit(self, graph: dict) -> str:
        return self.client.post(f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": {}})["id"]

    def wait_terminal(self, ids: list[str], interval: float = 0.005, timeout: float = WAIT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while GraphExecution.objects.filter(id__in=ids, status__in=TERMINAL).count() < len(ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"executions not finished after {timeout} s")
            time.sleep(interval)

    def new_key(self) -> str:
        self.key_seq += 1
        key = f"bench:noop:{self.key_seq}"
        self.redis.delete(key)
        return key

    def wait_noops(self, key: str, count: int, interval: float = 0.005, timeout: float = WAIT_TIMEOUT) -> list[tuple]:
        deadline = time.monotonic() + timeout
        while self.redis.llen(key) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.redis.llen(key)} of {count} no-op tasks ran within {timeout} s")
            time.sleep(interval)
        entries = [tuple(map(float, item.split())) for item in self.redis.lrange(key, 0, -1)]
        self.redis.delete(key)
        return entries

    # --- (a) ------------------------------------------------------------------------------------------
    def chain_figure(self) -> dict[str, Any]:
        nodes = [node(f"s{i}", STORE_VALUE, **({"input": 1} if i == 0 else {})) for i in range(CHAIN_LENGTH)]
        links = [link(f"s{i}", "output", f"s{i + 1}", "input") for i in range(CHAIN_LENGTH - 1)]
        graph = self.create_graph("bench chain", nodes, links)
        # Warm both worker processes (graph spec cache, first queries), concurrently so each gets one.
        warm = [self.submit(graph) for _ in range(2)]
        self.wait_terminal(warm)

        per_node, walls = [], []
        for _ in range(CHAIN_RUNS):
            exec_id = self.submit(graph)
            self.wait_terminal([exec_id])
            graph_exec = GraphExecution.objects.get(id=exec_id)
            nodes_done = graph_exec.node_executions.filter(status=ExecutionStatus.COMPLETED).count()
            if graph_exec.status != ExecutionStatus.COMPLETED or nodes_done != CHAIN_LENGTH:
                raise RuntimeError(f"chain run {exec_id}: {graph_exec.status}, {nodes_done} nodes completed")
            wall = (graph_exec.ended_at - graph_exec.started_at).total_seconds()
            walls.append(wall)
            per_node.append(wall * 1000 / CHAIN_LENGTH)

        self.run_noop_chain(10)  # warm-up
        per_task = []
        for _ in range(CHAIN_RUNS):
            entries = self.run_noop_chain(CHAIN_LENGTH)
            wall = max(end for _, end in entries) - min(start for start, _ in entries)
            per_task.append(wall * 1000 / CHAIN_LENGTH)

        return {
            "figure": "chain_ms_per_node",
            "value": round(support.median(per_node), 3),
            "unit": "ms per node",
            "how": f"{CHAIN_LENGTH} Store Value nodes, each output linked to the next one's input; execution "
            f"ended_at - started_at (as the worker records them) / {CHAIN_LENGTH}; median of {CHAIN_RUNS} runs, "
            "after 2 warm-up runs",
            "runs": [round(v, 3) for v in per_node],
            "anchor": {
                "what": f"Celery chain of {CHAIN_LENGTH} no-op tasks (bench.tasks.noop, .si()) on agent_executions, same worker; "
                f"last task's end - first task's start / {CHAIN_LENGTH}; median of {CHAIN_RUNS}",
                "value": round(support.median(per_task), 3),
                "unit": "ms per task",
                "runs": [round(v, 3) for v in per_task],
            },
            "aim": "at most 2 ms per node",
            "meets_aim": support.median(per_node) <= 2.0,
        }

    def run_noop_chain(self, length: int) -> list[tuple]:
        key = self.new_key()
        chain(*[noop.si(key) for _ in range(length)]).apply_async()
        return self.wait_noops(key, length)

    # --- (b) ------------------------------------------------------------------------------------------
    def one_node_graph(self) -> dict:
        if not hasattr(self, "_one_node"):
            self._one_node = self.create_graph("bench one node", [node("store", STORE_VALUE, input="x")], [])
        return self._one_node

    def throughput_figure(self) -> dict[str, Any]:
        graph = self.one_node_graph()
        warm = [self.submit(graph) for _ in range(4)]
        self.wait_terminal(warm)

        refused: list[int] = []

        def submit_retrying(_) -> str:
            """A refused submit (a 5xx) is counted and sent again, as a client would, up to 5 times."""
            for attempt in range(5):
                status, data = self.client.request(
                    "POST", f"/api/v1/graphs/{graph['id']}/execute/{graph['version']}", {"inputs": {}}
                )
                if status == 201:
                    return data["id"]
                refused.append(status)
                if status < 500:
                    break
                time.sleep(0.05 * (attempt + 1))
            raise RuntimeError(f"submit refused: {status} {data}")

        pool = ThreadPoolExecutor(max_workers=CLIENT_THREADS, thread_name_prefix="bench-client")
        sampler = ConnectionSampler()
        try:
            list(pool.map(lambda _: self.client.request("GET", "/api/v1/graphs"), range(CLIENT_THREADS * 2)))  # connect
            sampler.start()
            cpu0 = time.process_time()
            t0 = time.time()
            ids = list(pool.map(submit_retrying, range(THROUGHPUT_EXECUTIONS)))
            t_submitted = time.time()
            client_cpu = time.process_time() - cpu0
        finally:
            pool.shutdown(wait=True)
            sampler.stop()
        deadline = time.monotonic() + WAIT_TIMEOUT
        executions = GraphExecution.objects.filter(graph_id=graph["id"]).exclude(id__in=warm)
        while executions.filter(status__in=TERMINAL).count() < THROUGHPUT_EXECUTIONS:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{THROUGHPUT_EXECUTIONS} executions not finished after {WAIT_TIMEOUT} s")
            time.sleep(0.02)
        rows = list(executions.values_list("status", "created_at", "started_at", "ended_at"))
        statuses = {status: sum(1 for r in rows if r[0] == status) for status in {r[0] for r in rows}}
        last_end = max(r[3] for r in rows).timestamp()
        first_start = min(r[2] for r in rows).timestamp()
        queue_waits = [(r[2] - r[1]).total_seconds() * 1000 for r in rows]
        runs = [(r[3] - r[2]).total_seconds() * 1000 for r in rows]

        worker_only = self.worker_only_drain(graph)

        self.run_noops(20)  # warm-up
        key = self.new_key()
        a0 = time.time()
        for _ in range(THROUGHPUT_EXECUTIONS):
            noop.apply_async((key,))
        a_sent = time.time()
        entries = self.wait_noops(key, THROUGHPUT_EXECUTIONS)
        a_end = max(end for _, end in entries)

        return {
            "figure": "rest_executions_per_second",
            "value": round(THROUGHPUT_EXECUTIONS / (last_end - t0), 1),
            "unit": "executions/s",
            "how": f"{THROUGHPUT_EXECUTIONS} POST /api/v1/graphs/{{id}}/execute/{{version}} with a JWT over keep-alive "
            f"HTTP/1.1 to one daphne on 127.0.0.1, from {CLIENT_THREADS} client threads; graph: one Store Value "
            "node with input_default input='x'; from the first submit until the last execution's ended_at "
            "(all COMPLETED, counted by polling the DB every 20 ms)",
            "client_concurrency": CLIENT_THREADS,
            "accepted_201": len(set(ids)),
            "refused_and_resent": {str(code): refused.count(code) for code in sorted(set(refused))},
            "bench_db_connections_peak": sampler.peak,
            "submit_rate_per_s": round(THROUGHPUT_EXECUTIONS / (t_submitted - t0), 1),
            "client_cpu_seconds": round(client_cpu, 2),
            "submit_seconds": round(t_submitted - t0, 3),
            "total_seconds": round(last_end - t0, 3),
            "worker_drain_rate_per_s": round(THROUGHPUT_EXECUTIONS / (last_end - first_start), 1),
            "statuses": statuses,
            "queue_wait_ms_p50": round(support.median(queue_waits), 2),
            "run_ms_p50": round(support.median(runs), 2),
            "worker_only": worker_only,
            "anchor": {
                "what": f"{THROUGHPUT_EXECUTIONS} no-op Celery tasks (bench.tasks.noop) sent one after another from one "
                "producer on agent_executions, same worker; from the first send until the last task's end",
                "value": round(THROUGHPUT_EXECUTIONS / (a_end - a0), 1),
                "unit": "tasks/s",
                "send_rate_per_s": round(THROUGHPUT_EXECUTIONS / (a_sent - a0), 1),
            },
            "aim": "300 executions/s on the 2-core development machine",
            "meets_aim": THROUGHPUT_EXECUTIONS / (last_end - t0) >= 300,
        }

    def worker_only_drain(self, graph: dict) -> dict[str, Any]:
        """The worker alone, without daphne competing for the cores: WORKER_ONLY_EXECUTIONS executions
        created in this process in one transaction (execution_create, as the view calls it), their
        messages published on commit; from the commit until the last one ended."""
        with transaction.atomic():
            ids = [
                execution_create(user=self.user, graph_id=graph["id"], graph_version=graph["version"], inputs={}).id
                for _ in range(WORKER_ONLY_EXECUTIONS)
            ]
            t0 = time.time()
        self.wait_terminal(ids, interval=0.02)
        rows = list(GraphExecution.objects.filter(id__in=ids).values_list("status", "started_at", "ended_at"))
        last_end = max(r[2] for r in rows).timestamp()
        return {
            "what": f"{WORKER_ONLY_EXECUTIONS} executions of the same graph queued at once from this process "
            "(no HTTP); from the commit that publishes them until the last ended_at",
            "executions_per_second": round(WORKER_ONLY_EXECUTIONS / (last_end - t0), 1),
            "run_ms_p50": round(support.median([(r[2] - r[1]).total_seconds() * 1000 for r in rows]), 2),
            "all_completed": all(r[0] == ExecutionStatus.COMPLETED for r in rows),
        }

    def run_noops(self, count: int) -> list[tuple]:
        key = self.new_key()
        for _ in range(count):
            noop.apply_async((key,))
        return self.wait_noops(key, count)

    # --- (c) ------------------------------------------------------------------------------------------
    def poll_status(self, exec_id: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        with connection.cursor() as cursor:
            while True:
                cursor.execute(f"SELECT status FROM {EXEC_TABLE} WHERE id = %s", [exec_id])
                row = cursor.fetchone()
                if row and row[0] in TERMINAL:
                    return row[0]
                if time.monotonic() > deadline:
                    raise TimeoutError(f"execution {exec_id} not finished after {timeout} s")
                time.sleep(LATENCY_POLL_SECONDS)

    def latency_figure(self) -> dict[str, Any]:
        graph = self.one_node_graph()
        for _ in range(3):  # warm-up
            self.poll_status(self.submit(graph))

        latencies, submits, observed, samples = [], [], [], []
        for _ in range(LATENCY_RUNS):
            wall0 = time.time()
            t0 = time.perf_counter()
            exec_id = self.submit(graph)
            t_submit = time.perf_counter()
            status = self.poll_status(exec_id)
            t_done = time.perf_counter()
            wall_done = time.time()
            if status != ExecutionStatus.COMPLETED:
                raise RuntimeError(f"latency run {exec_id} ended {status}")
            latencies.append((t_done - t0) * 1000)
            submits.append((t_submit - t0) * 1000)
            observed.append((exec_id, wall0, wall_done))
        rows = {
            str(r[0]): r[1:]
            for r in GraphExecution.objects.filter(id__in=[o[0] for o in observed]).values_list(
                "id", "created_at", "started_at", "ended_at"
            )
        }
        for exec_id, wall0, wall_done in observed:
            created, started, ended = (v.timestamp() for v in rows[exec_id])
            samples.append(
                {
                    "to_created": created - wall0,
                    "queue": started - created,
                    "run": ended - started,
                    "seen": wall_done - ended,
                }
            )
        breakdown = {name: round(support.median([s[name] for s in samples]) * 1000, 2) for name in samples[0]}

        anchor = []
        self.run_noops(5)  # warm-up
        for _ in range(LATENCY_RUNS):
            key = self.new_key()
            t0 = time.perf_counter()
            noop.apply_async((key,))
            deadline = time.monotonic() + 30
            while not self.redis.llen(key):
                if time.monotonic() > deadline:
                    raise TimeoutError("a no-op task did not run within 30 s")
                time.sleep(LATENCY_POLL_SECONDS)
            anchor.append((time.perf_counter() - t0) * 1000)
            self.redis.delete(key)

        return {
            "figure": "submit_to_completed_latency",
            "value": {
                "p50": round(support.percentile(latencies, 0.5), 2),
                "p99": round(support.percentile(latencies, 0.99), 2),
            },
            "unit": "ms",
            "how": f"{LATENCY_RUNS} sequential runs of the one-Store-Value-node graph: POST .../execute over keep-alive "
            f"HTTP to daphne, then SELECT status on the execution row every {LATENCY_POLL_SECONDS * 1000:g} ms "
            "(raw cursor, autocommit) until COMPLETED",
            "poll": f"PostgreSQL SELECT status by primary key every {LATENCY_POLL_SECONDS * 1000:g} ms",
            "submit_http_ms_p50": round(support.percentile(submits, 0.5), 2),
            "breakdown_ms_p50": breakdown,
            "breakdown_legend": "to_created: client send -> row created_at (request in daphne); queue: created_at -> "
            "started_at (commit, publish, broker, worker claim); run: started_at -> ended_at (engine); "
            "seen: ended_at -> the poll saw it",
            "max": round(max(latencies), 2),
            "anchor": {
                "what": f"{LATENCY_RUNS} sequential no-op Celery tasks on agent_executions, same worker: apply_async "
                f"until its Redis marker appears, polled every {LATENCY_POLL_SECONDS * 1000:g} ms (LLEN)",
                "value": {
                    "p50": round(support.percentile(anchor, 0.5), 2),
                    "p99": round(support.percentile(anchor, 0.99), 2),
                },
                "unit": "ms",
            },
            "aim": "none given; reported",
            "at_start": self.queue_at_start,
        }
