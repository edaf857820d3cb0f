"""The fleet end to end, measured from outside, next to plain Celery on the same broker.

    python bench/fleet_throughput.py [--jobs 2000] [--warmup 40] [--baseline-jobs N]
                                     [--fleet-setting TIERLINE_NAME=VALUE ...] [--json]

1. tierline: a private redis-server, a fresh PostgreSQL database (migrated), the simulator over
   HTTP at time scale 0 (so only the fleet's own work counts), and the README's six threads-pool
   workers (route, tier1, tier2, tier3, validate, shadow). A warm-up batch first (runtimes
   built, SDKs imported), then N sample jobs submitted in this process and waited for until
   every one is terminal. Jobs/s from the start of submit to the last terminal state; CPU per
   job of every worker process and of the services apart (from /proc); database transactions
   per job (pg_stat_database of the fresh database, this script's own polls taken out); Redis
   commands per job (INFO commandstats of the private Redis); worker memory before and after.
2. The baseline, in the same run once the fleet is stopped: a plain Celery app whose four
   no-op tasks chain through four queues (bench/celery_chain.py), one threads worker per
   queue, on the same Redis.

Bounded: each phase stops waiting after --timeout seconds (default: 60 s + N / 5 s).
Prints figures, writes bench/out/fleet_throughput.json, and with --json prints one JSON object
last (`jobs`, `jobs_per_s`, `cpu_ms_per_job`, `db_transactions_per_job`,
`celery_baseline_jobs_per_s`, `submit_jobs_per_s`, `rss_growth_mb`, ...).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from sqlalchemy import create_engine, text  # noqa: E402

from bench.figures import publish  # noqa: E402
from bench.histograms import Buckets, buckets, quantile_bound, scrape  # noqa: E402
from bench.services import (  # noqa: E402
    FreshDatabase,
    PrivateRedis,
    cpu_delta,
    cpu_of,
    free_port,
    fresh_database,
    private_redis,
    read_proc,
    runqueue_wait_s,
    settled_transactions,
)
from tests.e2e.fleet import stop_processes, wait_http  # noqa: E402

# The README's fleet by hand.
FLEET = {
    "route": ["-Q", "route", "-c", "2", "--prefetch-multiplier", "64"],
    "tier1": ["-Q", "tier1", "-c", "4", "--prefetch-multiplier", "16"],
    "tier2": ["-Q", "tier2", "-c", "4", "--prefetch-multiplier", "16"],
    "tier3": ["-Q", "tier3", "-c", "4", "--prefetch-multiplier", "16"],
    "validate": ["-Q", "validate", "-c", "2", "--prefetch-multiplier", "64"],
    "shadow": ["-Q", "shadow", "-c", "4"],
}
TERMINAL = "('done', 'needs_review', 'failed')"


class Processes:
    """Child processes by name, each logging to its own file; stopped together."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir, self.env = log_dir, env
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.running[name] = subprocess.Popen([sys.executable, *args], cwd=ROOT,
                                              env={**self.env, **(env or {})},
                                              stdout=log, stderr=subprocess.STDOUT)

    def pids(self, names: list[str] | None = None) -> dict[str, int]:
        return {n: p.pid for n, p in self.running.items() if names is None or n in names}

    def stop(self) -> None:
        stop_processes(list(self.running.values()))
        self.running.clear()


DECISION_HISTOGRAMS = {"cpu": "tierline_router_decision_cpu_seconds",
                       "wall": "tierline_router_decision_seconds"}


def _decision_buckets(url: str) -> dict[str, Buckets]:
    exposition = scrape(url)
    return {kind: buckets(exposition, name) for kind, name in DECISION_HISTOGRAMS.items()}


def _bounds_ms(before: dict[str, Buckets], after: dict[str, Buckets],
               kind: str) -> dict[str, float | None]:
    def bound(q: float) -> float | None:
        """None: nothing observed, or above the largest bucket (JSON has no infinity)."""
        value = quantile_bound(before[kind], after[kind], q)
        return None if value is None or math.isinf(value) else round(value * 1000, 3)

    return {"p50": bound(0.5), "p99": bound(0.99)}


def _worker(app: str, name: str, args: list[str]) -> list[str]:
    return ["-m", "celery", "-A", app, "worker", "-P", "threads", "-n", f"{name}@%h",
            "--without-mingle", "--without-gossip", "-l", "WARNING", *args]


