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
from typing import Any, Protocol, cast

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError

from tierline.config.tiers import Endpoint
from tierline.jobs.models import JobStatus
from tierline.persistence import store
from tierline.persistence.tables import Attempt
from tierline.tasks import job_rows, metrics
from tierline.tasks.calls import CallRecord
from tierline.tasks.job_rows import LockedJob
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


def next_number(attempts: Sequence[Attempt]) -> int:
    """The next attempt number, from every ledger row of the job read under its lock."""
    return max((a.attempt_no for a in attempts), default=0) + 1


class LedgerJob(Protocol):
    """What a ledger row copies from its job (an ORM `Job`, or a `job_rows.LockedJob`)."""

    @property
    def id(self) -> str: ...

    @property
    def tenant(self) -> str: ...

    @property
    def user(self) -> str: ...

    @property
    def feature(self) -> str: ...

    @property
    def query_type(self) -> str: ...


@dataclass(frozen=True)
class Reservation:
    """A call about to be made: its job, tier, endpoint, and the row number it will fill."""

    job: LedgerJob
    tier: int
    endpoint: Endpoint
    number: int


_RESERVE = insert(cast(Any, Attempt.__table__))


def reserve_many(session: Any, reservations: Sequence[Reservation]) -> None:
    """The rows of calls about to be made, `in_flight` until their answers fill them (the
    write-ahead row of each call), written in one statement."""
    if not reservations:
        return
    # On the connection: one multi-row INSERT, no ORM bookkeeping for rows this session never
    # reads back.
    session.connection().execute(_RESERVE, [
        {"job_id": r.job.id, "attempt_no": r.number, "tier": r.tier,
         "provider": r.endpoint.host_name, "model": r.endpoint.model, "tenant": r.job.tenant,
         "user": r.job.user, "feature": r.job.feature, "query_type": r.job.query_type,
         "input_tokens": 0, "output_tokens": 0, "cost_usd": 0, "latency_ms": 0,
         "outcome": IN_FLIGHT, "error": IN_FLIGHT_NOTE}
        for r in reservations])


# The columns a call fills in its reserved row, each set from a parameter of its own name with
# `new_` before it (a parameter may not share a column's name in an UPDATE).
_FILLED = ("provider", "model", "input_tokens", "output_tokens", "cost_usd", "latency_ms",
           "outcome", "error", "output_text", "finish_reason")
_ATTEMPTS: Any = cast(Any, Attempt.__table__)
_RESERVED_ROW = (_ATTEMPTS.c.job_id == bindparam("reserved_job"),
                 _ATTEMPTS.c.attempt_no == bindparam("reserved_no"),
                 _ATTEMPTS.c.outcome == IN_FLIGHT)
# Built once: a statement built per row cost more CPU than executing it.
_FILL = update(_ATTEMPTS).where(*_RESERVED_ROW).values(
    {name: bindparam(f"new_{name}") for name in _FILLED})
_DROP = delete(_ATTEMPTS).where(*_RESERVED_ROW)


def _filled(record: CallRecord, outcome: str, superseded: bool) -> dict[str, Any]:
    """The columns a call fills in its ledger row."""
    completion = record.completion
    return {
        "provider": record.endpoint.host_name, "model": record.endpoint.model,
        "input_tokens": completion.input_tokens if completion else 0,
        "output_tokens": completion.output_tokens if completion else 0,
        "cost_usd": record.cost, "latency_ms": record.latency_s * 1000, "outcome": outcome,
        "error": str(record.error) if record.error else (SUPERSEDED if superseded else None),
        "output_text": completion.text if completion else None,
        "finish_reason": completion.finish_reason if completion else None,
    }


def _fill_reserved(session: Any, job_id: str, number: int, values: dict[str, Any] | None) -> bool:
    """Fill the reserved row (or drop it, for None) in one statement, only while it is still
    in flight; whether it was."""
    row = {"reserved_job": job_id, "reserved_no": number}
    # On the connection: no ORM bookkeeping for a row this session never loaded.
    if values is None:
        return bool(session.connection().execute(_DROP, row).rowcount)
    row.update((f"new_{name}", value) for name, value in values.items())
    return bool(session.connection().execute(_FILL, row).rowcount)


