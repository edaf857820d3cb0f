"""The tier-1 drain: messages on `tier1` are buffered and flushed every 100 ms (or N messages),
and each flush sends its jobs to the tier-1 endpoints concurrently.

Built on celery-batches. Messages are acknowledged only after their flush has run (acks late),
so a drain killed mid-flush leaves them to be delivered again. The worker's prefetch must cover
a whole batch: run it with `--prefetch-multiplier` at least the flush size over concurrency.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery_batches import SimpleRequest

from jobs.settings import Settings
from tasks import pipeline, runtime
from tasks.batch import BatchItem, run_batch
from tasks.publish import CeleryPublisher
from tasks.queues import INFER_BATCH_TASK
from workers.batch_events import EventedBatches

log = logging.getLogger(__name__)
publisher = CeleryPublisher()


def _item(request: SimpleRequest) -> BatchItem:
    job_id, tier, *rest = request.args
    return BatchItem(job_id=job_id, tier=int(tier), retries=int(rest[0]) if rest else 0)


def drain(requests: list[SimpleRequest]) -> None:
    rt = runtime.current()
    items = [_item(r) for r in requests]
    for item, outcome in run_batch(rt, publisher, items):
        delay = pipeline.retry_or_give_up(rt, publisher, item.job_id, item.tier, item.retries,
                                          outcome)
        if delay is not None:
            publisher.infer(item.job_id, item.tier, item.retries + 1, countdown=delay)


def register_tier1_drain(app: Celery, settings: Settings) -> Any:
    return app.task(
        name=INFER_BATCH_TASK,
        base=EventedBatches,
        flush_every=settings.tier1_flush_every,
        flush_interval=settings.tier1_flush_interval_s,
        acks_late=True,
    )(drain)
