"""What one drained message costs a worker besides its step: CPU per message, in one process.

    python bench/message_overhead.py [--messages 640] [--flush 64] [--prefetch 128] [--rounds 8]
                                     [--json]

Against a private redis-server, with the fleet's own app (workers.celery_app) and its task
events installed as a worker installs them (workers.events), each message goes through:

- publish: `CeleryPublisher.validate` (what a tier drain sends per answered job), or Celery's
  `send_task` of the same message, with its task-sent event when events are on;
- receive: taken off its list and recorded as unacknowledged by the channel's consumer, as the
  worker takes it (`drain_events`, within a prefetch of `--prefetch`, the validate worker's),
  and made a Celery request;
- drain: buffered (the task-received event), flushed in groups of `--flush` through
  `EventedBatches.flush` with a pool that runs nothing (task-started, task-succeeded, the
  acknowledgements, and the event loop turn that writes them), the events published in lists.

CPU is the process's (every thread: the events' flusher included), from `time.process_time`.
Each variant (`VARIANTS`) runs `--rounds` times, the variants alternating; every round is
printed, never only the best.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.figures import publish  # noqa: E402
from bench.services import PrivateRedis, private_redis  # noqa: E402

QUEUE = "validate"


class _InlinePool:
    """A pool that accepts and returns at once: what is left is the drain's own handling."""

    def apply_async(self, target: Any, args: Any, accept_callback: Any = None,
                    callback: Any = None, error_callback: Any = None) -> None:
        accept_callback(0, time.monotonic())
        callback({"error": None})


class _Consumer:
    """What the events step and the strategy read of Celery's consumer."""

    def __init__(self, app: Any, dispatcher: Any) -> None:
        self.app, self.event_dispatcher = app, dispatcher
        self.ready: list[Any] = []

    def call_soon(self, p: Any, *args: Any) -> None:
        self.ready.append((p, args))

    def loop_turn(self, channel: Any) -> None:
        """One turn of the worker's event loop: the callbacks (acks), then the poll start."""
        ready, self.ready = self.ready, []
        for p, args in ready:
            p(*args)
        channel.qos.can_consume()


# Each variant: task events on or off; kombu's own Redis transport (one round trip per
# acknowledgement) or the fleet's (workers.redis_transport); messages published by the fleet's
# publisher (tasks.publish) or by Celery's `send_task`.
VARIANTS: dict[str, dict[str, Any]] = {
    "fleet": {"events": True, "transport": None, "celery_publish": False},
    "kombu_acks": {"events": True, "transport": "redis", "celery_publish": False},
    "celery_publish": {"events": True, "transport": None, "celery_publish": True},
    "no_events": {"events": False, "transport": None, "celery_publish": False},
}


def _round(redis: PrivateRedis, messages: int, flush: int, prefetch: int, events: bool,
           transport: str | None, celery_publish: bool) -> dict[str, float]:
    from celery.worker.request import Request, create_request_cls
    from vine import promise

    from tierline.config.settings import Settings
    from tierline.tasks.publish import CeleryPublisher, argsrepr
    from tierline.tasks.queues import VALIDATE_TASK
    from tierline.workers.batch_events import _on_buffered
    from tierline.workers.celery_app import create_app
    from tierline.workers.events import BatchedTaskEvents

    url = redis.url
    app = create_app(Settings(broker_url=url, task_events=events))
    if transport:
        app.conf.broker_transport = transport
    app.set_current()
    app.set_default()
    task = app.tasks[VALIDATE_TASK]
    task._pool = _InlinePool()
    with app.connection_for_write() as conn:
        conn.ensure_connection()
        dispatcher = app.events.Dispatcher(conn, hostname="bench@host", enabled=events,
                                           buffer_group=["task"])
        consumer = _Consumer(app, dispatcher)
        step = BatchedTaskEvents(consumer)
        step.start(consumer)
        channel = conn.channel()
        channel.basic_qos(0, prefetch, False)
        publisher = CeleryPublisher()
        Req = create_request_cls(Request, task, task._pool, "bench@host", dispatcher, app=app)
        try:
            commands = sum(redis.commands().values())
            started = time.process_time()
            for n in range(messages):
                job_id = f"job-{n:08d}"
                if celery_publish:
                    app.send_task(VALIDATE_TASK, (job_id, 1), queue=QUEUE,
                                  argsrepr=argsrepr(job_id, attempt=1))
                else:
                    publisher.validate(job_id, 1)
            published = time.process_time()
            batch: list[Any] = []
            received = 0

            def on_message(message: Any) -> None:
                nonlocal batch, received
                request = Req(message, on_ack=promise(consumer.call_soon,
                                                      (message.ack_log_error,)),
                              on_reject=None, app=app, hostname="bench@host",
                              eventer=dispatcher, task=task,
                              connection_errors=conn.connection_errors)
                _on_buffered(request=request)
                batch.append(request)
                received += 1
                if len(batch) == flush:
                    task.flush(batch)
                    consumer.loop_turn(channel)
                    batch = []

            channel.basic_consume(QUEUE, False, on_message, "bench")
            while received < messages:
                conn.drain_events(timeout=5)
            if batch:
                task.flush(batch)
                consumer.loop_turn(channel)
            drained = time.process_time()
            commands = sum(redis.commands().values()) - commands - 1
        finally:
            channel.basic_cancel("bench")
            step.stop(consumer)
            channel.close()
        left = conn.default_channel.client.zcard(channel.unacked_index_key)
    app.close()
    if left:
        raise RuntimeError(f"{left} messages left unacknowledged")
    per = 1e6 / messages
    return {"publish_us": round((published - started) * per, 1),
            "receive_and_drain_us": round((drained - published) * per, 1),
            "total_us": round((drained - started) * per, 1),
            "redis_commands": round(commands / messages, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=640)
    parser.add_argument("--flush", type=int, default=64)
    parser.add_argument("--prefetch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, of {', '.join(VARIANTS)}")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in args.variants.split(",")}
    with private_redis() as redis:
        for variant in runs:  # imports and connections warmed
            _round(redis, 200, args.flush, args.prefetch, **VARIANTS[variant])
        for _ in range(args.rounds):
            for variant in runs:
                runs[variant].append(_round(redis, args.messages, args.flush, args.prefetch,
                                            **VARIANTS[variant]))
    figures: dict[str, Any] = {"messages": args.messages, "flush": args.flush,
                               "prefetch": args.prefetch, "runs": runs}
    for kind, rounds in runs.items():
        figures[f"{kind}_median_us"] = {k: statistics.median(r[k] for r in rounds)
                                        for k in rounds[0]}
        print(f"{kind}: CPU µs per message, every round: " +
              "; ".join(", ".join(f"{k} {v}" for k, v in r.items()) for r in rounds))
    publish("message_overhead", figures, args.json)


if __name__ == "__main__":
    main()
