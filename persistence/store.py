"""Writing and reading jobs: submit in one transaction, and the rows each pipeline step records.

Functions take a Session so the caller decides the transaction; each pipeline step is one
transaction, and the broker is told only after it commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import String, bindparam, func, literal_column, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tierline.jobs.intake import InvalidInput
from tierline.jobs.models import JobSpec, JobStatus, check_transition
from tierline.persistence.bulk import BatchWriter, canonical_json, content_key
from tierline.persistence.bulk import SubmitReceipt as SubmitReceipt
from tierline.persistence.tables import Attempt, Feedback, Job, Result, utcnow


def idempotency_key(spec: JobSpec) -> str:
    """The producer's key, or a hash of the job's content: the same job twice is one job."""
    return spec.key or content_key(canonical_json(spec)[1])


def insert_jobs(
    session: Session, specs: Sequence[JobSpec], batch_id: str | None = None
) -> SubmitReceipt:
    """Insert queued jobs; the same job again (by key) is skipped and counted as a duplicate,
    a different job under a taken key is refused (InvalidInput, nothing of `specs` kept)."""
    writer = BatchWriter(session, batch_id) if batch_id else BatchWriter(session)
    problems = [p for number, spec in enumerate(specs, start=1)
                for p in writer.add(f"job {number}", spec)]
    problems += writer.flush()
    if problems:
        raise InvalidInput(problems)
    return writer.receipt()


def job_spec(job: Job) -> JobSpec:
    """The job's spec from its row, without re-checking what submit checked."""
    return JobSpec.from_row(job.spec)


def lock_job(session: Session, job_id: str) -> Job | None:
    """The job row, locked for this transaction where the database can lock rows."""
    return session.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()


def lock_in_id_order(*columns: Any) -> Any:
    """A statement (bound `ids`, a list) that reads and locks several job rows in one go, in id
    order: the order every writer of several jobs takes them in, so two such writers never
    deadlock."""
    jobs = cast(Any, Job.__table__)
    return (select(*columns).where(jobs.c.id.in_(bindparam("ids", expanding=True)))
            .order_by(jobs.c.id).with_for_update())


def set_status(job: Job, status: JobStatus, reason: str | None = None, *,
               by_feedback: bool = False) -> None:
    """Move the job, or raise `IllegalTransition` (the table in `jobs.models`)."""
    check_transition(JobStatus(job.status), status, by_feedback)
    job.status = status.value
    job.status_reason = reason
    job.updated_at = utcnow()
    job.finished_at = utcnow() if status.terminal else None


def next_attempt_no(session: Session, job_id: str) -> int:
    latest = session.scalar(select(func.max(Attempt.attempt_no)).where(Attempt.job_id == job_id))
    return (latest or 0) + 1


def attempts_of(session: Session, job_id: str) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt).where(Attempt.job_id == job_id).order_by(Attempt.attempt_no)
        )
    )


@lru_cache(maxsize=4)
def ledger_rows_of_jobs(dialect: str) -> Any:
    """A statement reading every ledger row of the jobs in the bound list `ids`, by job and
    number, whatever the planner knows of the table.

    On PostgreSQL each id is looked up on its own (`unnest` of one array, each id joined to its
    rows laterally; `OFFSET 0` keeps the planner from merging the lookup into a join). The
    plain `job_id IN (...)` needs the table's statistics: before ANALYZE has seen the ledger
    (a fresh database, or autovacuum off), the planner takes each id for 0.5% of the table, and
    for a flush of 64 jobs scanned all of it, comparing every row with 64 ids. One array also
    makes one statement, where an IN list makes one per length, each prepared apart."""
    attempts = cast(Any, Attempt.__table__)
    if dialect != "postgresql":
        return (select(attempts).where(attempts.c.job_id.in_(bindparam("ids", expanding=True)))
                .order_by(attempts.c.job_id, attempts.c.attempt_no))
    ids = (func.unnest(bindparam("ids", type_=postgresql.ARRAY(String)))
           .table_valued("id").render_derived(name="k"))
    rows = (select(attempts).where(attempts.c.job_id == ids.c.id)
            .offset(literal_column("0")).lateral("a"))
    return (select(*rows.c).select_from(ids).join(rows, true())
            .order_by(rows.c.job_id, rows.c.attempt_no))


