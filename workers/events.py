"""Task events that reach Flower: what the fleet sends, and how.

- `worker_send_task_events` and `task_send_sent_event` are on (see workers.celery_app), so a
  message is PENDING in Flower from the moment it is sent, and moves on as workers report it.
- A worker's task events are gathered and published together, one `task.multi` message (a list
  of events, which Celery's event receiver and so Flower take apart) at most every
  `FLUSH_EVERY_S`, or sooner when `BUFFER_LIMIT` are waiting: one PUBLISH for many events
  instead of one each. Celery's own buffer cannot be used as it is with the threads pool: it is
  a plain list that the pool's threads append to while the event loop publishes it and then
  clears it, so events appended in between are lost (celery/celery#10434) and tasks stay
  RECEIVED or STARTED in Flower for good. Here the list is cut, not cleared: the events taken
  are removed by count, so one appended meanwhile waits for the next flush; flushes hold the
  dispatcher's lock, and a thread of this module flushes instead of the event loop.
- The task-sent events of the messages a worker sends (the next step of each job) join the
  same lists: Celery publishes each one at once otherwise, through a dispatcher of its own.
  They keep that dispatcher's hostname, pid and clock, so they read as Celery's own do.
- Each message carries a short argument representation naming its job (see tasks.publish), so
  a job can be found in Flower's task list and searched for.
- The tier-1 drain's messages get their events from workers.batch_events.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from celery import Celery, bootsteps
from celery.events import Event
from celery.utils.time import utcoffset

FLUSH_EVERY_S = 0.1
BUFFER_LIMIT = 200


def flush_groups(dispatcher: Any) -> None:
    """Publish each group's waiting events as one message, under the dispatcher's lock. The
    events taken are cut from the front of the list, so one appended meanwhile (list appends
    are atomic) stays for the next flush."""
    with dispatcher.mutex:
        for group, events in list(dispatcher._group_buffer.items()):
            taken = events[:]
            if not taken:
                continue
            del events[:len(taken)]
            dispatcher._publish(taken, dispatcher.producer, f"{group}.multi")


class _Flusher(threading.Thread):
    def __init__(self, dispatcher: Any, every_s: float) -> None:
        super().__init__(name="task-events-flush", daemon=True)
        self.dispatcher, self.every_s = dispatcher, every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every_s):
            try:
                flush_groups(self.dispatcher)
            except Exception:  # a broker outage: its events are dropped, Flower catches up
                continue


def install_batching(dispatcher: Any, every_s: float = FLUSH_EVERY_S,
                     limit: int = BUFFER_LIMIT) -> _Flusher:
    """Make `dispatcher` gather task events and publish them in lists, flushed by a thread of
    its own (returned, started) and when `limit` are waiting."""
    original_flush = dispatcher.flush

    def flush(errors: bool = True, groups: bool = True) -> None:
        if errors:
            original_flush(errors=True, groups=False)
        if groups:
            flush_groups(dispatcher)

    dispatcher.flush = flush
    dispatcher.buffer_group = frozenset({"task"})
    dispatcher.buffer_limit = limit
    # The event loop's flush is Celery's (list cleared after publishing): never asked for.
    dispatcher.on_send_buffered = None
    flusher = _Flusher(dispatcher, every_s)
    flusher.start()
    return flusher


class BufferedSentEvents:
    """Stands in for the dispatcher Celery publishes task-sent events with (`app.amqp`): each
    event, made as that dispatcher makes it, waits in `target`'s task buffer instead."""

    def __init__(self, original: Any, target: Any) -> None:
        self.original, self.target = original, target

    def publish(self, type: str, fields: dict[str, Any], producer: Any, blind: bool = False,
                **_: Any) -> None:
        clock = None if blind else self.original.clock.forward()
        event = Event(type, hostname=self.original.hostname, utcoffset=utcoffset(),
                      pid=self.original.pid, clock=clock, **fields)
        self.target._group_buffer["task"].append(event)


class BatchedTaskEvents(bootsteps.StartStopStep):  # type: ignore[misc]
    """After the consumer's event dispatcher is (re)created, batch its task events."""

    requires = ("celery.worker.consumer.events:Events",)

    def __init__(self, c: Any, **kwargs: Any) -> None:
        super().__init__(c, **kwargs)
        self.flusher: _Flusher | None = None
        self.amqp: Any = None

    def start(self, c: Any) -> None:
        self.stop(c)
        dispatcher = getattr(c, "event_dispatcher", None)
        if dispatcher is not None and dispatcher.enabled:
            self.flusher = install_batching(dispatcher)
            self.amqp = c.app.amqp
            self.amqp._event_dispatcher = BufferedSentEvents(self.amqp._event_dispatcher,
                                                             dispatcher)

    def stop(self, c: Any) -> None:
        if self.amqp is not None:
            # Sent events are published at once again until the next start batches them.
            self.amqp._event_dispatcher = self.amqp._event_dispatcher.original
            self.amqp = None
        if self.flusher is not None:
            self.flusher.stopped.set()
            self.flusher.join(timeout=2)
            # The connection may be going away with the worker: its last events with it.
            with contextlib.suppress(Exception):
                flush_groups(self.flusher.dispatcher)
            self.flusher = None

    def shutdown(self, c: Any) -> None:
        self.stop(c)


def install(app: Celery) -> None:
    app.steps["consumer"].add(BatchedTaskEvents)