def _wait_until(done: Callable[[], int], target: int, timeout_s: float) -> tuple[int, float]:
    """Poll `done()` until it reaches `target` or the timeout; (reached, seconds waited)."""
    started = time.perf_counter()
    reached = done()
    while reached < target and time.perf_counter() - started < timeout_s:
        time.sleep(0.2)
        reached = done()
    return reached, time.perf_counter() - started


def _jobs_file(folder: Path, count: int, seed: int) -> Path:
    from tierline.simulator.sample import generate

    path = folder / f"jobs-{seed}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for job in generate(count, seed=seed):
            out.write(json.dumps(job) + "\n")
    return path


def _submit(path: Path, settings: Any) -> tuple[str, int, float]:
    """Read and submit a jobs file in this process: (batch id, jobs, seconds)."""
    from tierline.jobs.intake import read_jobs
    from tierline.persistence.db import Database
    from tierline.tasks.submit import submit_jobs

    started = time.perf_counter()
    db = Database(settings.effective_database_url)
    try:
        receipt = submit_jobs(db, read_jobs(path))
    finally:
        db.dispose()
    return receipt.batch_id, len(receipt.job_ids), time.perf_counter() - started


class Poller:
    """Counts a batch's terminal jobs with one autocommit statement per poll, and knows how
    many transactions it added to the database's count."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.polls = 0

    def finished(self, batch_id: str) -> int:
        self.polls += 1
        with self.engine.connect() as conn:
            return int(conn.execute(text(
                f"SELECT count(*) FROM jobs WHERE batch_id = :b AND status IN {TERMINAL}"
            ), {"b": batch_id}).scalar_one())


def _per_job(value: float, jobs: int) -> float:
    return round(value / max(jobs, 1), 3)


def _sql_census(log_dir: Path, workers: dict[str, int], jobs: int) -> dict[str, Any]:
    """Statements per job by worker and kind, from bench/sql_census (warm-up jobs included)."""
    by_worker: dict[str, dict[str, float]] = {}
    for name, pid in workers.items():
        path = log_dir / f"sql.{pid}.json"
        if path.exists():
            counts = json.loads(path.read_text())
            by_worker[name] = {k: _per_job(v, jobs) for k, v in
                               sorted(counts.items(), key=lambda x: -x[1])}
    statements = sum(v for w in by_worker.values() for k, v in w.items() if k != "(transaction)")
    transactions = sum(w.get("(transaction)", 0) for w in by_worker.values())
    return {"statements_per_job": round(statements, 2),
            "transactions_per_job": round(transactions, 2), "by_worker": by_worker}


def _start_profilers(py_spy: str, workers: dict[str, int],
                     log_dir: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each worker until stopped: the stacks holding the GIL, i.e. its Python CPU."""
    return [subprocess.Popen([py_spy, "record", "--pid", str(pid), "--format", "raw",
                              "--rate", "50", "--gil", "--output",
                              str(log_dir / f"profile-{name}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, pid in workers.items() if name in {"route", "tier1", "validate", "tier2"}]


def _stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    for profiler in profilers:
        try:
            profiler.wait(30)
        except subprocess.TimeoutExpired:
            profiler.kill()


def run_tierline(jobs: int, warmup: int, seed: int, redis: PrivateRedis, db: FreshDatabase,
                 log_dir: Path, timeout_s: float, count_sql: bool = False,
                 py_spy: str | None = None, events: bool = True,
                 fleet_settings: dict[str, str] | None = None) -> dict[str, Any]:
    from tierline import migrations
    from tierline.config.settings import Settings
    from tierline.workers.celery_app import create_app

    migrations.upgrade(db.url)
    sim_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERLINE_")}
    env.update(TIERLINE_BROKER_URL=redis.url, TIERLINE_DATABASE_URL=db.url,
               TIERLINE_SIMULATOR_URL=f"http://127.0.0.1:{sim_port}", PYTHONUNBUFFERED="1",
               TIERLINE_TASK_EVENTS=str(events).lower(), **(fleet_settings or {}))
    if count_sql:
        census = Path(__file__).resolve().parent / "sql_census"
        env.update(PYTHONPATH=os.pathsep.join([str(census), str(ROOT)]),
                   BENCH_SQL_CENSUS=str(log_dir / "sql"))
    settings = Settings(broker_url=redis.url, database_url=db.url,
                        simulator_url=env["TIERLINE_SIMULATOR_URL"], task_events=events)
    app = create_app(settings)
    app.set_current()
    app.set_default()
    procs = Processes(log_dir, env)
    poller = Poller(db.url)
    try:
        procs.start("simulator", ["-m", "tierline.cli", "sim", "serve", "--port", str(sim_port),
                                  "--time-scale", "0"])
        wait_http(f"http://127.0.0.1:{sim_port}/_sim/stats")
        # The route worker serves its metrics: its decisions' CPU time is read from them.
        metrics_port = free_port()
        route_metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        for name, args in FLEET.items():
            procs.start(name, _worker("tierline.workers.app", name, args),
                        {"TIERLINE_METRICS_PORT": str(metrics_port)} if name == "route" else None)
        warm_batch, warm_jobs, _ = _submit(_jobs_file(log_dir, warmup, seed + 1), settings)
        reached, _ = _wait_until(lambda: poller.finished(warm_batch), warm_jobs, 180)
        if reached < warm_jobs:
            raise RuntimeError(f"warm-up: {reached}/{warm_jobs} jobs finished; see {log_dir}")
        path = _jobs_file(log_dir, jobs, seed)

        workers = procs.pids(list(FLEET))
        services = {"simulator": procs.pids(["simulator"]), "redis": {"redis": redis.process.pid}}
        rss_before = {n: read_proc(p).rss_mb for n, p in workers.items()}  # type: ignore[union-attr]
        xacts_before = settled_transactions(db)
        polls_before = poller.polls
        commands_before = redis.commands()
        pg_before = cpu_of(db.backend_pids())
        cpu_before = {n: cpu_of([p]) for n, p in workers.items()}
        waits_before = {n: runqueue_wait_s(p) for n, p in workers.items()}
        svc_before = {n: cpu_of(p.values()) for n, p in services.items()}

        decisions_before = _decision_buckets(route_metrics)
        profilers = _start_profilers(py_spy, workers, log_dir) if py_spy else []
        batch, submitted, submit_s = _submit(path, settings)
        finished, waited = _wait_until(lambda: poller.finished(batch), submitted, timeout_s)
        elapsed = submit_s + waited
        _stop_profilers(profilers)

        cpu_after = {n: cpu_of([p]) for n, p in workers.items()}
        waits_after = {n: runqueue_wait_s(p) for n, p in workers.items()}
        svc_after = {n: cpu_of(p.values()) for n, p in services.items()}
        pg_after = cpu_of(db.backend_pids())
        rss_after = {n: read_proc(p).rss_mb for n, p in workers.items()}  # type: ignore[union-attr]
        decisions_after = _decision_buckets(route_metrics)
        commands_after = redis.commands()
        polls = poller.polls - polls_before
        xacts = settled_transactions(db) - xacts_before - polls
        with poller.engine.connect() as conn:
            durable = int(conn.execute(text(
                "SELECT count(*) FROM results r JOIN jobs j ON j.id = r.job_id "
                "WHERE j.batch_id = :b"), {"b": batch}).scalar_one())
            # Each decision's latency as the route worker measured it, busy with the others.
            p50, p99, worst = conn.execute(text(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d.latency_ms), "
                "percentile_cont(0.99) WITHIN GROUP (ORDER BY d.latency_ms), max(d.latency_ms) "
                "FROM routing_decisions d JOIN jobs j ON j.id = d.job_id WHERE j.batch_id = :b"),
                {"b": batch}).one()
            # Off, dead row versions pile up and the planner never gets the tables' statistics.
            autovacuum = str(conn.execute(text("SHOW autovacuum")).scalar_one())
            statuses: dict[str, int] = {str(s): int(n) for s, n in conn.execute(text(
                "SELECT status, count(*) FROM jobs WHERE batch_id = :b GROUP BY status"),
                {"b": batch}).all()}
    finally:
        poller.engine.dispose()
        workers_started = procs.pids(list(FLEET))
        procs.stop()
        app.close()
    sql = _sql_census(log_dir, workers_started, submitted + warm_jobs) if count_sql else None
    per_worker = {n: _per_job(cpu_delta(cpu_before[n], cpu_after[n]) * 1000, finished)
                  for n in workers}
    per_service = {n: _per_job(cpu_delta(svc_before[n], svc_after[n]) * 1000, finished)
                   for n in services}
    per_service["postgresql"] = _per_job(cpu_delta(pg_before, pg_after) * 1000, finished)
    commands = {c: commands_after[c] - commands_before.get(c, 0) for c in commands_after}
    growth = {n: round(rss_after[n] - rss_before[n], 1) for n in workers}
    return {
        "jobs": submitted, "finished": finished, "timed_out": finished < submitted,
        "postgresql_autovacuum": autovacuum,
        "statuses": statuses, "results_rows": durable,
        "seconds": round(elapsed, 2), "jobs_per_s": round(finished / elapsed, 2),
        "submit_seconds": round(submit_s, 2),
        "submit_jobs_per_s": round(submitted / submit_s, 1),
        "cpu_ms_per_job_by_worker": per_worker,
        "cpu_ms_per_job": round(sum(per_worker.values()), 2),
        # How oversubscribed the machine was: ms each worker's threads waited for a CPU while
        # runnable, per ms of CPU they had. A wall time measured inside a worker (a routing
        # decision's) stretches by about this much.
        "cpu_wait_per_cpu_ms_by_worker": {
            n: round((waits_after[n] - waits_before[n]) / cpu, 2) if (
                cpu := cpu_delta(cpu_before[n], cpu_after[n])) > 0 else 0.0 for n in workers},
        "cpu_ms_per_job_by_service": per_service,
        "db_transactions_per_job": _per_job(xacts, finished),
        "redis_commands_per_job": _per_job(sum(commands.values()), finished),
        "redis_top_commands_per_job": {c: _per_job(n, finished) for c, n in
                                       sorted(commands.items(), key=lambda x: -x[1])[:8]},
        "rss_before_mb": {n: round(v, 1) for n, v in rss_before.items()},
        "rss_after_mb": {n: round(v, 1) for n, v in rss_after.items()},
        "rss_growth_mb_by_worker": growth,
        "rss_growth_mb": max(growth.values()),
        # Wall time as recorded with each decision (GIL waits in the busy worker included).
        "router_decision_ms": {"p50": round(float(p50 or 0), 3), "p99": round(float(p99 or 0), 3),
                               "max": round(float(worst or 0), 3)},
        # From the route worker's histograms: the bucket bound each quantile lies at or under.
        "router_decision_cpu_ms_at_most": _bounds_ms(decisions_before, decisions_after, "cpu"),
        "router_decision_wall_ms_at_most": _bounds_ms(decisions_before, decisions_after, "wall"),
        **({"sql_census": sql} if sql else {}),
    }


def run_baseline(jobs: int, redis: PrivateRedis, log_dir: Path,
                 timeout_s: float) -> dict[str, Any]:
    broker = redis.url.rsplit("/", 1)[0] + "/1"
    env = {**os.environ, "BENCH_CHAIN_BROKER": broker, "PYTHONUNBUFFERED": "1"}
    os.environ["BENCH_CHAIN_BROKER"] = broker
    from bench import celery_chain as chain

    procs = Processes(log_dir, env)
    try:
        for queue in chain.QUEUES:
            procs.start(f"chain-{queue}", _worker("bench.celery_chain", queue,
                                                   ["-Q", queue, "-c", "4"]))
        chain.start_chains(20)
        reached, _ = _wait_until(chain.chains_done, 20, 120)
        if reached < 20:
            raise RuntimeError(f"plain Celery warm-up: {reached}/20 chains; see {log_dir}")
        pids = procs.pids()
        cpu_before, commands_before = cpu_of(pids.values()), redis.commands()
        redis_before = cpu_of([redis.process.pid])
        started = time.perf_counter()
        chain.start_chains(jobs)
        done, _ = _wait_until(chain.chains_done, 20 + jobs, timeout_s)
        elapsed = time.perf_counter() - started
        cpu_after, commands_after = cpu_of(pids.values()), redis.commands()
        redis_after = cpu_of([redis.process.pid])
    finally:
        procs.stop()
    finished = done - 20
    commands = sum(commands_after.values()) - sum(commands_before.values())
    return {
        "jobs": jobs, "finished": finished, "seconds": round(elapsed, 2),
        "jobs_per_s": round(finished / elapsed, 2),
        "cpu_ms_per_job": _per_job(cpu_delta(cpu_before, cpu_after) * 1000, finished),
        "redis_cpu_ms_per_job": _per_job(cpu_delta(redis_before, redis_after) * 1000, finished),
        "redis_commands_per_job": _per_job(commands, finished),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--baseline-jobs", type=int, default=None,
                        help="plain Celery chains (default: --jobs)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--count-sql", action="store_true",
                        help="count each worker's SQL statements (bench/sql_census; costs CPU)")
    parser.add_argument("--py-spy", help="path of py-spy: sample the route, tier-1, tier-2 and "
                        "validate workers during the run (profile-*.txt in the logs folder)")
    parser.add_argument("--no-events", action="store_true",
                        help="run the fleet with TIERLINE_TASK_EVENTS=false")
    parser.add_argument("--fleet-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the fleet's processes, as its environment variable "
                             "(TIERLINE_BULK_WORKER_NICENESS=0); repeatable")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    fleet_settings = dict(item.split("=", 1) for item in args.fleet_setting)
    if any(not name.startswith("TIERLINE_") for name in fleet_settings):
        parser.error("--fleet-setting takes TIERLINE_NAME=VALUE")
    timeout = args.timeout or 60 + args.jobs / 5
    log_dir = Path(tempfile.mkdtemp(prefix="tierline-fleet-bench-"))
    with private_redis() as redis:
        with fresh_database() as db:
            fleet = run_tierline(args.jobs, args.warmup, args.seed, redis, db, log_dir, timeout,
                                 args.count_sql, args.py_spy, not args.no_events, fleet_settings)
        baseline = run_baseline(args.baseline_jobs or args.jobs, redis, log_dir, timeout)
    print(f"tierline: {fleet['finished']}/{fleet['jobs']} jobs in {fleet['seconds']} s "
          f"= {fleet['jobs_per_s']} jobs/s (submit {fleet['submit_jobs_per_s']} jobs/s); "
          f"results rows {fleet['results_rows']}; {fleet['statuses']}")
    print(f"  CPU ms/job, workers {fleet['cpu_ms_per_job']}: {fleet['cpu_ms_per_job_by_worker']}")
    print(f"  CPU ms/job, services: {fleet['cpu_ms_per_job_by_service']} (PostgreSQL's "
          f"autovacuum {fleet['postgresql_autovacuum']})")
    print(f"  ms waiting for a CPU per CPU ms, workers: {fleet['cpu_wait_per_cpu_ms_by_worker']}")
    print(f"  DB transactions/job {fleet['db_transactions_per_job']}, Redis commands/job "
          f"{fleet['redis_commands_per_job']} {fleet['redis_top_commands_per_job']}")
    if "sql_census" in fleet:
        print(f"  SQL per job (census, warm-up included): {fleet['sql_census']}")
    print(f"  router decision in the route worker, wall ms (recorded per decision): "
          f"{fleet['router_decision_ms']}")
    print(f"  router decision, bucket bounds ms, CPU {fleet['router_decision_cpu_ms_at_most']}, "
          f"wall {fleet['router_decision_wall_ms_at_most']}")
    print(f"  worker RSS MB before {fleet['rss_before_mb']}, after {fleet['rss_after_mb']}")
    print(f"plain Celery, 4 hops: {baseline['finished']}/{baseline['jobs']} in "
          f"{baseline['seconds']} s = {baseline['jobs_per_s']} jobs/s, "
          f"{baseline['cpu_ms_per_job']} CPU ms/job, "
          f"{baseline['redis_commands_per_job']} Redis commands/job")
    ratio = fleet["jobs_per_s"] / baseline["jobs_per_s"] if baseline["jobs_per_s"] else None
    print(f"tierline / plain Celery: {ratio:.2f}" if ratio else "no baseline figure")
    headline = {k: fleet[k] for k in ("jobs", "jobs_per_s", "cpu_ms_per_job",
                                      "db_transactions_per_job", "redis_commands_per_job",
                                      "submit_jobs_per_s", "rss_growth_mb",
                                      "router_decision_ms",
                                      "router_decision_cpu_ms_at_most")}
    figures = {**headline, "task_events": not args.no_events,
               "celery_baseline_jobs_per_s": baseline["jobs_per_s"],
               "celery_baseline_cpu_ms_per_job": baseline["cpu_ms_per_job"],
               "ratio_to_celery": round(ratio, 3) if ratio else None,
               "fleet": fleet, "celery_baseline": baseline, "logs": str(log_dir)}
    publish("fleet_throughput", figures, args.json)


if __name__ == "__main__":
    main()
