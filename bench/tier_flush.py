"""CPU per job of one tier drain's flushes, in this process, against the real services.

    python bench/tier_flush.py [--tier 1] [--jobs 640] [--flush 64] [--rounds 3] [--profile F]
                               [--json]

A private redis-server (the breakers, rate limits and delivery counts, as in the fleet), a
fresh PostgreSQL database, and the simulator over HTTP in a process of its own at time scale 0,
so that this process's CPU time is the drain's alone. `--jobs` sample jobs are inserted and
set routed at `--tier`, then run through `tasks.batch.run_batch` in flushes of `--flush`, as
the tier drain runs them (claim, concurrent calls on the process's event loop, ledger), with a
publisher that only counts. Each round inserts fresh jobs; the first flush of the first round
(clients built, connections opened) is left out of the figures.

CPU ms per job is `time.process_time` (every thread of this process) over the flushes; wall
ms per job likewise. Every round is printed. With --profile, the flushes also run under
cProfile and its statistics are written to that file (the event loop's thread to
that file's name with `.loop` added).

Prints figures, writes bench/out/tier_flush.json, and with --json prints one JSON object last.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.figures import publish  # noqa: E402
from bench.services import free_port, fresh_database, private_redis  # noqa: E402
from tests.e2e.fleet import stop_processes, wait_http  # noqa: E402


class CountingPublisher:
    """Takes every message a flush sends and only counts it."""

    def __init__(self) -> None:
        self.sent = 0

    def infer(self, job_id: str, tier: int, *_: Any, **__: Any) -> None:
        self.sent += 1

    def infer_many(self, messages: Sequence[tuple[str, int]]) -> None:
        self.sent += len(messages)

    def validate(self, job_id: str, attempt_no: int) -> None:
        self.sent += 1

    def shadow(self, job_id: str, attempt_no: int, candidate: str) -> None:
        self.sent += 1


async def _disable(profiler: cProfile.Profile) -> None:
    profiler.disable()


def _routed_jobs(rt: Any, count: int, tier: int, seed: int) -> list[str]:
    from sqlalchemy import update

    from tierline.jobs.models import JobSpec
    from tierline.persistence import store
    from tierline.persistence.tables import Job
    from tierline.simulator.sample import generate

    specs = [JobSpec.model_validate(raw) for raw in generate(count, seed=seed)]
    with rt.db.session() as session:
        job_ids = store.insert_jobs(session, specs).job_ids
        session.execute(update(Job).where(Job.id.in_(job_ids))
                        .values(status="routed", current_tier=tier))
    return list(job_ids)


def run(tier: int, jobs: int, flush: int, rounds: int, profile: str | None) -> dict[str, Any]:
    from tierline import migrations
    from tierline.config.settings import Settings
    from tierline.tasks.batch import BatchItem, run_batch
    from tierline.tasks.runtime import build_runtime

    sim_port = free_port()
    sim = subprocess.Popen([sys.executable, "-m", "tierline.cli", "sim", "serve", "--port",
                            str(sim_port), "--time-scale", "0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={k: v for k, v in os.environ.items()
                                if not k.startswith("TIERLINE_")})
    profiler = cProfile.Profile(time.thread_time) if profile else None
    # cProfile sees one thread: the event loop's calls get a profiler of their own.
    loop_profiler = cProfile.Profile(time.thread_time) if profile else None
    per_round: list[dict[str, float]] = []
    try:
        wait_http(f"http://127.0.0.1:{sim_port}/_sim/stats")
        with private_redis() as redis, fresh_database() as db:
            migrations.upgrade(db.url)
            settings = Settings(broker_url=redis.url, database_url=db.url,
                                simulator_url=f"http://127.0.0.1:{sim_port}")
            rt = build_runtime(settings, concurrency=4)
            publisher = CountingPublisher()
            try:
                # Warm-up: clients built, SDKs imported, connections opened.
                warm = _routed_jobs(rt, flush, tier, seed=1000)
                run_batch(rt, publisher, [BatchItem(j, tier) for j in warm])
                for number in range(rounds):
                    job_ids = _routed_jobs(rt, jobs, tier, seed=number)
                    flushes = [job_ids[i:i + flush] for i in range(0, len(job_ids), flush)]
                    again = 0
                    cpu, wall = time.process_time(), time.perf_counter()
                    if profiler is not None and loop_profiler is not None:
                        profiler.enable()
                        rt.async_loop().loop.call_soon_threadsafe(loop_profiler.enable)
                    for chunk in flushes:
                        again += len(run_batch(rt, publisher, [BatchItem(j, tier)
                                                              for j in chunk]))
                    if profiler is not None and loop_profiler is not None:
                        profiler.disable()
                        rt.async_loop().run(_disable(loop_profiler))
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    per_round.append({"cpu_ms_per_job": round(cpu * 1000 / len(job_ids), 3),
                                      "wall_ms_per_job": round(wall * 1000 / len(job_ids), 3),
                                      "sent_again": again})
                    print(f"round {number}: {per_round[-1]}", flush=True)
            finally:
                rt.close()
    finally:
        stop_processes([sim])
    if profiler is not None and loop_profiler is not None and profile:
        profiler.dump_stats(profile)
        loop_profiler.dump_stats(f"{profile}.loop")
    cpus = sorted(r["cpu_ms_per_job"] for r in per_round)
    return {"tier": tier, "jobs_per_round": jobs, "flush": flush, "rounds": per_round,
            "cpu_ms_per_job_median": cpus[len(cpus) // 2],
            "cpu_ms_per_job_min": cpus[0], "cpu_ms_per_job_max": cpus[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tier", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=640)
    parser.add_argument("--flush", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", help="write cProfile statistics of the flushes here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.tier, args.jobs, args.flush, args.rounds, args.profile)
    print(f"tier {figures['tier']}, flushes of {figures['flush']}: CPU ms/job median "
          f"{figures['cpu_ms_per_job_median']} (min {figures['cpu_ms_per_job_min']}, max "
          f"{figures['cpu_ms_per_job_max']})")
    publish("tier_flush", figures, args.json)


if __name__ == "__main__":
    main()