def attempts_of_jobs(session: Session, job_ids: Collection[str]) -> dict[str, list[Attempt]]:
    """Every ledger row of each job, in one statement; a job with none maps to []."""
    rows: dict[str, list[Attempt]] = {job_id: [] for job_id in job_ids}
    if rows:
        statement = ledger_rows_of_jobs(session.get_bind().dialect.name)
        for attempt in session.scalars(select(Attempt).from_statement(statement),
                                       {"ids": sorted(rows)}):
            rows[attempt.job_id].append(attempt)
    return rows


def bad_feedback_of_jobs(session: Session, job_ids: Collection[str]) -> dict[str, list[Feedback]]:
    """Each job's bad verdicts, in one statement; a job with none maps to []."""
    verdicts: dict[str, list[Feedback]] = {job_id: [] for job_id in job_ids}
    if verdicts:
        for feedback in session.scalars(
                select(Feedback).where(Feedback.job_id.in_(sorted(verdicts)),
                                       Feedback.verdict == "bad").order_by(Feedback.id)):
            verdicts[feedback.job_id].append(feedback)
    return verdicts


def bad_feedback(session: Session, job_id: str) -> list[Feedback]:
    return list(session.scalars(
        select(Feedback).where(Feedback.job_id == job_id, Feedback.verdict == "bad")
        .order_by(Feedback.id)
    ))


def rejection_reasons(attempts: Sequence[Attempt], feedback: Sequence[Feedback] = ()) -> list[str]:
    """Why earlier outputs of a job were rejected, for the prompt of the next attempt."""
    reasons: list[str] = [f"a reviewer marked it wrong: {f.reason or 'no reason given'}"
                          for f in feedback]
    for attempt in attempts:
        if attempt.validated is False:
            for finding in attempt.findings or []:
                if not finding.get("passed") and finding.get("strict", True):
                    reasons.append(f"{finding['check']}: {finding.get('message', '')}")
    return reasons


def upsert_result(session: Session, job: Job, attempt: Attempt, output: Any, validated: bool,
                  findings: list[dict[str, Any]], rows: Sequence[Attempt] | None = None,
                  into: list[dict[str, Any]] | None = None) -> None:
    """The job's one result row: inserted, or replaced when the job is run again. `rows`: every
    ledger row of the job, when the caller read them under the job's lock and added none.
    `into`: add the row's values there, for `upsert_results` to write with others."""
    if rows is not None:
        calls, spent = len(rows), sum((Decimal(r.cost_usd or 0) for r in rows), Decimal(0))
    else:
        # One aggregate instead of loading every ledger row of the job again.
        calls, spent = session.execute(
            select(func.count(), func.coalesce(func.sum(Attempt.cost_usd), 0))
            .where(Attempt.job_id == job.id)).one()
    values = {
        "job_id": job.id,
        "batch_id": job.batch_id,
        "output": output,
        "tier": attempt.tier,
        "attempt_no": attempt.attempt_no,
        "provider": attempt.provider,
        "model": attempt.model,
        "total_cost_usd": Decimal(str(spent)),
        "attempts": int(calls),
        "validated": validated,
        "findings": findings,
        "finished_at": utcnow(),
    }
    if into is not None:
        into.append(values)
        return
    upsert_results(session, [values])


def upsert_results(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write result rows (`upsert_result`'s values) in one statement."""
    if not rows:
        return
    # On the connection, not through the session: the ORM's bulk-insert path and the autoflush
    # before it cost more than the statement, and nothing pending changes what it writes.
    session.connection().execute(_result_upsert(session.get_bind().dialect.name), list(rows))


_RESULT_VALUES = ("batch_id", "output", "tier", "attempt_no", "provider", "model",
                  "total_cost_usd", "attempts", "validated", "findings", "finished_at")


@lru_cache(maxsize=4)
def _result_upsert(dialect: str) -> Any:
    """One statement per dialect, its values bound at execution: SQLAlchemy compiles it once,
    instead of building and compiling a fresh statement with the values inlined per result."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(cast(Any, Result.__table__))
    return statement.on_conflict_do_update(
        index_elements=["job_id"], set_={k: statement.excluded[k] for k in _RESULT_VALUES})


def unfinished_jobs(
    session: Session, batch_id: str | None = None, idle_for: timedelta | None = None
) -> list[Job]:
    """Non-terminal jobs (untouched for `idle_for`, if given), locked for re-publishing.

    SKIP LOCKED lets several sweepers, and the workers themselves, run at the same time."""
    query = select(Job).where(Job.status.not_in([s.value for s in JobStatus if s.terminal]))
    if batch_id:
        query = query.where(Job.batch_id == batch_id)
    if idle_for is not None:
        query = query.where(Job.updated_at < utcnow() - idle_for)
    return list(session.scalars(query.with_for_update(skip_locked=True)))
