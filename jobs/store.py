"""Writing and reading jobs: submit in one transaction, and the rows each pipeline step records.

Functions take a Session so the caller decides the transaction; each pipeline step is one
transaction, and the broker is told only after it commits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jobs.models import JobSpec, JobStatus, check_transition
from jobs.tables import Attempt, Feedback, Job, Result, utcnow

INSERT_CHUNK = 500


def idempotency_key(spec: JobSpec) -> str:
    """The producer's key, or a hash of the job's content: the same job twice is one job."""
    if spec.key:
        return spec.key
    canonical = json.dumps(spec.model_dump(mode="json", by_alias=True), sort_keys=True)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class SubmitReceipt:
    batch_id: str
    job_ids: list[str]
    duplicates: int


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Job).on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.execute(statement, rows)


def insert_jobs(
    session: Session, specs: Sequence[JobSpec], batch_id: str | None = None
) -> SubmitReceipt:
    """Insert queued jobs; keys already present are skipped and counted as duplicates."""
    batch = batch_id or str(uuid.uuid4())
    rows: dict[str, dict[str, Any]] = {}
    for spec in specs:
        key = idempotency_key(spec)
        if key in rows:
            continue
        rows[key] = {
            "id": str(uuid.uuid4()),
            "idempotency_key": key,
            "batch_id": batch,
            "tenant": spec.tenant,
            "user": spec.user,
            "feature": spec.feature,
            "query_type": spec.effective_query_type,
            "task": spec.task.value,
            "spec": spec.model_dump(mode="json", by_alias=True),
            "status": JobStatus.QUEUED.value,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
    all_rows = list(rows.values())
    for start in range(0, len(all_rows), INSERT_CHUNK):
        _insert_ignoring_duplicates(session, all_rows[start : start + INSERT_CHUNK])
    wanted = [r["id"] for r in all_rows]
    created: list[str] = []
    for start in range(0, len(wanted), INSERT_CHUNK):
        chunk = wanted[start : start + INSERT_CHUNK]
        created.extend(session.scalars(select(Job.id).where(Job.id.in_(chunk))))
    order = {job_id: i for i, job_id in enumerate(wanted)}
    created.sort(key=order.__getitem__)
    return SubmitReceipt(batch, created, len(specs) - len(created))


def job_spec(job: Job) -> JobSpec:
    return JobSpec.model_validate(job.spec)


def lock_job(session: Session, job_id: str) -> Job | None:
    """The job row, locked for this transaction where the database can lock rows."""
    return session.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()


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


def total_cost(attempts: Sequence[Attempt]) -> Decimal:
    return sum((Decimal(a.cost_usd) for a in attempts), Decimal(0))


def upsert_result(session: Session, job: Job, attempt: Attempt, output: Any, validated: bool,
                  findings: list[dict[str, Any]]) -> None:
    """The job's one result row: inserted, or replaced when the job is run again."""
    attempts = attempts_of(session, job.id)
    values = {
        "job_id": job.id,
        "batch_id": job.batch_id,
        "output": output,
        "tier": attempt.tier,
        "attempt_no": attempt.attempt_no,
        "provider": attempt.provider,
        "model": attempt.model,
        "total_cost_usd": total_cost(attempts),
        "attempts": len(attempts),
        "validated": validated,
        "findings": findings,
        "finished_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Result).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["job_id"],
        set_={k: statement.excluded[k] for k in values if k != "job_id"},
    )
    session.execute(statement)


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
