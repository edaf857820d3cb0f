"""The cost ledger's writes: every provider call is a row of `attempts`, written ahead.

When a step claims a job it also reserves the row of the call it is about to make (outcome
`in_flight`), in the claim's own transaction. Recording fills that row with what came back and
adds a row for each fallback call. So a worker killed between the call and its record leaves
the call in the ledger as `in_flight` (its answer, tokens and cost unknown), not missing.

Rows are numbered per job under the job's row lock (every writer holds it), so numbers never
collide between deliveries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tierline.config.tiers import Endpoint
from tierline.jobs.models import JobStatus
from tierline.persistence import store
from tierline.persistence.tables import Attempt, Job
from tierline.tasks import metrics
from tierline.tasks.calls import CallRecord
from tierline.tasks.outage import is_outage, outage_delay
from tierline.tasks.runtime import Runtime

log = logging.getLogger(__name__)

IN_FLIGHT = "in_flight"
# Left on a reserved row whose call was never recorded: its worker died, or the row is a
# call still running.
IN_FLIGHT_NOTE = "call made, answer not recorded (still running, or its worker died)"
# An answer ledgered after its job had moved on (a duplicate delivery's call): kept in the
# ledger, since it was paid for, and never validated.
SUPERSEDED = "superseded: answered after the job had moved on"


def pending_attempts(attempts: Sequence[Attempt], tier: int | None) -> list[Attempt]:
    """The answers at the job's current tier still waiting for validation."""
    return [a for a in attempts if a.outcome == "ok" and a.validated is None
            and a.tier == tier and a.error != SUPERSEDED]


def reserve(session: Any, job: Job, tier: int, endpoint: Endpoint) -> int:
    """The row of the call about to be made to `endpoint`, written before the call."""
    number = store.next_attempt_no(session, job.id)
    session.add(Attempt(
        job_id=job.id, attempt_no=number, tier=tier, provider=endpoint.host_name,
        model=endpoint.model, tenant=job.tenant, user=job.user, feature=job.feature,
        query_type=job.query_type, input_tokens=0, output_tokens=0, cost_usd=0,
        latency_ms=0, outcome=IN_FLIGHT, error=IN_FLIGHT_NOTE))
    return number


def _fill(row: Attempt, record: CallRecord, outcome: str, superseded: bool) -> None:
    completion = record.completion
    row.provider, row.model = record.endpoint.host_name, record.endpoint.model
    row.input_tokens = completion.input_tokens if completion else 0
    row.output_tokens = completion.output_tokens if completion else 0
    row.cost_usd = record.cost
    row.latency_ms = record.latency_s * 1000
    row.outcome = outcome
    row.error = str(record.error) if record.error else (SUPERSEDED if superseded else None)
    row.output_text = completion.text if completion else None
    row.finish_reason = completion.finish_reason if completion else None


def add_rows(session: Any, job: Job, tier: int, records: Sequence[CallRecord], kind: str = "",
             superseded: bool = False, reserved: int | None = None) -> int | None:
    """One ledger row per call (the first one in the `reserved` row, if it is still in
    flight); the attempt number of the answer, if one came back. `kind` marks calls that are
    not attempts at the job (the judge's). Endpoints passed over (breaker open, rate limit) were
    not called and cost nothing: they have no row."""
    called = [r for r in records if r.called]
    rows: list[tuple[int, CallRecord]] = []
    if reserved is not None:
        row = session.scalar(select(Attempt).where(Attempt.job_id == job.id,
                                                   Attempt.attempt_no == reserved))
        if row is not None and row.outcome == IN_FLIGHT:
            if called:
                _fill(row, called[0], f"{kind}{called[0].outcome}", superseded)
                rows.append((reserved, called[0]))
                called = called[1:]
            else:
                session.delete(row)
                session.flush()
    number = store.next_attempt_no(session, job.id)
    for offset, record in enumerate(called):
        row = Attempt(job_id=job.id, attempt_no=number + offset, tier=tier,
                      tenant=job.tenant, user=job.user, feature=job.feature,
                      query_type=job.query_type)
        _fill(row, record, f"{kind}{record.outcome}", superseded)
        session.add(row)
        rows.append((number + offset, record))
    answered = [no for no, record in rows if record.completion is not None]
    metrics.observe_calls(tier, job.tenant, job.feature, [record for _, record in rows], kind)
    return answered[-1] if answered else None


@dataclass(frozen=True)
class Recorded:
    """What ledgering a tier's calls did: the attempt number of the answer, if one came back,
    and whether the job was still running at that tier (so this delivery may move it on)."""

    answered: int | None
    current: bool


def _record(rt: Runtime, job_id: str, tier: int, records: Sequence[CallRecord],
            reserved: int | None) -> Recorded:
    """Ledger the tier's calls, whatever the job's state (every answered call is paid for);
    the job waits for validation only if it was still running at this tier (compare-and-set),
    so a late or duplicate delivery never reopens a job that has moved on."""
    for _ in range(3):
        try:
            with rt.db.session() as session:
                job = store.lock_job(session, job_id)
                if job is None:
                    return Recorded(None, False)
                current = job.status == JobStatus.RUNNING and job.current_tier == tier
                answered = add_rows(session, job, tier, records, superseded=not current,
                                    reserved=reserved)
                if answered is not None and current:
                    store.set_status(job, JobStatus.VALIDATING)
                return Recorded(answered, current)
        except IntegrityError:
            # A writer that did not hold the job's lock (SQLite) numbered first; number again.
            continue
    raise RuntimeError(f"could not number the attempts of job {job_id}")


def record_calls(rt: Runtime, job_id: str, tier: int, records: Sequence[CallRecord],
                 reserved: int | None = None) -> Recorded:
    """Ledger the calls: the first thing done with an answer, before anything can fail. A
    database outage is waited out here, holding the answers, for `outage_window_s`: an answer
    that was paid for is not dropped to be asked for again."""
    started = time.monotonic()
    while True:
        try:
            return _record(rt, job_id, tier, records, reserved)
        except Exception as exc:
            elapsed = time.monotonic() - started
            if not is_outage(exc) or elapsed >= rt.settings.outage_window_s:
                raise
            log.warning("ledger of job %s waits for the database (%.0f s): %r", job_id,
                        elapsed, exc)
            time.sleep(outage_delay(elapsed))
