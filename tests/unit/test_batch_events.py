"""The drains' requests get the task events Celery's tracer gives ordinary ones, and each
flush is measured under its drain."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from celery import Celery
from prometheus_client import REGISTRY

from tierline.workers.batch_events import EventedBatches, drain_of


@dataclass
class FakeTask:
    acks_late: bool = True


@dataclass
class FakeRequest:
    id: str
    task: FakeTask = field(default_factory=FakeTask)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    acked: int = 0
    name: str = "tierline.infer_batch"
    delivery_info: dict[str, Any] = field(default_factory=dict)
    hostname: str = "tier1@test"
    reply_to: str | None = None
    correlation_id: str | None = None
    request_dict: dict[str, Any] = field(default_factory=dict)
    eta: Any = None

    @property
    def _payload(self) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
        return [self.id, 1, 0], {}, {}

    @property
    def args(self) -> list[Any]:
        return self._payload[0]

    def send_event(self, kind: str, **fields: Any) -> None:
        self.events.append((kind, fields))

    def acknowledge(self) -> None:
        self.acked += 1


@dataclass
class FakePool:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def apply_async(self, target: Any, args: Any, **callbacks: Any) -> None:
        self.calls.append({"target": target, "args": args, **callbacks})


def drain_task(pool: FakePool) -> Any:
    app = Celery("events-test", set_as_current=False)

    def drain(requests: list[Any]) -> None:
        if any(r.args[0] == "explode" for r in requests):
            raise RuntimeError("database down")

    task: Any = app.task(base=EventedBatches, name="tierline.infer_batch", shared=False,
                         acks_late=True)(drain)
    task._pool = pool
    return task


def test_a_flush_reports_started_then_succeeded_for_each_request_and_acks_after() -> None:
    pool = FakePool()
    task = drain_task(pool)
    requests = [FakeRequest("a"), FakeRequest("b")]
    task.flush(requests)
    (call,) = pool.calls
    call["accept_callback"](123, 0.0)
    assert [[kind for kind, _ in r.events] for r in requests] == [["task-started"]] * 2
    assert all(r.acked == 0 for r in requests)  # acks late: not before the flush ran
    outcome = task(*call["args"][1])
    call["callback"](outcome)
    assert [[kind for kind, _ in r.events] for r in requests] == [
        ["task-started", "task-succeeded"]] * 2
    assert all(r.acked == 1 for r in requests)


def test_a_flush_that_raises_reports_each_request_failed_with_the_reason() -> None:
    pool = FakePool()
    task = drain_task(pool)
    requests = [FakeRequest("explode"), FakeRequest("b")]
    task.flush(requests)
    (call,) = pool.calls
    call["callback"](task(*call["args"][1]))
    failed = [fields for r in requests for kind, fields in r.events if kind == "task-failed"]
    assert len(failed) == 2 and all("database down" in f["exception"] for f in failed)


def test_a_lost_flush_is_reported_failed_and_left_unacknowledged() -> None:
    pool = FakePool()
    task = drain_task(pool)
    requests = [FakeRequest("a")]
    task.flush(requests)
    pool.calls[0]["error_callback"](RuntimeError("worker lost"))
    assert requests[0].events[-1][0] == "task-failed" and requests[0].acked == 0


def test_a_flushs_events_are_the_ones_celerys_dispatcher_makes() -> None:
    from tierline.workers.batch_events import send_events

    app = Celery("events-test", broker="memory://", set_as_current=False)
    dispatcher = app.events.Dispatcher(None, hostname="tier1@test", enabled=True,
                                       buffer_group=["task"])
    dispatcher.buffer_limit = 1000
    requests = [FakeRequest("a"), FakeRequest("b")]
    for request in requests:
        request._eventer = dispatcher  # type: ignore[attr-defined]
        request.task.send_events = True  # type: ignore[attr-defined]
    dispatcher.send("task-succeeded", uuid="a", result="None", runtime=0.5)
    send_events(requests, "task-succeeded", result="None", runtime=0.5)
    celerys, *ours = dispatcher._group_buffer["task"]
    assert [e["uuid"] for e in ours] == ["a", "b"]
    moving = {"timestamp", "clock", "uuid"}
    assert all({k: v for k, v in e.items() if k not in moving} ==
               {k: v for k, v in celerys.items() if k not in moving} for e in ours)
    assert [e["clock"] for e in ours] == [celerys["clock"] + 1, celerys["clock"] + 2]
    assert requests[0].events == []  # buffered by the dispatcher, not sent one by one
    # A worker that sends no task events sends none for its flushes either.
    dispatcher.enabled = False
    send_events(requests, "task-started")
    assert len(dispatcher._group_buffer["task"]) == 3


@dataclass
class FakeConsumer:
    """What a drain's strategy reads of Celery's consumer, with kombu's real timer."""
    timer: Any
    pool: FakePool = field(default_factory=FakePool)
    hostname: str = "tier3@test"
    connection_errors: tuple[type[BaseException], ...] = ()
    event_dispatcher: Any = None


def _timer() -> Any:
    from kombu.asynchronous.timer import Timer

    return Timer()  # type: ignore[no-untyped-call]


def _lose_connection(task: Any, consumer: FakeConsumer) -> None:
    """As Celery's event loop does on a lost connection: its timer's entries are dropped."""
    consumer.timer.clear()
    assert task._tref is not None  # celery-batches still believes its flush armed


def test_a_consumer_restarted_after_a_lost_connection_flushes_on_its_interval_again() -> None:
    task = drain_task(FakePool())
    first = FakeConsumer(_timer())
    handler = task.Strategy(task, task.app, first)
    assert callable(handler) and task._tref is None  # nothing buffered, nothing armed yet
    task._tref = first.timer.call_repeatedly(task.flush_interval, task._do_flush)  # a message came
    _lose_connection(task, first)
    task._buffer.put(FakeRequest("held-before-the-loss"))

    second = FakeConsumer(_timer())
    task.Strategy(task, task.app, second)

    assert task._tref is not None and len(second.timer.queue) == 1
    task._do_flush()  # what that entry runs: the held request is flushed, not kept
    assert [r.id for r in second.pool.calls[0]["args"][1][0]] == ["held-before-the-loss"]


def test_a_consumer_restarted_with_nothing_buffered_arms_on_its_next_message() -> None:
    task = drain_task(FakePool())
    first = FakeConsumer(_timer())
    task.Strategy(task, task.app, first)
    task._tref = first.timer.call_repeatedly(task.flush_interval, task._do_flush)
    _lose_connection(task, first)

    second = FakeConsumer(_timer())
    task.Strategy(task, task.app, second)

    # celery-batches' handler arms the flush when `_tref` is None, as on a first message.
    assert task._tref is None and not second.timer.queue


def test_each_flush_is_measured_under_its_own_drain() -> None:
    def count(drain: str) -> float:
        return REGISTRY.get_sample_value("tierline_flush_size_count", {"drain": drain}) or 0.0

    assert drain_of("tierline.infer_batch", [SimpleNamespace(args=("job", 2, 0))]) == "tier2"
    assert drain_of("tierline.route", []) == "route"
    assert drain_of("tierline.validate", []) == "validate"
    before = (count("tier1"), REGISTRY.get_sample_value("tierline_flush_size_sum",
                                                         {"drain": "tier1"}) or 0.0)
    drain_task(FakePool()).flush([FakeRequest("a"), FakeRequest("b")])
    assert count("tier1") == before[0] + 1
    assert REGISTRY.get_sample_value("tierline_flush_size_sum", {"drain": "tier1"}) == (
        before[1] + 2)