def add_rows(session: Any, job: LedgerJob, tier: int, records: Sequence[CallRecord], kind: str = "",
             superseded: bool = False, reserved: int | None = None) -> int | None:
    """One ledger row per call (the first one in the `reserved` row, if it is still in
    flight); the attempt number of the answer, if one came back. `kind` marks calls that are
    not attempts at the job (the judge's). Endpoints passed over (breaker open, rate limit) were
    not called and cost nothing: they have no row."""
    called = [r for r in records if r.called]
    rows: list[tuple[int, CallRecord]] = []
    if reserved is not None:
        first = _filled(called[0], f"{kind}{called[0].outcome}", superseded) if called else None
        if _fill_reserved(session, job.id, reserved, first) and called:
            rows.append((reserved, called[0]))
            called = called[1:]
    number = store.next_attempt_no(session, job.id) if called else 0
    for offset, record in enumerate(called):
        session.add(Attempt(job_id=job.id, attempt_no=number + offset, tier=tier,
                            tenant=job.tenant, user=job.user, feature=job.feature,
                            query_type=job.query_type,
                            **_filled(record, f"{kind}{record.outcome}", superseded)))
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


def _record_locked(session: Any, job: LockedJob | None, tier: int,
                   records: Sequence[CallRecord], reserved: int | None) -> Recorded:
    """Ledger the tier's calls of a job held under its lock, whatever its state (every answered
    call is paid for); the job waits for validation only if it was still running at this tier
    (compare-and-set), so a late or duplicate delivery never reopens a job that has moved on.
    A job moved to validating is moved in `job`; the caller writes it (`job_rows.move`)."""
    if job is None:
        return Recorded(None, False)
    current = job.status == JobStatus.RUNNING and job.current_tier == tier
    answered = add_rows(session, job, tier, records, superseded=not current, reserved=reserved)
    if answered is not None and current:
        job_rows.set_status(job, JobStatus.VALIDATING)
    return Recorded(answered, current)


def _moved(jobs: Sequence[LockedJob | None], recorded: Sequence[Recorded]) -> list[LockedJob]:
    """The jobs whose answer moved them to validating."""
    return [job for job, r in zip(jobs, recorded, strict=True)
            if job is not None and r.current and r.answered is not None]


def _record(rt: Runtime, job_id: str, tier: int, records: Sequence[CallRecord],
            reserved: int | None) -> Recorded:
    """`_record_locked` in a transaction of its own."""
    for _ in range(3):
        try:
            with rt.db.session() as session:
                job = job_rows.lock(session, [job_id]).get(job_id)
                recorded = _record_locked(session, job, tier, records, reserved)
                job_rows.move(session, _moved([job], [recorded]), JobStatus.VALIDATING)
                return recorded
        except IntegrityError:
            # A writer that did not hold the job's lock (SQLite) numbered first; number again.
            continue
    raise RuntimeError(f"could not number the attempts of job {job_id}")


@dataclass(frozen=True)
class Answered:
    """One delivery's calls to ledger: its job, tier, records and reserved row."""

    job_id: str
    tier: int
    records: Sequence[CallRecord]
    reserved: int | None


def record_many(rt: Runtime, answers: Sequence[Answered]) -> list[Recorded]:
    """`record_calls` for several deliveries in one transaction (their jobs locked together,
    in id order); position i answers answers[i]. No retry and no outage wait here: a caller
    whose group raises records each delivery alone with `record_calls`, which has both."""
    with rt.db.session() as session:
        jobs = job_rows.lock(session, {a.job_id for a in answers})
        locked = [jobs.get(a.job_id) for a in answers]
        recorded = [_record_locked(session, job, a.tier, a.records, a.reserved)
                    for job, a in zip(locked, answers, strict=True)]
        job_rows.move(session, _moved(locked, recorded), JobStatus.VALIDATING)
        return recorded


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
