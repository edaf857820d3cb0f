"""CPU per job of the set-wise route and validate steps, in one process, on the real PostgreSQL.

    python bench/step_cpu.py [--jobs 1000] [--flush 64] [--seed 7] [--json]

A fresh database, N sample jobs submitted, then the pipeline driven by hand: the route step in
flushes (`tasks.route_batch`), every tier message answered by the simulator over HTTP (in a
process of its own, time scale 0), and the validate step in flushes
(`tasks.validate_batch`), escalations included, until every job is terminal. Only the route
and validate flushes are timed, with `time.thread_time` of the thread that runs them (the
simulator's and PostgreSQL's processes are not counted). A warm-up batch runs first,
so imports and caches are not counted either.

Prints CPU ms per job for each step, and with --json one JSON object last.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.services import free_port, fresh_database  # noqa: E402
from tests.e2e.fleet import wait_http  # noqa: E402
from tierline import migrations  # noqa: E402
from tierline.config.settings import Settings  # noqa: E402
from tierline.jobs.models import JobSpec  # noqa: E402
from tierline.persistence import store  # noqa: E402
from tierline.persistence.db import Database  # noqa: E402
from tierline.persistence.tables import Job  # noqa: E402
from tierline.simulator.sample import generate  # noqa: E402
from tierline.tasks import pipeline  # noqa: E402
from tierline.tasks.route_batch import run_route_batch  # noqa: E402
from tierline.tasks.runtime import Runtime, build_runtime  # noqa: E402
from tierline.tasks.step_flush import StepItem  # noqa: E402
from tierline.tasks.validate_batch import run_validate_batch  # noqa: E402


@dataclass
class Inbox:
    """The messages the steps publish, by kind, delivered by the driver in order."""

    infers: list[tuple[str, int]] = field(default_factory=list)
    validates: list[tuple[str, int]] = field(default_factory=list)

    def infer(self, job_id: str, tier: int) -> None:
        self.infers.append((job_id, tier))

    def infer_many(self, messages: Sequence[tuple[str, int]]) -> None:
        self.infers.extend(messages)

    def validate(self, job_id: str, attempt_no: int) -> None:
        self.validates.append((job_id, attempt_no))

    def shadow(self, job_id: str, attempt_no: int, candidate: str) -> None:
        pass


@dataclass
class Spent:
    route_s: float = 0.0
    validate_s: float = 0.0
    route_flushes: int = 0
    validate_flushes: int = 0
    # With --profile: cProfile of the timed flushes, one per step.
    profiles: dict[str, cProfile.Profile] | None = None

    def timed(self, step: str, run: Callable[..., list[Any]], *args: Any) -> list[Any]:
        profile = self.profiles.setdefault(step, cProfile.Profile()) if self.profiles is not None \
            else None
        if profile is not None:
            profile.enable()
        started = time.thread_time()
        outcome = run(*args)
        spent = time.thread_time() - started
        if profile is not None:
            profile.disable()
        setattr(self, f"{step}_s", getattr(self, f"{step}_s") + spent)
        setattr(self, f"{step}_flushes", getattr(self, f"{step}_flushes") + 1)
        return outcome


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _submit(db: Database, count: int, seed: int) -> list[str]:
    specs = [JobSpec.model_validate(raw) for raw in generate(count, seed=seed)]
    with db.session() as session:
        return store.insert_jobs(session, specs).job_ids


def _drive(rt: Runtime, job_ids: list[str], flush: int, spent: Spent) -> None:
    inbox = Inbox()
    for chunk in _chunks(job_ids, flush):
        items = [StepItem(j) for j in chunk]
        again = spent.timed("route", run_route_batch, rt, inbox, items)
        assert not again, again
    while inbox.infers or inbox.validates:
        infers, inbox.infers = inbox.infers, []
        # The calls wait on HTTP: several at once (none of this is timed).
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(lambda m: pipeline.infer_job(rt, inbox, *m), infers))
        assert outcomes == [None] * len(infers), outcomes
        validates, inbox.validates = inbox.validates, []
        for chunk in _chunks(validates, flush):
            items = [StepItem(j, n) for j, n in chunk]
            again = spent.timed("validate", run_validate_batch, rt, inbox, items)
            assert not again, again


@contextmanager
def simulator() -> Iterator[str]:
    """The simulator over HTTP in a process of its own, at time scale 0: its URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tierline.cli", "sim", "serve", "--port",
                                str(port), "--time-scale", "0"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_sim/stats")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--flush", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", type=Path,
                        help="write cProfile stats of each step's flushes to PROFILE.STEP")
    args = parser.parse_args()

    with fresh_database("tierline_stepcpu") as fresh, simulator() as sim_url:
        migrations.upgrade(fresh.url)
        settings = Settings(database_url=fresh.url, simulator_url=sim_url, broker_url=None)
        rt = build_runtime(settings, concurrency=8)
        try:
            _drive(rt, _submit(rt.db, args.warmup, args.seed + 1), args.flush, Spent())
            spent = Spent(profiles={} if args.profile else None)
            job_ids = _submit(rt.db, args.jobs, args.seed)
            _drive(rt, job_ids, args.flush, spent)
            with rt.db.session() as session:
                statuses: dict[str, int] = {}
                for job_id in job_ids:
                    status = str(session.get_one(Job, job_id).status)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            rt.close()
    figures = {
        "jobs": args.jobs, "flush": args.flush, "statuses": statuses,
        "route_cpu_ms_per_job": round(spent.route_s * 1000 / args.jobs, 3),
        "validate_cpu_ms_per_job": round(spent.validate_s * 1000 / args.jobs, 3),
        "route_flushes": spent.route_flushes, "validate_flushes": spent.validate_flushes,
    }
    print(f"route    {figures['route_cpu_ms_per_job']:.3f} CPU ms/job "
          f"({spent.route_flushes} flushes of up to {args.flush})")
    print(f"validate {figures['validate_cpu_ms_per_job']:.3f} CPU ms/job "
          f"({spent.validate_flushes} flushes)")
    print(f"statuses {statuses}")
    for step, profile in (spent.profiles or {}).items():
        path = args.profile.with_suffix(f".{step}")
        pstats.Stats(profile).dump_stats(path)
        print(f"profile of {step}: {path}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
