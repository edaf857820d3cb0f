"""Publishing the next step: the only place that knows which queue each message goes to.

On a Redis broker, a message sent without a countdown is written straight into its queue's
list in kombu's own form (see tasks.bulk_publish): Celery's producer spends about twice the
CPU on the same LPUSH (routing, declaring, retry wrappers, serialising twice). Its task-sent
event is made as Celery makes it, so Flower shows the message PENDING from the moment it is
sent. A message with a countdown, or one whose write failed (a broker outage, which Celery's
publish retries wait out), goes through Celery.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import uuid4

from celery import current_app
from celery.utils.nodenames import anon_nodename

from tierline.tasks.bulk_publish import envelope, push_all
from tierline.tasks.queues import (
    INFER_BATCH_TASK,
    ROUTE,
    ROUTE_TASK,
    SHADOW,
    SHADOW_TASK,
    VALIDATE,
    VALIDATE_TASK,
    tier_queue,
)

log = logging.getLogger(__name__)

# (task, args, queue, args shown in Flower and logs)
Message = tuple[str, tuple[Any, ...], str, str]


def argsrepr(job_id: str, **more: object) -> str:
    """How a message's arguments show in Flower and in worker logs: the job first, so a job is
    found in the task list (and by Flower's search) without opening each task."""
    return " ".join([f"job={job_id}", *(f"{k}={v}" for k, v in more.items())])


def _pushed_to_redis(messages: Sequence[Message], sent_events: bool = False) -> bool:
    """Write messages straight into kombu's Redis lists, one LPUSH per queue in one round trip
    (see tasks.bulk_publish), with their task-sent events if asked and the app sends them;
    False, sending nothing, when the broker is not Redis."""
    with current_app.producer_or_acquire() as producer:
        channel = producer.channel
        if producer.connection.transport.driver_type != "redis":
            return False
        origin = anon_nodename()
        ids = [str(uuid4()) for _ in messages]
        by_queue: dict[str, list[str]] = {}
        for (task, args, queue, shown), task_id in zip(messages, ids, strict=True):
            by_queue.setdefault(queue, []).append(
                envelope(task, args, queue, origin, args_repr=shown, task_id=task_id))
        # The lists kombu reads for the queues at the default priority.
        if len(by_queue) == 1:
            (queue, queued), = by_queue.items()
            push_all(channel.client, channel._q_for_pri(queue, 0), queued)
        else:
            pipe = channel.client.pipeline(transaction=False)
            for queue, queued in by_queue.items():
                push_all(pipe, channel._q_for_pri(queue, 0), queued)
            pipe.execute()
        if sent_events and current_app.conf.task_send_sent_event:
            _sent_events(producer, messages, ids)
    return True


def _sent_events(producer: Any, messages: Sequence[Message], ids: Sequence[str]) -> None:
    """The task-sent events Celery's `send_task` would send for these messages, through the
    same dispatcher (in a worker, its events' buffer: see workers.events)."""
    dispatcher = current_app.amqp._event_dispatcher
    for (task, _, queue, shown), task_id in zip(messages, ids, strict=True):
        dispatcher.publish("task-sent", {
            "uuid": task_id, "root_id": task_id, "parent_id": None, "name": task,
            "args": shown, "kwargs": "{}", "retries": 0, "eta": None, "expires": None,
            "queue": queue, "exchange": "", "routing_key": queue}, producer)


def _send(task: str, args: tuple[Any, ...], queue: str, shown: str,
          countdown: float = 0) -> None:
    """One message: written straight into Redis when it can be (see the module docstring),
    else sent by Celery."""
    if not countdown:
        try:
            if _pushed_to_redis([(task, args, queue, shown)], sent_events=True):
                return
        except Exception as exc:  # an outage: Celery's publish retries wait it out
            log.debug("direct write of a %s message failed, sending it through Celery: %r",
                      task, exc)
    current_app.send_task(task, args, queue=queue, countdown=countdown or None, argsrepr=shown)


class CeleryPublisher:
    """Messages carry ids only; the database holds everything else."""

    def route(self, job_ids: Iterable[str]) -> int:
        """One `route` message per job; on Redis a chunk is one LPUSH (see tasks.bulk_publish).

        Bulk messages carry no task-sent event (one more publish each, which halves the rate);
        Flower sees each job from its first received event on."""
        ids = list(job_ids)
        if _pushed_to_redis([(ROUTE_TASK, (job_id,), ROUTE, argsrepr(job_id)) for job_id in ids]):
            return len(ids)
        with current_app.producer_or_acquire() as producer:
            for job_id in ids:
                current_app.send_task(ROUTE_TASK, (job_id,), queue=ROUTE, producer=producer,
                                      argsrepr=argsrepr(job_id))
        return len(ids)

    def infer(self, job_id: str, tier: int, retries: int = 0, countdown: float = 0,
              outage_since: float = 0.0) -> None:
        # Every tier is drained in flushes (workers.tier1); the message carries its own retry
        # count and the start of an outage it is waiting out.
        _send(INFER_BATCH_TASK, (job_id, tier, retries, outage_since), tier_queue(tier),
              argsrepr(job_id, tier=tier, retry=retries), countdown)

    def route_again(self, job_id: str, countdown: float = 0, outage_since: float = 0.0) -> None:
        """A route message sent again by its drain, with the start of the outage it waits out."""
        _send(ROUTE_TASK, (job_id, outage_since), ROUTE, argsrepr(job_id), countdown)

    def infer_many(self, messages: Sequence[tuple[str, int]]) -> None:
        """The tier messages of a flush, (job, tier) each; on Redis one LPUSH per queue, all in
        one round trip (see tasks.bulk_publish), with their task-sent events as a lone message
        has (a worker buffers its events and publishes them in lists: see workers.events)."""
        if not messages or _pushed_to_redis([
                (INFER_BATCH_TASK, (job_id, tier, 0, 0.0), tier_queue(tier),
                 argsrepr(job_id, tier=tier, retry=0)) for job_id, tier in messages],
                sent_events=True):
            return
        for job_id, tier in messages:
            self.infer(job_id, tier)

    def validate(self, job_id: str, attempt_no: int, countdown: float = 0,
                 outage_since: float = 0.0) -> None:
        args = (job_id, attempt_no, outage_since) if outage_since else (job_id, attempt_no)
        _send(VALIDATE_TASK, args, VALIDATE, argsrepr(job_id, attempt=attempt_no), countdown)

    def shadow(self, job_id: str, attempt_no: int, candidate: str) -> None:
        _send(SHADOW_TASK, (job_id, attempt_no, candidate), SHADOW,
              argsrepr(job_id, attempt=attempt_no, candidate=candidate))
