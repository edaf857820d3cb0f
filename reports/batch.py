"""Reading a batch back: progress, cost, and the results table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tierline.jobs.models import TERMINAL_STATUSES, JobStatus
from tierline.persistence.ledger_rollup import ledger_rows, uses_rollup
from tierline.persistence.tables import Attempt, Job, Result


@dataclass
class BatchStatus:
    batch_id: str | None
    jobs: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    # Jobs finished per tier (the tier whose output was kept).
    finished_by_tier: Counter[int] = field(default_factory=Counter)
    # Jobs still in flight per tier.
    active_by_tier: Counter[int] = field(default_factory=Counter)
    escalated_jobs: int = 0
    cost_usd: Decimal = Decimal(0)
    validation_failures: int = 0

    @property
    def finished(self) -> int:
        return sum(self.by_status[s.value] for s in TERMINAL_STATUSES)

    @property
    def complete(self) -> bool:
        return self.jobs > 0 and self.finished == self.jobs

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "jobs": self.jobs,
            **{s.value: self.by_status[s.value] for s in JobStatus},
            "per_tier": {str(t): n for t, n in sorted(self.finished_by_tier.items())},
            "active_per_tier": {str(t): n for t, n in sorted(self.active_by_tier.items())},
            "escalations": self.escalated_jobs,
            "validation_failures": self.validation_failures,
            "cost_usd": float(self.cost_usd),
        }


def batch_status(session: Session, batch_id: str | None) -> BatchStatus:
    """Counts per status and tier and the cost so far; `None` means every job. Counted in SQL
    from covering indexes; the ledger's figures come from its rollup on PostgreSQL."""
    status = BatchStatus(batch_id)
    jobs = select(Job.status, Job.current_tier, func.count()).group_by(Job.status, Job.current_tier)
    results = select(Result.tier, func.count()).group_by(Result.tier)
    attempts = select(
        func.coalesce(func.sum(Attempt.cost_usd), 0),
        func.count().filter(Attempt.validated.is_(False)),
    )
    escalated = (
        select(Attempt.job_id)
        .where(Attempt.outcome == "ok")
        .group_by(Attempt.job_id)
        .having(func.count(func.distinct(Attempt.tier)) > 1)
    )
    if batch_id is not None:
        in_batch = select(Job.id).where(Job.batch_id == batch_id)
        jobs = jobs.where(Job.batch_id == batch_id)
        results = results.where(Result.batch_id == batch_id)
        attempts = attempts.where(Attempt.job_id.in_(in_batch))
        escalated = escalated.where(Attempt.job_id.in_(in_batch))
    for job_status, tier, count in session.execute(jobs):
        status.jobs += count
        status.by_status[job_status] += count
        if job_status not in {s.value for s in TERMINAL_STATUSES} and tier is not None:
            status.active_by_tier[tier] += count
    for tier, count in session.execute(results):
        status.finished_by_tier[tier] += count
    if uses_rollup(session):
        rows_sql, params = ledger_rows(batch_id)
        cost, failures, escalations = session.execute(text(
            "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(validation_failures), 0), "
            f"coalesce(sum(escalated_jobs), 0) FROM ({rows_sql}) ledger"), params).one()
        status.cost_usd = Decimal(cost)
        status.validation_failures = int(failures)
        status.escalated_jobs = int(escalations)
        return status
    cost, failures = session.execute(attempts).one()
    status.cost_usd = Decimal(cost)
    status.validation_failures = failures
    status.escalated_jobs = len(session.execute(escalated).all())
    return status


def latest_batch(session: Session) -> str | None:
    return session.scalar(select(Job.batch_id).order_by(Job.created_at.desc()).limit(1))


RESULT_COLUMNS = ("job_id", "key", "status", "tier", "model", "validated", "total_cost_usd",
                  "attempts", "output")


def result_rows(session: Session, batch_id: str) -> Iterator[dict[str, Any]]:
    """One row per job of the batch, finished or not, with its result where there is one."""
    query = (
        select(Job, Result)
        .outerjoin(Result, Result.job_id == Job.id)
        .where(Job.batch_id == batch_id)
        .order_by(Job.created_at, Job.id)
    )
    for job, result in session.execute(query):
        yield {
            "job_id": job.id,
            "key": job.idempotency_key,
            "status": job.status,
            "reason": job.status_reason,
            "tier": result.tier if result else None,
            "model": result.model if result else None,
            "validated": result.validated if result else None,
            "total_cost_usd": float(result.total_cost_usd) if result else None,
            "attempts": result.attempts if result else None,
            "output": result.output if result else None,
        }


def answer_tokens(session: Session, batch_id: str) -> list[tuple[int, int]]:
    """Per job, the input and output tokens of its first answered call: what the job needed."""
    first = (
        select(Attempt.job_id, func.min(Attempt.attempt_no).label("first"))
        .join(Job, Job.id == Attempt.job_id)
        .where(Job.batch_id == batch_id, Attempt.outcome == "ok")
        .group_by(Attempt.job_id)
        .subquery()
    )
    query = select(Attempt.input_tokens, Attempt.output_tokens).join(
        first, (Attempt.job_id == first.c.job_id) & (Attempt.attempt_no == first.c.first)
    )
    return [(i, o) for i, o in session.execute(query)]
