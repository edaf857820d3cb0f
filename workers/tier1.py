"""The tier drains: messages on `tier1` (and on `tier2` and `tier3`, whose workers run the same
task) are buffered and flushed every 100 ms (or N messages), and each flush sends its jobs to
their tier's endpoints concurrently. For tier 1 that is the micro-batching toward Groq; for the
slower tiers it shares one claim, one event loop and grouped ledger writes among a flush's
calls, where a thread per call cost several times the CPU.

Built on celery-batches. Messages are acknowledged only after their flush has run (acks late),
so a drain killed mid-flush leaves them to be delivered again. The worker's prefetch must cover
a whole batch: run it with `--prefetch-multiplier` at least the flush size over concurrency.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery_batches import SimpleRequest

from tierline.config.settings import Settings
from tierline.tasks import runtime
from tierline.tasks.batch import BatchItem, next_try, run_batch
from tierline.tasks.publish import CeleryPublisher
from tierline.tasks.queues import INFER_BATCH_TASK
from tierline.workers.batch_events import WHOLE_FLUSH_RETRY_S, EventedBatches

log = logging.getLogger(__name__)
publisher = CeleryPublisher()


def _item(request: SimpleRequest) -> BatchItem:
    job_id, tier, *rest = request.args
    return BatchItem(job_id=job_id, tier=int(tier), retries=int(rest[0]) if rest else 0,
                     outage_since=float(rest[1]) if len(rest) > 1 else 0.0)


def _send(item: BatchItem, countdown: float) -> None:
    try:
        publisher.infer(item.job_id, item.tier, item.retries, countdown=countdown,
                        outage_since=item.outage_since)
    except Exception:
        # The broker is down past its publish retries: the job's state is unchanged, so the
        # janitor sends its message again once it has been idle long enough.
        log.exception("could not send job %s to tier %d again", item.job_id, item.tier)


def drain(requests: list[SimpleRequest]) -> None:
    """One flush. Never raises: celery-batches acknowledges a flush's messages whatever it
    returns, so every item that needs another try is sent again from here."""
    items = [_item(r) for r in requests]
    try:
        rt = runtime.current()
        outcomes = run_batch(rt, publisher, items)
    except Exception:
        log.exception("tier flush of %d jobs failed as a whole; sending them again", len(items))
        for item in items:
            _send(item, countdown=WHOLE_FLUSH_RETRY_S)
        return
    for item, outcome in outcomes:
        again = next_try(rt, publisher, item, outcome)
        if again is not None:
            _send(*again)


def register_tier1_drain(app: Celery, settings: Settings) -> Any:
    return app.task(
        name=INFER_BATCH_TASK,
        base=EventedBatches,
        flush_every=settings.tier1_flush_every,
        flush_interval=settings.tier1_flush_interval_s,
        acks_late=True,
    )(drain)
