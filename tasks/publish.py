"""Publishing the next step: the only place that knows which queue each message goes to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

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


def argsrepr(job_id: str, **more: object) -> str:
    """How a message's arguments show in Flower and in worker logs: the job first, so a job is
    found in the task list (and by Flower's search) without opening each task."""
    return " ".join([f"job={job_id}", *(f"{k}={v}" for k, v in more.items())])


def _pushed_to_redis(messages: Sequence[tuple[str, tuple[Any, ...], str, str]]) -> bool:
    """Write (task, args, queue, args shown) messages straight into kombu's Redis lists, one
    LPUSH per queue in one round trip (see tasks.bulk_publish); False, sending nothing, when
    the broker is not Redis."""
    with current_app.producer_or_acquire() as producer:
        channel = producer.channel
        if producer.connection.transport.driver_type != "redis":
            return False
        origin = anon_nodename()
        by_queue: dict[str, list[str]] = {}
        for task, args, queue, shown in messages:
            by_queue.setdefault(queue, []).append(
                envelope(task, args, queue, origin, args_repr=shown))
        pipe = channel.client.pipeline(transaction=False)
        for queue, queued in by_queue.items():
            # The list kombu reads for the queue at the default priority.
            push_all(pipe, channel._q_for_pri(queue, 0), queued)
        pipe.execute()
    return True


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
        current_app.send_task(INFER_BATCH_TASK, (job_id, tier, retries, outage_since),
                              queue=tier_queue(tier), countdown=countdown or None,
                              argsrepr=argsrepr(job_id, tier=tier, retry=retries))

    def route_again(self, job_id: str, countdown: float = 0, outage_since: float = 0.0) -> None:
        """A route message sent again by its drain, with the start of the outage it waits out."""
        current_app.send_task(ROUTE_TASK, (job_id, outage_since), queue=ROUTE,
                              countdown=countdown or None, argsrepr=argsrepr(job_id))

    def infer_many(self, messages: Sequence[tuple[str, int]]) -> None:
        """The tier messages of a flush, (job, tier) each; on Redis one LPUSH per queue, all in
        one round trip (see tasks.bulk_publish), without task-sent events."""
        if not messages or _pushed_to_redis([
                (INFER_BATCH_TASK, (job_id, tier, 0, 0.0), tier_queue(tier),
                 argsrepr(job_id, tier=tier, retry=0)) for job_id, tier in messages]):
            return
        for job_id, tier in messages:
            self.infer(job_id, tier)

    def validate(self, job_id: str, attempt_no: int, countdown: float = 0,
                 outage_since: float = 0.0) -> None:
        args = (job_id, attempt_no, outage_since) if outage_since else (job_id, attempt_no)
        current_app.send_task(VALIDATE_TASK, args, queue=VALIDATE, countdown=countdown or None,
                              argsrepr=argsrepr(job_id, attempt=attempt_no))

    def shadow(self, job_id: str, attempt_no: int, candidate: str) -> None:
        current_app.send_task(SHADOW_TASK, (job_id, attempt_no, candidate), queue=SHADOW,
                              argsrepr=argsrepr(job_id, attempt=attempt_no, candidate=candidate))
