"""Spend budgets: what a tenant and/or feature may spend per UTC day or month, and what a job
governed by them may still do. Pure: budgets and the spend so far in, an effect and its reason out.

A budget past its soft fraction closes the tiers above its `soft_max_tier` (cheaper work goes on);
a budget spent to its limit stops new jobs. A job answers to every budget whose tenant and
feature patterns match it (globs, as in the business rules), and the strictest one wins. The
route step turns that effect into the job's gate (`gate_job`): refused, or routed with its own
ceiling lowered to the cap.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierline.config.tiers import TIER_COUNT
from tierline.jobs.models import JobSpec

Period = Literal["day", "month"]


class Budget(BaseModel):
    """One `[[budgets]]` entry of the policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str = Field(default="*", min_length=1)  # glob pattern on the job's tenant
    feature: str = Field(default="*", min_length=1)  # glob pattern on the job's feature
    period: Period
    limit_usd: Decimal = Field(gt=0)
    # Spend at this share of the limit closes the tiers above `soft_max_tier`.
    soft_fraction: Decimal = Field(default=Decimal("0.8"), gt=0, le=1)
    soft_max_tier: int = Field(default=2, ge=1, le=TIER_COUNT)

    @property
    def name(self) -> str:
        return f"{self.tenant}/{self.feature} {self.period}"

    @property
    def soft_limit_usd(self) -> Decimal:
        return self.limit_usd * self.soft_fraction

    def matches(self, tenant: str, feature: str) -> bool:
        return (fnmatch.fnmatchcase(tenant, self.tenant)
                and fnmatch.fnmatchcase(feature, self.feature))


def matching(budgets: Iterable[Budget], tenant: str, feature: str) -> list[Budget]:
    """The budgets that govern a job of `tenant` and `feature`."""
    return [b for b in budgets if b.matches(tenant, feature)]


def period_start(period: Period, now: datetime) -> datetime:
    """The UTC instant the current day or month began."""
    now = now.astimezone(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.replace(day=1) if period == "month" else start


class BudgetState(enum.StrEnum):
    OK = "ok"
    CAPPED = "capped"
    EXHAUSTED = "exhausted"


def usd(amount: Decimal) -> str:
    """Dollars and cents; sub-cent amounts (a few test calls) keep the places that show them."""
    if amount == 0 or abs(amount) >= Decimal("0.01"):
        return f"${amount:,.2f}"
    return f"${amount:.6f}"


@dataclass(frozen=True)
class BudgetStatus:
    """A budget and what has been spent against it this period."""

    budget: Budget
    spent_usd: Decimal

    @property
    def state(self) -> BudgetState:
        if self.spent_usd >= self.budget.limit_usd:
            return BudgetState.EXHAUSTED
        if self.spent_usd >= self.budget.soft_limit_usd:
            return BudgetState.CAPPED
        return BudgetState.OK

    @property
    def share(self) -> float:
        return float(self.spent_usd / self.budget.limit_usd)

    @property
    def reason(self) -> str:
        spent, limit = usd(self.spent_usd), usd(self.budget.limit_usd)
        if self.state is BudgetState.EXHAUSTED:
            return f"budget {self.budget.name} exhausted: {spent} of {limit}"
        return (f"budget {self.budget.name}: {spent} of {limit} spent; "
                f"tiers above {self.budget.soft_max_tier} closed")


@dataclass(frozen=True)
class BudgetEffect:
    """What the budgets do to one job: nothing, a ceiling tier, or no start at all."""

    state: BudgetState
    # The highest tier the job may reach; None unless capped.
    max_tier: int | None = None
    reasons: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


NO_EFFECT = BudgetEffect(BudgetState.OK)


def budget_effect(statuses: Sequence[BudgetStatus]) -> BudgetEffect:
    """The effect of the budgets governing a job, given each one's spend this period.

    Any exhausted budget stops the job (every exhausted one is named); otherwise the lowest
    `soft_max_tier` among the capped budgets is the job's ceiling, named by the budgets that set
    it."""
    exhausted = [s for s in statuses if s.state is BudgetState.EXHAUSTED]
    if exhausted:
        return BudgetEffect(BudgetState.EXHAUSTED, reasons=tuple(s.reason for s in exhausted))
    capped = [s for s in statuses if s.state is BudgetState.CAPPED]
    if not capped:
        return NO_EFFECT
    cap = min(s.budget.soft_max_tier for s in capped)
    return BudgetEffect(BudgetState.CAPPED, max_tier=cap,
                        reasons=tuple(s.reason for s in capped if s.budget.soft_max_tier == cap))


@dataclass(frozen=True)
class BudgetGate:
    """What the budgets allow one job at its route step."""

    # The job as it may be routed: its own ceiling lowered to the budgets' cap, if they cap it.
    spec: JobSpec
    # The cap, when it is below the job's own ceiling.
    max_tier: int | None = None
    # For the routing decision: the budgets that lowered the job's ceiling.
    reasons: tuple[str, ...] = ()
    # Why the job may not start at all.
    refusal: str | None = None


def capped_spec(spec: JobSpec, max_tier: int) -> JobSpec:
    return spec.model_copy(update={"context": spec.context.model_copy(
        update={"max_tier": max_tier})})


def gate_job(effect: BudgetEffect, spec: JobSpec, top: int) -> BudgetGate:
    """Turn the budgets' effect into the job's gate. An exhausted budget refuses the job. A cap
    below the job's own ceiling becomes its ceiling, for its escalations too; a job whose own
    floor is above the cap is refused rather than run below the tier its producer demanded."""
    if effect.state is BudgetState.EXHAUSTED:
        return BudgetGate(spec, refusal=effect.reason)
    own_ceiling = min(top, spec.context.max_tier)
    if effect.max_tier is None or effect.max_tier >= own_ceiling:
        return BudgetGate(spec)
    if spec.context.min_tier > effect.max_tier:
        return BudgetGate(spec, refusal=f"{effect.reason}; this job's own floor is tier "
                                        f"{spec.context.min_tier}")
    return BudgetGate(capped_spec(spec, effect.max_tier), effect.max_tier, effect.reasons)
