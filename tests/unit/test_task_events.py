"""Task events gathered and published in lists: none is lost to a flush running meanwhile."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tierline.workers.events import flush_groups, install_batching


@dataclass
class FakeDispatcher:
    """What the batching reads of Celery's EventDispatcher; `_publish` records each message
    and, like a pool thread sending during a flush, may append an event while it publishes."""

    mutex: Any = field(default_factory=threading.Lock)
    _group_buffer: defaultdict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list))
    producer: object = field(default_factory=object)
    published: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    during_publish: list[dict[str, Any]] = field(default_factory=list)
    buffer_group: frozenset[str] = frozenset()
    buffer_limit: int = 100
    on_send_buffered: Any = None
    errors_flushed: int = 0

    def _publish(self, events: Any, _producer: Any, routing_key: str) -> None:
        self.published.append((routing_key, list(events)))
        while self.during_publish:
            self._group_buffer["task"].append(self.during_publish.pop(0))

    def flush(self, errors: bool = True, groups: bool = True) -> None:
        self.errors_flushed += int(errors)


def test_events_sent_while_a_flush_publishes_wait_for_the_next_flush() -> None:
    dispatcher = FakeDispatcher()
    dispatcher._group_buffer["task"].extend([{"n": 1}, {"n": 2}])
    dispatcher.during_publish.append({"n": 3})
    flush_groups(dispatcher)
    assert dispatcher.published == [("task.multi", [{"n": 1}, {"n": 2}])]
    assert dispatcher._group_buffer["task"] == [{"n": 3}]
    flush_groups(dispatcher)
    assert dispatcher.published[-1] == ("task.multi", [{"n": 3}])
    flush_groups(dispatcher)  # nothing waiting: no empty message
    assert len(dispatcher.published) == 2


def test_batching_flushes_from_its_own_thread_and_on_demand() -> None:
    dispatcher = FakeDispatcher()
    flusher = install_batching(dispatcher, every_s=0.01)
    try:
        assert dispatcher.buffer_group == frozenset({"task"})
        assert dispatcher.on_send_buffered is None
        dispatcher._group_buffer["task"].append({"n": 1})
        deadline = time.monotonic() + 5
        while not dispatcher.published and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dispatcher.published == [("task.multi", [{"n": 1}])]
        dispatcher._group_buffer["task"].append({"n": 2})
        dispatcher.flush()
        assert dispatcher.errors_flushed == 1
        assert [e for _, events in dispatcher.published for e in events] == [{"n": 1}, {"n": 2}]
    finally:
        flusher.stopped.set()
        flusher.join(2)


def test_task_sent_events_wait_in_the_task_buffer_as_the_senders_own() -> None:
    from celery import Celery

    from tierline.workers.events import BufferedSentEvents

    app = Celery("sent-events-test", set_as_current=False)
    original = app.amqp._event_dispatcher
    target = FakeDispatcher()
    sent = BufferedSentEvents(original, target)
    sent.publish("task-sent", {"uuid": "t1", "name": "tierline.validate"}, producer=None)
    (event,) = target._group_buffer["task"]
    assert (event["type"], event["uuid"], event["hostname"]) == (
        "task-sent", "t1", original.hostname)
    assert target.published == []  # published by the next flush, with the worker's own events
