"""The shadow-test report: per tier, pinned model and candidate, how the candidate did on the
same live jobs as the pinned model.

Pass rates are compared on the same jobs only: those whose live attempt has been validated. A
candidate call that failed (error, timeout) counts as a failed answer: on live traffic it would
have failed the attempt. The candidate is validated by the job's checks without the optional
judge; the pinned side is the live attempt's own verdict.

The verdict is McNemar's test on the paired outcomes (jobs where exactly one side passed), at
the 5% level, once enough jobs are compared: "passes as often" means no difference the sample
can detect, not proof of equality.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.persistence.tables import Attempt, ShadowResult

MIN_COMPARED = 30
_Z_95 = 1.96
PER_JOBS = 1000


@dataclass(frozen=True)
class ShadowPair:
    """One candidate answer and the live attempt it shadowed."""

    tier: int
    pinned_model: str
    candidate: str
    answered: bool
    candidate_passed: bool | None
    # None until the validate step has judged the live attempt.
    pinned_passed: bool | None
    agrees: bool | None
    candidate_latency_ms: float
    pinned_latency_ms: float
    candidate_cost: Decimal
    pinned_cost: Decimal


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def shadow_verdict(compared: int, pinned_only: int, candidate_only: int) -> str:
    """Plain words from the paired outcomes: `pinned_only` jobs passed only on the pinned model,
    `candidate_only` only on the candidate."""
    if compared < MIN_COMPARED:
        return f"too few samples ({compared} jobs compared, {MIN_COMPARED} needed)"
    discordant = pinned_only + candidate_only
    z = (candidate_only - pinned_only) / math.sqrt(discordant) if discordant else 0.0
    if z <= -_Z_95:
        return f"candidate fails more often than the pinned model on {compared} jobs"
    if z >= _Z_95:
        return f"candidate passes more often than the pinned model on {compared} jobs"
    return f"candidate passes as often as the pinned model on {compared} jobs"


@dataclass(frozen=True)
class ShadowSummary:
    tier: int
    pinned_model: str
    candidate: str
    jobs: int
    errors: int
    compared: int
    candidate_pass_rate: float | None
    pinned_pass_rate: float | None
    comparable: int
    agreement_rate: float | None
    candidate_latency_ms: float | None
    pinned_latency_ms: float | None
    candidate_cost_per_1k: Decimal | None
    pinned_cost_per_1k: Decimal | None
    candidate_cost_usd: Decimal
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        def rounded(x: float | Decimal | None, places: int) -> float | None:
            return None if x is None else round(float(x), places)

        return {
            "tier": self.tier, "pinned_model": self.pinned_model, "candidate": self.candidate,
            "jobs": self.jobs, "errors": self.errors, "compared": self.compared,
            "candidate_pass_rate": rounded(self.candidate_pass_rate, 4),
            "pinned_pass_rate": rounded(self.pinned_pass_rate, 4),
            "comparable": self.comparable,
            "agreement_rate": rounded(self.agreement_rate, 4),
            "candidate_latency_ms": rounded(self.candidate_latency_ms, 1),
            "pinned_latency_ms": rounded(self.pinned_latency_ms, 1),
            "candidate_cost_per_1k_usd": rounded(self.candidate_cost_per_1k, 6),
            "pinned_cost_per_1k_usd": rounded(self.pinned_cost_per_1k, 6),
            "candidate_cost_usd": rounded(self.candidate_cost_usd, 6),
            "verdict": self.verdict,
        }


def _per_1k(costs: list[Decimal]) -> Decimal | None:
    return sum(costs, Decimal(0)) / len(costs) * PER_JOBS if costs else None


def summarize_pair_group(key: tuple[int, str, str], pairs: list[ShadowPair]) -> ShadowSummary:
    """The figures of one (tier, pinned model, candidate)."""
    compared = [p for p in pairs if p.pinned_passed is not None]
    candidate_passes = sum(1 for p in compared if p.candidate_passed)
    pinned_passes = sum(1 for p in compared if p.pinned_passed)
    pinned_only = sum(1 for p in compared if p.pinned_passed and not p.candidate_passed)
    candidate_only = sum(1 for p in compared if p.candidate_passed and not p.pinned_passed)
    answered = [p for p in pairs if p.answered]
    comparable = [p for p in pairs if p.agrees is not None]
    tier, pinned_model, candidate = key
    return ShadowSummary(
        tier=tier, pinned_model=pinned_model, candidate=candidate,
        jobs=len(pairs), errors=len(pairs) - len(answered), compared=len(compared),
        candidate_pass_rate=_rate(candidate_passes, len(compared)),
        pinned_pass_rate=_rate(pinned_passes, len(compared)),
        comparable=len(comparable),
        agreement_rate=_rate(sum(1 for p in comparable if p.agrees), len(comparable)),
        candidate_latency_ms=_mean([p.candidate_latency_ms for p in answered]),
        pinned_latency_ms=_mean([p.pinned_latency_ms for p in pairs]),
        # Per answered call: what the candidate would cost if it served these jobs.
        candidate_cost_per_1k=_per_1k([p.candidate_cost for p in answered]),
        pinned_cost_per_1k=_per_1k([p.pinned_cost for p in pairs]),
        candidate_cost_usd=sum((p.candidate_cost for p in pairs), Decimal(0)),
        verdict=shadow_verdict(len(compared), pinned_only, candidate_only),
    )


def summarize_shadows(pairs: Iterable[ShadowPair]) -> list[ShadowSummary]:
    """One summary per (tier, pinned model, candidate), in that order."""
    groups: dict[tuple[int, str, str], list[ShadowPair]] = defaultdict(list)
    for pair in pairs:
        groups[(pair.tier, pair.pinned_model, pair.candidate)].append(pair)
    return [summarize_pair_group(key, group) for key, group in sorted(groups.items())]


def shadow_pairs(session: Session) -> list[ShadowPair]:
    """Every shadow result with the live attempt it shadowed."""
    query = select(ShadowResult, Attempt).join(
        Attempt, (Attempt.job_id == ShadowResult.job_id)
        & (Attempt.attempt_no == ShadowResult.attempt_no))
    return [
        ShadowPair(
            tier=shadow.tier, pinned_model=shadow.pinned_model, candidate=shadow.candidate,
            answered=shadow.outcome == "ok", candidate_passed=shadow.validated,
            pinned_passed=attempt.validated, agrees=shadow.agrees,
            candidate_latency_ms=shadow.latency_ms, pinned_latency_ms=attempt.latency_ms,
            candidate_cost=Decimal(shadow.cost_usd), pinned_cost=Decimal(attempt.cost_usd),
        )
        for shadow, attempt in session.execute(query)
    ]


def shadow_report(session: Session) -> list[ShadowSummary]:
    return summarize_shadows(shadow_pairs(session))
