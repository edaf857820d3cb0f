"""Feedback on a finished job: a bad verdict re-runs it one tier up and keeps both results.

The earlier result moves to `result_history`; the re-run's result becomes the current row of
`results` when it finishes. The feedback row is a negative label for router training.
"""

from __future__ import annotations

from dataclasses import dataclass

from tierline.config.tiers import TiersConfig
from tierline.jobs.models import JobStatus
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Feedback, Result, ResultHistory
from tierline.tasks.pipeline import Publisher, ceiling_tier


class FeedbackError(ValueError):
    pass


@dataclass(frozen=True)
class FeedbackOutcome:
    job_id: str
    rerun_tier: int | None
    message: str


def give_feedback(
    db: Database,
    tiers: TiersConfig,
    publisher: Publisher,
    job_id: str,
    *,
    bad: bool,
    reason: str | None = None,
) -> FeedbackOutcome:
    """Record a verdict on the job's current result; a bad one re-runs the job a tier up."""
    with db.session() as session:
        job = store.lock_job(session, job_id)
        if job is None:
            raise FeedbackError(f"no job {job_id}")
        result = session.get(Result, job_id)
        if result is None or not JobStatus(job.status).terminal:
            raise FeedbackError(f"job {job_id} has no result to judge yet (status {job.status})")
        feedback = Feedback(job_id=job_id, attempt_no=result.attempt_no or 0,
                            verdict="bad" if bad else "good", reason=reason)
        session.add(feedback)
        if not bad:
            return FeedbackOutcome(job_id, None, "recorded as good")
        session.flush()
        session.add(ResultHistory(
            job_id=job_id, output=result.output, tier=result.tier, provider=result.provider,
            model=result.model, total_cost_usd=result.total_cost_usd, attempts=result.attempts,
            validated=result.validated, finished_at=result.finished_at, feedback_id=feedback.id,
        ))
        if result.tier >= ceiling_tier(tiers, store.job_spec(job)):
            store.set_status(job, JobStatus.NEEDS_REVIEW,
                             f"marked bad at tier {result.tier}, the highest allowed: {reason}",
                             by_feedback=True)
            return FeedbackOutcome(job_id, None, "no higher tier allowed: job needs review")
        rerun = result.tier + 1
        job.current_tier = rerun
        store.set_status(job, JobStatus.ROUTED, f"marked bad at tier {result.tier}: {reason}",
                         by_feedback=True)
    publisher.infer(job_id, rerun)
    return FeedbackOutcome(job_id, rerun, f"re-running on tier {rerun}")
