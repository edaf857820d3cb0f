"""The route and validate steps as drains: messages (one job id each) are buffered and flushed
every 100 ms (or N messages), and each flush is one transaction for all its jobs
(`tasks.route_batch`, `tasks.validate_batch`).

Built on celery-batches, like the tier-1 drain (`workers.tier1`): messages are acknowledged
only after their flush has run (acks late), so a worker killed mid-flush leaves them to be
delivered again; the worker's prefetch must cover a flush (`--prefetch-multiplier` at least
the flush size over concurrency). The tasks keep the names of the one-message steps, so
producers, re-sends and Flower see the same `tierline.route` and `tierline.validate`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from celery import Celery
from celery_batches import SimpleRequest

from tierline.config.settings import Settings
from tierline.tasks import runtime
from tierline.tasks.guard import Again
from tierline.tasks.pipeline import Publisher
from tierline.tasks.publish import CeleryPublisher
from tierline.tasks.queues import ROUTE_TASK, VALIDATE_TASK
from tierline.tasks.route_batch import run_route_batch
from tierline.tasks.runtime import Runtime
from tierline.tasks.step_flush import StepItem
from tierline.tasks.validate_batch import run_validate_batch
from tierline.workers.batch_events import WHOLE_FLUSH_RETRY_S, EventedBatches

log = logging.getLogger(__name__)
publisher = CeleryPublisher()


def route_item(request: SimpleRequest) -> StepItem:
    """(job id[, outage since]); a re-send from before the drains carried it as a keyword."""
    job_id, *rest = request.args
    since = rest[0] if rest else (request.kwargs or {}).get("outage_since", 0.0)
    return StepItem(job_id=job_id, at=0, outage_since=float(since or 0.0))


def validate_item(request: SimpleRequest) -> StepItem:
    """(job id, attempt number[, outage since])."""
    job_id, attempt_no, *rest = request.args
    since = rest[0] if rest else (request.kwargs or {}).get("outage_since", 0.0)
    return StepItem(job_id=job_id, at=int(attempt_no), outage_since=float(since or 0.0))


def _resend_route(item: StepItem, countdown: float) -> None:
    publisher.route_again(item.job_id, countdown=countdown, outage_since=item.outage_since)


def _resend_validate(item: StepItem, countdown: float) -> None:
    publisher.validate(item.job_id, item.at, countdown=countdown, outage_since=item.outage_since)


Run = Callable[[Runtime, Publisher, Sequence[StepItem]], list[tuple[StepItem, Again]]]


def _drain(step: str, parse: Callable[[SimpleRequest], StepItem], run: Run,
           resend: Callable[[StepItem, float], None]) -> Callable[[list[SimpleRequest]], None]:
    def send(item: StepItem, countdown: float) -> None:
        try:
            resend(item, countdown)
        except Exception:
            # The broker is down past its publish retries: the job's state is unchanged, so the
            # janitor sends its message again once it has been idle long enough.
            log.exception("could not send the %s of job %s again", step, item.job_id)

    def drain(requests: list[SimpleRequest]) -> None:
        """One flush. Never raises: celery-batches acknowledges a flush's messages whatever it
        returns, so every item that needs another try is sent again from here."""
        items = [parse(r) for r in requests]
        try:
            again = run(runtime.current(), publisher, items)
        except Exception:
            log.exception("%s flush of %d jobs failed as a whole; sending them again", step,
                          len(items))
            again = [(item, Again(WHOLE_FLUSH_RETRY_S, item.outage_since)) for item in items]
        for item, outcome in again:
            send(StepItem(item.job_id, item.at, outcome.outage_since), outcome.delay_s)

    drain.__name__ = f"{step}_drain"
    return drain


def register_set_steps(app: Celery, settings: Settings) -> list[Any]:
    """The route and validate drains, under the steps' own task names."""
    steps = [
        (ROUTE_TASK, _drain("route", route_item, run_route_batch, _resend_route),
         settings.route_flush_every),
        (VALIDATE_TASK, _drain("validate", validate_item, run_validate_batch, _resend_validate),
         settings.validate_flush_every),
    ]
    return [app.task(name=name, base=EventedBatches, flush_every=every,
                     flush_interval=settings.step_flush_interval_s, acks_late=True)(drain)
            for name, drain, every in steps]
