"""Which shadow candidates see a job: a deterministic sample, per candidate.

The same job always gets the same answer for the same candidate and fraction, so a redelivered
attempt never doubles a sample, and two candidates of one tier are sampled independently.
"""

from __future__ import annotations

from tierline.config.tiers import ShadowCandidate, Tier
from tierline.jobs.sampling import in_sample


def should_shadow(job_id: str, candidate: str, fraction: float) -> bool:
    """Whether candidate `candidate` (an endpoint label) shadows the job `job_id`."""
    return in_sample(f"shadow\x00{job_id}\x00{candidate}", fraction)


def sampled_candidates(tier: Tier, job_id: str) -> list[ShadowCandidate]:
    """The tier's shadow candidates whose sample takes this job."""
    return [s for s in tier.shadows if should_shadow(job_id, s.label, s.fraction)]
