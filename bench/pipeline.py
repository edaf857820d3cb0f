"""What the pipeline's moving parts cost, measured in one run so ratios are comparable.

    python bench/pipeline.py [--calls 160] [--jobs 300] [--json]

1. Tier-1 micro-batching: the same tier-1 requests to the simulator (in-process HTTP, realistic
   latency: time scale 1.0) sent one after another, as a plain worker thread would, and in flushes
   of 32 concurrent async calls, as the tier-1 drain does. Calls per second for both, and the ratio.
2. The embedded pipeline end to end (`tierline demo`'s path): jobs per second, and per-job
   latency from submit to terminal state (p50/p99), at simulator time scale 0.05.

Prints figures, writes bench/out/pipeline.json, and with --json prints one JSON object last.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder would come first on sys.path and shadow packages.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.figures import publish  # noqa: E402
from tierline.config.tiers import load_tiers  # noqa: E402
from tierline.jobs.models import JobSpec  # noqa: E402
from tierline.prompts.completion import CompletionRequest  # noqa: E402
from tierline.prompts.messages import build_prompt  # noqa: E402
from tierline.providers.factory import build_provider  # noqa: E402
from tierline.simulator import SimulatorConfig, start_in_thread  # noqa: E402
from tierline.simulator.sample import generate  # noqa: E402
from tierline.tasks.asyncloop import BackgroundLoop  # noqa: E402
from tierline.tasks.calls import acall_chain, call_chain  # noqa: E402

FLUSH = 32


def _requests(n: int) -> list[CompletionRequest]:
    requests = []
    for raw in generate(n, seed=21):
        system, messages = build_prompt(JobSpec.model_validate(raw))
        requests.append(CompletionRequest(system=system, messages=messages))
    return requests


def tier1_batching(calls: int) -> dict[str, Any]:
    endpoint = load_tiers().get(1).primary
    requests = _requests(calls)
    with start_in_thread(SimulatorConfig(time_scale=1.0)) as sim:
        provider = build_provider(endpoint, sim.url)
        chain = [(endpoint, provider)]
        started = time.perf_counter()
        sequential = [call_chain(chain, r) for r in requests]
        sequential_s = time.perf_counter() - started

        loop = BackgroundLoop()

        async def flush(batch: list[CompletionRequest]) -> list[Any]:
            return list(await asyncio.gather(*(acall_chain(chain, r) for r in batch)))

        started = time.perf_counter()
        batched = []
        for i in range(0, len(requests), FLUSH):
            batched.extend(loop.run(flush(requests[i : i + FLUSH])))
        batched_s = time.perf_counter() - started
        loop.stop()
    ok = sum(1 for records in sequential if records[-1].error is None)
    ok_batched = sum(1 for records in batched if records[-1].error is None)
    return {
        "calls": calls,
        "model": endpoint.model,
        "flush_size": FLUSH,
        "sequential_calls_per_s": round(calls / sequential_s, 2),
        "batched_calls_per_s": round(calls / batched_s, 2),
        "speedup": round(sequential_s / batched_s, 2),
        "answered_sequential": ok,
        "answered_batched": ok_batched,
    }


def embedded_pipeline(jobs: int) -> dict[str, Any]:
    from sqlalchemy import select

    from tierline.cli.demo import run_demo
    from tierline.persistence.db import Database
    from tierline.persistence.tables import Job

    home = Path(tempfile.mkdtemp(prefix="tierline-bench-"))
    summary = run_demo(jobs, seed=7, time_scale=0.05, home=home)
    db = Database(f"sqlite:///{home / 'tierline.db'}")
    with db.session() as session:
        rows = session.execute(select(Job.created_at, Job.finished_at)).all()
    db.dispose()
    latencies = sorted((f - c).total_seconds() for c, f in rows if f is not None)
    return {
        "jobs": summary["jobs"],
        "done": summary["done"],
        "seconds": summary["seconds"],
        "jobs_per_s": round(summary["jobs"] / summary["seconds"], 2),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p99_s": round(latencies[int(0.99 * (len(latencies) - 1))], 3),
        "per_tier": summary["per_tier"],
        "cost_usd": summary["cost_usd"],
        "all_tier3_cost_usd": summary["all_tier3_cost_usd"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=160)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    batching = tier1_batching(args.calls)
    print(f"tier-1 calls to {batching['model']} (simulated latency at scale 1.0):")
    print(f"  one at a time     {batching['sequential_calls_per_s']:8.2f} calls/s")
    print(f"  flushes of {FLUSH}     {batching['batched_calls_per_s']:8.2f} calls/s"
          f"  ({batching['speedup']}x)")
    pipeline = embedded_pipeline(args.jobs)
    print(f"embedded pipeline: {pipeline['jobs']} jobs in {pipeline['seconds']} s "
          f"({pipeline['jobs_per_s']} jobs/s), latency p50 {pipeline['latency_p50_s']} s, "
          f"p99 {pipeline['latency_p99_s']} s")
    figures = {"tier1_batching": batching, "embedded_pipeline": pipeline}
    publish("pipeline", figures, args.json)


if __name__ == "__main__":
    main()
