"""Per batch: how validation went — pass rates per tier and check, escalations per reason,
disagreements between agreeing tiers and a check (per check, and as a share of the check's
rejections: the live estimate of how often that check is wrong), and the jobs waiting for
review."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.jobs.models import JobStatus
from tierline.persistence.tables import Attempt, Job

# The finding `validation.disagreement` records (jobs/ does not import validation/).
DISAGREEMENT = "disagreement"


def _zeros() -> list[int]:
    return [0, 0]


@dataclass
class QualityReport:
    batch_id: str
    validated_per_tier: Counter[int] = field(default_factory=Counter)
    passed_per_tier: Counter[int] = field(default_factory=Counter)
    # (tier, check) -> [runs, passes]
    checks: dict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(_zeros))
    escalations_per_reason: Counter[str] = field(default_factory=Counter)
    # Checks overruled by agreeing tiers (validation.disagreement): how often each check's
    # rejection met the same answer from a higher tier, out of the rejections it made.
    disagreements_per_check: Counter[str] = field(default_factory=Counter)
    in_review: list[dict[str, Any]] = field(default_factory=list)

    def pass_rate(self, tier: int) -> float:
        runs = self.validated_per_tier[tier]
        return self.passed_per_tier[tier] / runs if runs else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "pass_rate_per_tier": {str(t): round(self.pass_rate(t), 4)
                                   for t in sorted(self.validated_per_tier)},
            "validated_per_tier": {str(t): n for t, n in sorted(self.validated_per_tier.items())},
            "pass_rate_per_check": {
                f"tier{t}:{check}": round(passes / runs, 4)
                for (t, check), (runs, passes) in sorted(self.checks.items())
            },
            "escalations_per_reason": dict(self.escalations_per_reason.most_common()),
            "disagreements_per_check": dict(self.disagreements_per_check.most_common()),
            "disagreement_rate_per_check": {
                check: round(n / self.escalations_per_reason[check], 4)
                for check, n in sorted(self.disagreements_per_check.items())
                if self.escalations_per_reason[check]},
            "needs_review": self.in_review,
        }


def quality_report(session: Session, batch_id: str) -> QualityReport:
    report = QualityReport(batch_id)
    in_batch = select(Job.id).where(Job.batch_id == batch_id)
    attempts = session.scalars(
        select(Attempt).where(Attempt.job_id.in_(in_batch), Attempt.validated.is_not(None))
    )
    for attempt in attempts:
        report.validated_per_tier[attempt.tier] += 1
        report.passed_per_tier[attempt.tier] += bool(attempt.validated)
        failed_checks = set()
        for finding in attempt.findings or []:
            counts = report.checks[(attempt.tier, finding["check"])]
            counts[0] += 1
            counts[1] += bool(finding["passed"])
            if not finding["passed"] and finding.get("strict", True):
                failed_checks.add(finding["check"])
            if finding["check"] == DISAGREEMENT:
                for check in finding.get("checks", []):
                    report.disagreements_per_check[str(check)] += 1
        # A failed validation escalates (or ends in review at the top): count it per check.
        for check in failed_checks:
            report.escalations_per_reason[check] += 1
    review = session.scalars(
        select(Job).where(Job.batch_id == batch_id, Job.status == JobStatus.NEEDS_REVIEW.value)
    )
    report.in_review = [{"job_id": j.id, "key": j.idempotency_key, "reason": j.status_reason}
                        for j in review]
    return report


def done_per_feature(session: Session, batch_id: str) -> dict[str, dict[str, int]]:
    """Jobs per feature and final status: how each kind of work ended."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for job in session.scalars(select(Job).where(Job.batch_id == batch_id)):
        counts = out[job.feature or "-"]
        counts[job.status] = counts.get(job.status, 0) + 1
    return {feature: dict(sorted(c.items())) for feature, c in sorted(out.items())}


def accepted_on_disagreement(session: Session, batch_id: str) -> int:
    """Jobs done with an answer their tiers agreed on against a check (flagged, not validated)."""
    return sum(1 for job in session.scalars(select(Job).where(
        Job.batch_id == batch_id, Job.status == JobStatus.DONE.value))
        if (job.status_reason or "").startswith("validator disagreement"))
