"""Router training labels from production: per job, the lowest tier whose output passed
validation and drew no bad feedback.

Only exact labels are taken. A job whose first answer came from tier t > 1 and passed says
nothing about tier t - 1 (it was never asked), so it is left out rather than taught as "tier
t - 1 fails"; that bias would keep similar jobs on the expensive tier for ever. A job whose every
answer failed, the top tier's included, is labelled None (no tier was good enough); one stopped
below the top by a ceiling (its own `max_tier`, or a budget's cap) is left out the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.config.tiers import TIER_COUNT
from tierline.jobs.models import JobSpec
from tierline.persistence.tables import Attempt, Feedback, Job


def lowest_good_tier(answers: dict[int, bool], top: int = TIER_COUNT
                     ) -> tuple[bool, int | None]:
    """From {tier: good} of a job's answered tiers: (label is exact, lowest good tier)."""
    good = sorted(t for t, ok in answers.items() if ok)
    if not good:
        return top in answers, None
    lowest = good[0]
    return lowest == 1 or (lowest - 1) in answers, lowest


def training_outcomes(
    session: Session, limit: int | None = None, top: int = 3
) -> Iterator[tuple[JobSpec, int | None]]:
    """(job, lowest good tier) of the ledger's jobs whose label is exact; `top` is the top tier."""
    bad = {(f.job_id, f.attempt_no) for f in session.scalars(
        select(Feedback).where(Feedback.verdict == "bad"))}
    answers: dict[str, dict[int, bool]] = defaultdict(dict)
    validated = select(Attempt.job_id, Attempt.attempt_no, Attempt.tier, Attempt.validated).where(
        Attempt.validated.is_not(None))
    for job_id, attempt_no, tier, passed in session.execute(validated):
        good = bool(passed) and (job_id, attempt_no) not in bad
        answers[job_id][tier] = answers[job_id].get(tier, False) or good
    emitted = 0
    for job_id, tiers in answers.items():
        exact, label = lowest_good_tier(tiers, top)
        if not exact:
            continue
        job = session.get(Job, job_id)
        if job is None:
            continue
        yield JobSpec.from_row(job.spec), label
        emitted += 1
        if limit is not None and emitted >= limit:
            return
