"""Task events for the drains' messages (tier 1, route, validate), which Celery's own tracer
never sees.

celery-batches buffers a queue's requests and runs them together outside Celery's tracer, so
without this no task-received, task-started or task-succeeded event is sent for them: Flower
shows every `tierline.infer_batch` message as PENDING for good, and the drain's worker as having
processed nothing. `EventedBatches` sends, for every buffered request, the events the ordinary
tracer sends for an ordinary one:

- task-received when the request is buffered (with the short argument representation);
- task-started when its flush is accepted by the pool;
- task-succeeded when the flush has run, or task-failed with the reason when it raised or its
  process was lost.

The events are sent from the worker's main process with the original requests (as Celery's
`Request.on_accepted` / `on_success` do), so this holds for the threads and the prefork pool
alike. Each flush's size and each request's wait in the buffer are also observed for metrics,
labelled by the drain (`drain_of`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from typing import Any

from celery import signals
from celery.utils.time import utcoffset
from celery.worker.request import Request
from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task

from tierline.tasks import metrics
from tierline.tasks.queues import INFER_BATCH_TASK, ROUTE_TASK, VALIDATE_TASK

log = logging.getLogger(__name__)

# Countdown before the messages of a drain's flush that failed as a whole (no runtime, say)
# are tried again: every drain (tiers, route, validate) sends them back with it.
WHOLE_FLUSH_RETRY_S = 5.0

# Set on each buffered request (monotonic seconds), to measure its wait for a flush.
_BUFFERED_AT = "_tierline_buffered_at"


def flush_tier(batch: Sequence[Any]) -> int | None:
    """A flush holds one queue's messages, so one tier: its first message's (job, tier, ...)."""
    try:
        return int(batch[0].args[1])
    except (TypeError, ValueError, IndexError, AttributeError):
        return None


_STEP_DRAINS = {ROUTE_TASK: "route", VALIDATE_TASK: "validate"}


def drain_of(task_name: str, batch: Sequence[Any]) -> str:
    """The flush metrics' label: `route`, `validate`, or `tier<N>` for the tier drains (one task
    drains every tier's queue, so the tier is the flush's own)."""
    if task_name == INFER_BATCH_TASK:
        tier = flush_tier(batch)
        return f"tier{tier}" if tier is not None else "tier"
    return _STEP_DRAINS.get(task_name, task_name)


def send_events(requests: Sequence[Any], kind: str, **fields: Any) -> None:
    """`request.send_event(kind, **fields)` for every request of a flush, each event made as
    Celery's dispatcher makes it (its own uuid and clock), the fields they share made once and
    the events buffered together (see workers.events)."""
    if not requests:
        return
    first = requests[0]
    dispatcher = getattr(first, "_eventer", None)
    if dispatcher is None or "task" not in (dispatcher.buffer_group or ()):
        for request in requests:  # published one by one: Celery's own path
            request.send_event(kind, **fields)
        return
    if not dispatcher.enabled or not first.task.send_events:
        return
    if dispatcher.groups and "task" not in dispatcher.groups:
        return
    shared = {"hostname": dispatcher.hostname, "utcoffset": utcoffset(), "pid": dispatcher.pid,
              **fields, "timestamp": time.time(), "type": kind}
    forward = dispatcher.clock.forward
    buffer = dispatcher._group_buffer["task"]
    buffer.extend([{**shared, "uuid": request.id, "clock": forward()} for request in requests])
    if len(buffer) >= dispatcher.buffer_limit:
        dispatcher.flush()


class EventedBatches(Batches):  # type: ignore[misc]
    """celery-batches, with the task events of every request (see the module docstring)."""

    abstract = True

    def Strategy(self, task: Any, app: Any, consumer: Any) -> Any:
        """Runs on every start of the consumer, the first and each after a lost connection.
        celery-batches arms its interval flush on the consumer's timer when a first message
        arrives and keeps the entry (`_tref`) until its buffers are empty; on a lost connection
        Celery clears that timer, so the entry was gone while `_tref` still said armed, and only
        a full flush's count of messages flushed again: a quiet queue (tiers 2 and 3) kept its
        messages unacknowledged for good (clokep/celery-batches#107). The flush is armed anew
        on the new timer, at once when requests from before the loss are still buffered (run
        again, they are at-least-once like any redelivery)."""
        handler = super().Strategy(task, app, consumer)
        stale: Any = getattr(self, "_tref", None)  # celery-batches' attribute, untyped
        if stale is not None:
            stale.cancel()
            self._tref = None
        if self._buffer.qsize() or self._pending.qsize():
            self._tref = consumer.timer.call_repeatedly(self.flush_interval, self._do_flush)
        return handler

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, str | None]:
        # Runs in the pool (a thread, or a prefork child): the flush's outcome travels back to
        # the main process as the return value, where its requests' events are sent.
        try:
            super().__call__(*args, **kwargs)
        except Exception as exc:
            log.exception("%s flush failed", self.name)
            return {"error": f"{type(exc).__name__}: {exc}"}
        return {"error": None}

    def flush(self, requests: Collection[Request]) -> Any:
        batch = list(requests)
        started = time.monotonic()
        metrics.observe_flush(drain_of(self.name, batch), len(batch),
                              [started - getattr(r, _BUFFERED_AT, started) for r in batch])
        serializable = ([SimpleRequest.from_request(r) for r in batch],)

        def on_accepted(pid: int, time_accepted: float) -> None:
            for request in batch:
                if not request.task.acks_late:
                    request.acknowledge()
            send_events(batch, "task-started")

        def on_return(result: Any) -> None:
            error = result.get("error") if isinstance(result, dict) else "flush returned nothing"
            runtime = time.monotonic() - started
            if error is None:
                send_events(batch, "task-succeeded", result="None", runtime=runtime)
            else:
                send_events(batch, "task-failed", exception=error, traceback="")
            for request in batch:
                if request.task.acks_late:
                    request.acknowledge()

        def on_error(exc_info: Any) -> None:
            # The pool lost the flush (a prefork child killed): the messages stay
            # unacknowledged and come back; say so for each of them.
            reason = repr(getattr(exc_info, "exception", exc_info))
            send_events(batch, "task-failed", exception=f"flush lost: {reason}", traceback="")

        return self._pool.apply_async(apply_batches_task, (self, serializable, 0, None),
                                      accept_callback=on_accepted, callback=on_return,
                                      error_callback=on_error)


@signals.task_received.connect(weak=False)
def _on_buffered(sender: Any = None, request: Request | None = None, **_: Any) -> None:
    """Ordinary requests get their task-received event from Celery's strategy; buffered ones
    only get this signal."""
    if request is None or not isinstance(request.task, EventedBatches):
        return
    setattr(request, _BUFFERED_AT, time.monotonic())
    request.send_event(
        "task-received", name=request.name, args=request.argsrepr, kwargs=request.kwargsrepr,
        root_id=request.root_id, parent_id=request.parent_id,
        retries=request.request_dict.get("retries", 0),
        eta=request.eta and request.eta.isoformat(),
        expires=request.expires and request.expires.isoformat(),
    )
