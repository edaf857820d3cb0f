"""Publishing the next step: the only place that knows which queue each message goes to."""

from __future__ import annotations

from collections.abc import Iterable

from celery import current_app

from tasks.queues import (
    INFER_BATCH_TASK,
    INFER_TASK,
    ROUTE,
    ROUTE_TASK,
    SHADOW,
    SHADOW_TASK,
    VALIDATE,
    VALIDATE_TASK,
    tier_queue,
)


class CeleryPublisher:
    """Messages carry ids only; the database holds everything else."""

    def route(self, job_ids: Iterable[str]) -> int:
        count = 0
        with current_app.producer_or_acquire() as producer:
            for job_id in job_ids:
                current_app.send_task(ROUTE_TASK, (job_id,), queue=ROUTE, producer=producer)
                count += 1
        return count

    def infer(self, job_id: str, tier: int, retries: int = 0, countdown: float = 0,
              outage_since: float = 0.0) -> None:
        # Tier 1 goes to the batching drain, which carries its own retry count and the start
        # of an outage it is waiting out.
        if tier == 1:
            current_app.send_task(INFER_BATCH_TASK, (job_id, tier, retries, outage_since),
                                  queue=tier_queue(tier), countdown=countdown or None)
        else:
            current_app.send_task(INFER_TASK, (job_id, tier), queue=tier_queue(tier),
                                  countdown=countdown or None)

    def validate(self, job_id: str, attempt_no: int) -> None:
        current_app.send_task(VALIDATE_TASK, (job_id, attempt_no), queue=VALIDATE)

    def shadow(self, job_id: str, attempt_no: int, candidate: str) -> None:
        current_app.send_task(SHADOW_TASK, (job_id, attempt_no, candidate), queue=SHADOW)
