"""The fleet-wide rate limiter, measured: two worker processes calling one endpoint as fast as
the shared limit in Redis lets them.

    python bench/limiter.py [--rpm 600] [--seconds 60] [--workers 2] [--json]

Each process asks `RedisLimiter.acquire` in a loop, sleeping the wait it is told, and records
when each call was let through. Prints the calls per minute the processes made together over
the window and their deviation from the configured limit; writes bench/out/limiter.json.
Uses `TIERLINE_TEST_REDIS` (default db 15), under a key of its own that it deletes afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import redis  # noqa: E402

from bench.figures import publish  # noqa: E402
from tierline.config.tiers import Endpoint  # noqa: E402
from tierline.tasks.limiter_store import KEY_PREFIX, RedisLimiter  # noqa: E402

REDIS_URL = os.environ.get("TIERLINE_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _endpoint(model: str, rpm: int) -> Endpoint:
    return Endpoint(provider="openai", model=model, price_in=1, price_out=1,
                    context_window=8000, rpm=rpm)


def _worker(model: str, rpm: int, start_at: float, seconds: float, out: Any) -> None:
    limiter = RedisLimiter.from_url(REDIS_URL)
    endpoint = _endpoint(model, rpm)
    times: list[float] = []
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < start_at + seconds:
        admission = limiter.acquire(endpoint, 1)
        if admission.admitted:
            times.append(time.time())
        else:
            time.sleep(admission.wait_s)
    limiter.close()
    out.put(times)


def run(rpm: int, seconds: float, workers: int) -> dict[str, Any]:
    model = f"bench-{uuid.uuid4().hex[:8]}"
    queue: Any = multiprocessing.Queue()
    start_at = time.time() + 1.0
    processes = [multiprocessing.Process(target=_worker,
                                         args=(model, rpm, start_at, seconds, queue))
                 for _ in range(workers)]
    for process in processes:
        process.start()
    per_worker = [queue.get(timeout=seconds + 30) for _ in processes]
    for process in processes:
        process.join(10)
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(KEY_PREFIX + _endpoint(model, rpm).label)
    client.close()
    admitted = sum(len(times) for times in per_worker)
    per_minute = admitted / seconds * 60
    return {"rpm_configured": rpm, "seconds": seconds, "workers": workers,
            "calls": admitted, "per_worker": [len(t) for t in per_worker],
            "rpm_measured": round(per_minute, 1),
            "deviation_pct": round(100 * (per_minute - rpm) / rpm, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpm", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.rpm, args.seconds, args.workers)
    print(f"{figures['workers']} workers, limit {figures['rpm_configured']}/min: "
          f"{figures['calls']} calls in {figures['seconds']:g} s = "
          f"{figures['rpm_measured']}/min ({figures['deviation_pct']:+.2f}%), "
          f"per worker {figures['per_worker']}")
    publish("limiter", figures, args.json)


if __name__ == "__main__":
    main()
