"""The Celery tasks: each unpacks ids and hands them to `tasks.pipeline`.

A step that crashes (a bug, a database outage) is retried a few times; after that its job is
failed with the error as the reason, so no job is left waiting for a message that will never come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task, shared_task

from tasks import pipeline, runtime
from tasks.backoff import retry_delay
from tasks.publish import CeleryPublisher
from tasks.queues import INFER_TASK, ROUTE_TASK, SHADOW_TASK, VALIDATE_TASK
from tasks.shadow import run_shadow

log = logging.getLogger(__name__)
publisher = CeleryPublisher()
MAX_CRASH_RETRIES = 3


def _guarded(task: Task, job_id: str, step: Callable[[], None]) -> None:
    try:
        step()
    except Exception as exc:
        if task.request.retries < MAX_CRASH_RETRIES:
            log.warning("%s for job %s crashed, retrying: %r", task.name, job_id, exc)
            raise task.retry(exc=exc, countdown=retry_delay(task.request.retries)) from exc
        log.exception("%s for job %s crashed for good", task.name, job_id)
        pipeline.fail_job(runtime.current(), job_id, f"{task.name} crashed: {exc!r}")


@shared_task(name=ROUTE_TASK, bind=True, max_retries=None)
def route(self: Task, job_id: str) -> None:
    _guarded(self, job_id, lambda: pipeline.route_job(runtime.current(), publisher, job_id))


@shared_task(name=INFER_TASK, bind=True, max_retries=None)
def infer(self: Task, job_id: str, tier: int) -> None:
    rt = runtime.current()
    outcome: list[pipeline.RetryLater | None] = []
    _guarded(self, job_id, lambda: outcome.append(pipeline.infer_job(rt, publisher, job_id, tier)))
    if not outcome or outcome[0] is None:
        return
    delay = pipeline.retry_or_give_up(rt, publisher, job_id, tier, self.request.retries,
                                      outcome[0])
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(name=VALIDATE_TASK, bind=True, max_retries=None)
def validate(self: Task, job_id: str, attempt_no: int) -> None:
    _guarded(self, job_id,
             lambda: pipeline.validate_attempt(runtime.current(), publisher, job_id, attempt_no))


@shared_task(name=SHADOW_TASK, bind=True, max_retries=None)
def shadow(self: Task, job_id: str, attempt_no: int, candidate: str) -> None:
    # Not `_guarded`: a shadow test must never fail its job. The candidate's own failures are
    # recorded as rows; a step that keeps crashing (the database down) is dropped, logged.
    try:
        run_shadow(runtime.current(), job_id, attempt_no, candidate)
    except Exception as exc:
        if self.request.retries < MAX_CRASH_RETRIES:
            log.warning("shadow %s of job %s crashed, retrying: %r", candidate, job_id, exc)
            raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc
        log.exception("shadow %s of job %s crashed for good; dropped", candidate, job_id)
