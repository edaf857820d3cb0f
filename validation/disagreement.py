"""When two tiers agree and the validator does not: the validator is the likelier one to be wrong.

A higher tier that returns the same answer (the same parsed values, label or final number) a
lower tier gave, rejected again by the same checks, is a second model independently reaching the
value the check doubts. Paying a third model on that evidence alone mostly buys a third copy of
the answer; the check's doubt is recorded instead, as a disagreement between the fleet's models
and its validator, and the job ends as the policy says:

- `accept`: the job is done with the agreed answer, flagged (result not validated, the reason
  names the check);
- `review`: the job waits for a person (`needs_review`), with the same reason.

Disagreements counted per check are the fleet's live estimate of each check's own error rate.
Pure: the pipeline hands in what it has loaded and acts on the answer.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tierline.jobs.models import JobSpec
from tierline.validation.agreement import outputs_agree
from tierline.validation.base import Finding, Verdict

DISAGREEMENT = "disagreement"


class DisagreementPolicy(enum.StrEnum):
    ACCEPT = "accept"
    REVIEW = "review"


@dataclass(frozen=True)
class Earlier:
    """A rejected earlier attempt at the same job: its tier, raw output and stored findings."""

    tier: int
    text: str
    findings: list[Mapping[str, Any]]


@dataclass(frozen=True)
class Disagreement:
    checks: tuple[str, ...]  # the checks that rejected the same answer on every tier
    tiers: tuple[int, ...]  # the tiers that gave it, lowest first

    @property
    def reason(self) -> str:
        tiers = " and ".join(str(t) for t in self.tiers)
        return (f"validator disagreement: tiers {tiers} gave the same answer and "
                f"{', '.join(self.checks)} rejected it each time")

    def finding(self) -> Finding:
        """Recorded with the attempt, never strict: it reports on the checks, not the output."""
        return Finding(DISAGREEMENT, False, self.reason, strict=False)


def _strict_failures(findings: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(f["check"]) for f in findings
            if not f.get("passed", True) and f.get("strict", True)}


def repeated_rejection(job: JobSpec, tier: int, text: str, verdict: Verdict,
                       earlier: Iterable[Earlier]) -> Disagreement | None:
    """A disagreement when `verdict` rejects an answer that a lower tier already gave and that
    was rejected by (at least) the same checks; None otherwise, or when `verdict` passed.

    "The same answer" is the canonical form of `validation.agreement` (parsed JSON, label,
    final number): free text has none, so prose answers never count as agreeing.
    """
    if verdict.passed:
        return None
    failing = {f.check for f in verdict.failures}
    if not failing:
        return None
    agreeing = [e for e in earlier if e.tier < tier
                and failing <= _strict_failures(e.findings)
                and outputs_agree(job, e.text, text) is True]
    if not agreeing:
        return None
    tiers = tuple(sorted({e.tier for e in agreeing} | {tier}))
    return Disagreement(tuple(sorted(failing)), tiers)
