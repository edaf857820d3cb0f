"""Which embedded broker carries the pipeline's hops: kombu's memory transport against the
filesystem transport (tierline's atomic-write variant), measured in one run.

    python bench/transport.py [--jobs 1000] [--timeout 60] [--json]

Each job is two hops, as in the pipeline: a task that publishes the next task from a worker
thread. The embedded worker is the demo's (threads pool, concurrency 8). Prints jobs finished
and jobs per second per transport; writes bench/out/transport.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from celery import Celery  # noqa: E402

from bench.figures import publish  # noqa: E402
from tierline.workers.embedded import embedded_worker  # noqa: E402


def run(transport: str, jobs: int, timeout_s: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="tierline-transport-"))
    if transport == "filesystem":
        app = Celery("bench", broker="filesystem://localhost//")
        app.conf.broker_transport = "tierline.workers.fs_transport:Transport"
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder), "data_folder_out": str(folder),
            "control_folder": str(folder / "control"), "store_processed": False,
            "polling_interval": 0.01,
        }
    else:
        app = Celery("bench", broker="memory://")
        app.conf.broker_transport_options = {"polling_interval": 0.01}
    app.conf.update(task_acks_late=True, task_ignore_result=True, task_default_queue="route",
                    worker_hijack_root_logger=False)
    finished: set[int] = set()
    lock = threading.Lock()

    @app.task(name="bench.second")
    def second(i: int) -> None:
        with lock:
            finished.add(i)

    @app.task(name="bench.first")
    def first(i: int) -> None:
        second.apply_async((i,), queue="validate")

    started = time.perf_counter()
    with embedded_worker(app):
        for i in range(jobs):
            first.apply_async((i,), queue="route")
        deadline = time.monotonic() + timeout_s
        while len(finished) < jobs and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    return {"transport": transport, "jobs": jobs, "finished": len(finished),
            "seconds": round(elapsed, 2), "jobs_per_s": round(len(finished) / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = [run(t, args.jobs, args.timeout) for t in ("filesystem", "memory")]
    for f in figures:
        print(f"{f['transport']:<11} {f['finished']:>5}/{f['jobs']} two-hop jobs in "
              f"{f['seconds']:>6} s  ({f['jobs_per_s']} jobs/s)")
    publish("transport", figures, args.json)


if __name__ == "__main__":
    main()
