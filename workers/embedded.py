"""The embedded default: the fleet's own tasks, run by a worker thread inside this process.

Used by `tierline demo` when no broker is configured. The broker is kombu's filesystem transport
(kombu's memory transport stalls when a task publishes the next task from a worker thread).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.worker import WorkController, state

from tierline.tasks import runtime
from tierline.tasks.queues import ALL_QUEUES


class _ReadyWorkController(WorkController):  # type: ignore[misc]
    """A worker that says when its consumer is ready to take messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ready = threading.Event()
        super().__init__(*args, **kwargs)

    def on_consumer_ready(self, consumer: Any) -> None:
        self.ready.set()


@contextmanager
def embedded_worker(app: Celery, concurrency: int = 8) -> Iterator[WorkController]:
    """Run a thread-pool worker on every queue until the block exits; then stop it and close
    the runtime its tasks built."""
    # The tier-1 drain holds a batch's messages unacknowledged until it flushes: prefetch enough.
    app.conf.worker_prefetch_multiplier = max(app.conf.worker_prefetch_multiplier,
                                              32 // concurrency, 1)
    app.finalize()
    app.set_current()
    app.set_default()
    worker = _ReadyWorkController(
        app=app,
        concurrency=concurrency,
        pool="threads",
        queues=list(ALL_QUEUES),
        hostname="embedded@tierline",
        loglevel="WARNING",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
    )
    thread = threading.Thread(target=worker.start, name="tierline-worker", daemon=True)
    thread.start()
    if not worker.ready.wait(30):
        raise RuntimeError("the embedded worker did not start within 30 s")
    try:
        yield worker
    finally:
        # Ask its loop to end, as celery.contrib.testing does, but warm: a warm stop also shuts
        # the pool's threads down, which a cold one leaves waiting for work.
        state.should_stop = 0
        thread.join(30)
        state.should_stop = None
        # Then the runtime its tasks built, with the threads it started (the simulator's server,
        # the event loop of the async clients): left running, they met the interpreter's
        # shutdown, and one of them now and then crashed the process as it ended (SIGSEGV in
        # PyThreadState_New) after the command had done its work.
        runtime.close_current()
