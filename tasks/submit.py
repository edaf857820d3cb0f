"""Submitting jobs: one transaction for the rows, then one `route` message per new job."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta

from jobs import store
from jobs.db import Database
from jobs.models import JobSpec
from jobs.store import SubmitReceipt
from jobs.tables import utcnow
from tasks.pipeline import republish
from tasks.publish import CeleryPublisher


def submit_jobs(
    db: Database,
    specs: Sequence[JobSpec],
    publisher: CeleryPublisher | None = None,
    on_published: Callable[[int], None] | None = None,
) -> SubmitReceipt:
    """Write every job or none, then publish. A job whose message was lost stays `queued`
    and `requeue` sends it again; routing it twice is harmless."""
    publisher = publisher or CeleryPublisher()
    with db.session() as session:
        receipt = store.insert_jobs(session, specs)
    published = 0
    for chunk in _chunks(receipt.job_ids, 200):
        published += publisher.route(chunk)
        if on_published:
            on_published(published)
    return receipt


def requeue(
    db: Database,
    batch_id: str | None,
    publisher: CeleryPublisher | None = None,
    idle_for: timedelta | None = None,
) -> int:
    """Re-publish the message each unfinished job's state calls for; returns how many jobs.

    This is the fleet's safety net: a message lost with a Redis restart, or held by a killed
    worker until the visibility timeout, is sent again. Steps are idempotent, so a job that was
    only slow costs at most a duplicate call. Re-published jobs count as touched, so a sweep
    every minute does not re-send a slow job every minute."""
    publisher = publisher or CeleryPublisher()
    with db.session() as session:
        jobs = store.unfinished_jobs(session, batch_id, idle_for)
        queued = [job.id for job in jobs if job.status == "queued"]
        for job in jobs:
            job.updated_at = utcnow()
            if job.status != "queued":
                republish(job, publisher, session)
    publisher.route(queued)
    return len(jobs)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
