"""Serving a worker's metrics, and timing its steps through Celery's signals.

`celery -A tierline.workers.app worker` with `TIERLINE_METRICS_PORT` set serves `/metrics` on that
port from the worker's main process, summing the files every process of the worker wrote
(prometheus-client's multiprocess mode, see `workers.metrics_env`): the threads pool and the
prefork pool alike. Steps are timed between `task_prerun` and `task_postrun`, which Celery sends
in the process that runs the task, and which celery-batches sends for each tier-1 flush.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from celery import signals

from tierline.tasks import metrics
from tierline.tasks.queues import INFER_BATCH_TASK, INFER_TASK
from tierline.workers.batch_events import flush_tier

log = logging.getLogger(__name__)

_started: dict[str, float] = {}
_lock = threading.Lock()


def step_of(task_name: str, args: Any) -> tuple[str, int | None]:
    """The step's name (the task's, without the prefix) and tier, from a task and its args."""
    step = task_name.removeprefix("tierline.")
    if task_name == INFER_BATCH_TASK:
        # A drain's task runs with one argument, the flush's requests.
        return step, flush_tier(args[0]) if args else None
    if task_name == INFER_TASK and isinstance(args, list | tuple) and len(args) > 1:
        try:
            return step, int(args[1])
        except (TypeError, ValueError):
            return step, None
    return step, None


@signals.task_prerun.connect(weak=False)
def _step_started(task_id: str | None = None, **_: Any) -> None:
    if task_id is not None:
        with _lock:
            _started[task_id] = time.perf_counter()


@signals.task_postrun.connect(weak=False)
def _step_finished(task_id: str | None = None, task: Any = None, args: Any = None,
                   state: str | None = None, **_: Any) -> None:
    with _lock:
        began = _started.pop(task_id or "", None)
    if began is None or task is None:
        return
    step, tier = step_of(getattr(task, "name", "") or "", args)
    metrics.observe_step(step, tier, time.perf_counter() - began, (state or "unknown").lower())


def serve(port: int, address: str = "0.0.0.0") -> None:
    """Serve this worker's metrics (all its processes) on `port`."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    start_http_server(port, addr=address, registry=registry)
    log.info("metrics on http://%s:%d/metrics", address, port)


def install(port: int | None, address: str) -> None:
    """Serve metrics from the worker's main process once it starts (not in embedded mode)."""
    if not port:
        return

    @signals.worker_init.connect(weak=False)
    def _serve_on_start(**_: Any) -> None:
        try:
            serve(port, address)
        except OSError as exc:
            log.error("cannot serve metrics on %s:%d: %s", address, port, exc)
