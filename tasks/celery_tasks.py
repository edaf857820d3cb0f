"""The Celery tasks: each unpacks ids and hands them to `tasks.pipeline`, through `tasks.guard`.

The route and validate steps work in sets, as drains (`workers.set_steps`), like tier 1.

A step that raises is sent again (`Task.retry`, with a countdown): an outage of the database or
the broker is waited out for `outage_window_s` before its job fails; a crash is retried and,
after `poison_deliveries` deliveries that did not finish, quarantined with the job failed and
the reason kept. So no job is left waiting for a message that will never come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task

from tierline.tasks import pipeline, runtime
from tierline.tasks.backoff import retry_delay
from tierline.tasks.deliveries import delivery_key
from tierline.tasks.guard import Again, run_guarded
from tierline.tasks.publish import CeleryPublisher
from tierline.tasks.queues import INFER_TASK, SHADOW_TASK
from tierline.tasks.shadow import run_shadow

log = logging.getLogger(__name__)
publisher = CeleryPublisher()
MAX_SHADOW_RETRIES = 3


def _run(task: Task, step: str, key: str, job_id: str, body: Callable[[], Any],
         outage_since: float, **resend: Any) -> Any:
    """Run the step; on `Again`, send this task again with the outage's start carried along."""
    outcome = run_guarded(runtime.current(), step, key, job_id, body, outage_since)
    if isinstance(outcome, Again):
        raise task.retry(kwargs={**resend, "outage_since": outcome.outage_since},
                         countdown=outcome.delay_s)
    return outcome


def _infer_once(job_id: str, tier: int, retries: int) -> float | None:
    """One try of the tier; the delay before the next one when it failed retryably."""
    rt = runtime.current()
    outcome = pipeline.infer_job(rt, publisher, job_id, tier)
    if outcome is None:
        return None
    return pipeline.retry_or_give_up(rt, publisher, job_id, tier, retries, outcome)


@shared_task(name=INFER_TASK, bind=True, max_retries=None)
def infer(self: Task, job_id: str, tier: int, retries: int = 0,
          outage_since: float = 0.0) -> None:
    delay = _run(self, "infer", delivery_key("infer", job_id, tier), job_id,
                 lambda: _infer_once(job_id, tier, retries), outage_since, retries=retries)
    if delay is not None:
        raise self.retry(kwargs={"retries": retries + 1}, countdown=delay)


@shared_task(name=SHADOW_TASK, bind=True, max_retries=None)
def shadow(self: Task, job_id: str, attempt_no: int, candidate: str) -> None:
    # Not guarded: a shadow test must never fail its job. The candidate's own failures are
    # recorded as rows; a step that keeps crashing (the database down) is dropped, logged.
    try:
        run_shadow(runtime.current(), job_id, attempt_no, candidate)
    except Exception as exc:
        if self.request.retries < MAX_SHADOW_RETRIES:
            log.warning("shadow %s of job %s crashed, retrying: %r", candidate, job_id, exc)
            raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc
        log.exception("shadow %s of job %s crashed for good; dropped", candidate, job_id)
