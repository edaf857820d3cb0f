"""The Celery tasks: each unpacks ids and hands them to `tasks.pipeline`."""

from __future__ import annotations

from celery import Task, shared_task

from tasks import pipeline, runtime
from tasks.backoff import retry_delay
from tasks.publish import CeleryPublisher
from tasks.queues import INFER_TASK, ROUTE_TASK, VALIDATE_TASK

publisher = CeleryPublisher()


@shared_task(name=ROUTE_TASK)
def route(job_id: str) -> None:
    pipeline.route_job(runtime.current(), publisher, job_id)


@shared_task(name=INFER_TASK, bind=True, max_retries=None)
def infer(self: Task, job_id: str, tier: int) -> None:
    rt = runtime.current()
    outcome = pipeline.infer_job(rt, publisher, job_id, tier)
    if outcome is None:
        return
    retries = self.request.retries
    if retries >= rt.settings.max_provider_retries:
        reason = f"tier {tier} unavailable after {retries + 1} tries: {outcome.reason}"
        pipeline.give_up_tier(rt, publisher, job_id, tier, reason)
        return
    raise self.retry(countdown=retry_delay(retries, outcome.delay_s))


@shared_task(name=VALIDATE_TASK)
def validate(job_id: str, attempt_no: int) -> None:
    pipeline.validate_attempt(runtime.current(), publisher, job_id, attempt_no)
