"""Submitting jobs: the rows in one transaction, written in chunks as the input streams in;
after the commit, one `route` message per new job, published in pipelined chunks.

Nothing is published before the commit, so no message names a row that may yet be rolled back;
a job whose message is lost after the commit stays `queued`, and `requeue` (the janitor) sends
it again. Bad input is refused whole: every problem is named with its line, and the
transaction that held the rows written so far is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from tierline.config.tiers import TiersConfig, load_tiers
from tierline.jobs.intake import InputProblem, InvalidInput, iter_specs, open_records
from tierline.jobs.models import JobSpec
from tierline.persistence import store
from tierline.persistence.bulk import BatchWriter
from tierline.persistence.db import Database
from tierline.persistence.store import SubmitReceipt
from tierline.persistence.tables import utcnow
from tierline.routing.tokens import count_tokens
from tierline.tasks.pipeline import republish
from tierline.tasks.publish import CeleryPublisher

PUBLISH_CHUNK = 1000

Check = Callable[[JobSpec], str | None]


def fits_some_tier(tiers: TiersConfig) -> Check:
    """A check that refuses a job no tier's context window can hold, saying why."""
    largest = max(tiers.tiers, key=lambda t: t.context_window)

    def check(spec: JobSpec) -> str | None:
        tokens = count_tokens(spec.input_text())
        if tokens <= largest.context_window:
            return None
        return (f"the input is about {tokens} tokens, more than the largest context window "
                f"of any tier ({largest.context_window} tokens, tier {largest.tier})")

    return check


def submit_file(
    db: Database,
    path: Path,
    *,
    tiers: TiersConfig | None = None,
    task: str | None = None,
    schema: dict[str, Any] | None = None,
    labels: list[str] | None = None,
    publisher: CeleryPublisher | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> SubmitReceipt:
    """Submit a JSONL or CSV file, or a folder of text files, streaming it: memory holds one
    chunk of jobs, whatever the file's size."""
    records = open_records(path, task=task, schema=schema, labels=labels)
    return submit_stream(db, iter_specs(records), tiers=tiers, publisher=publisher,
                         on_progress=on_progress)


def submit_jobs(
    db: Database,
    specs: Sequence[JobSpec],
    publisher: CeleryPublisher | None = None,
    on_published: Callable[[int], None] | None = None,
    tiers: TiersConfig | None = None,
) -> SubmitReceipt:
    """Write every job or none, then publish (see `submit_stream`)."""
    def progress(stage: str, count: int) -> None:
        if on_published is not None and stage == "published":
            on_published(count)

    return submit_stream(db, ((f"job {i}", s) for i, s in enumerate(specs, start=1)),
                         tiers=tiers, publisher=publisher, on_progress=progress)


def submit_stream(
    db: Database,
    items: Iterable[tuple[str, JobSpec | InputProblem]],
    *,
    tiers: TiersConfig | None = None,
    publisher: CeleryPublisher | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> SubmitReceipt:
    """Write every job or none, then publish. `on_progress(stage, count)` hears of "written"
    and "published" jobs as they go."""
    publisher = publisher or CeleryPublisher()
    check = fits_some_tier(tiers or load_tiers())
    problems: list[InputProblem] = []
    with db.session() as session:
        writer = BatchWriter(session)
        for where, item in items:
            if isinstance(item, InputProblem):
                found = [item]
            else:
                reason = check(item)
                found = [InputProblem(where, reason)] if reason else writer.add(where, item)
            if found and not problems:
                writer.stop_writing()  # the batch is refused: keep reading, stop writing
            problems += found
            if on_progress and writer.jobs_seen % PUBLISH_CHUNK == 0:
                on_progress("written", writer.jobs_seen)
        problems += writer.flush()
        if problems:
            raise InvalidInput(problems)  # rolls the transaction back
        if writer.jobs_seen == 0:
            raise InvalidInput([InputProblem("input", "no jobs found")])
        receipt = writer.receipt()
    published = 0
    for chunk in _chunks(receipt.job_ids, PUBLISH_CHUNK):
        published += publisher.route(chunk)
        if on_progress:
            on_progress("published", published)
    return receipt


def requeue(
    db: Database,
    batch_id: str | None,
    publisher: CeleryPublisher | None = None,
    idle_for: timedelta | None = None,
) -> int:
    """Re-publish the message each unfinished job's state calls for; returns how many jobs.

    This is the fleet's safety net: a message lost with a Redis restart, or held by a killed
    worker until the visibility timeout, is sent again; a job still `queued` (its submit's
    publishing was cut short) gets its `route` message. Steps are idempotent, so a job that was
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
    for chunk in _chunks(queued, PUBLISH_CHUNK):
        publisher.route(chunk)
    return len(jobs)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
