"""From per-tier probabilities to one tier: expected cost or the quality bar, the confidence band,
business rules, floors and ceilings, context windows and sensitivity. Pure: configuration in,
tier and reasons out.

The order matters and is recorded: the starting tier, chosen either by expected cost (for the
error tolerances the policy prices: validation catches a cheaper tier's failure and escalates, so
starting low costs the retry, not the job) or as the cheapest tier that clears the job's bar,
one tier up when that is a coin flip (inside the band); business rules and the job's own floor
and ceiling; then the hard limits that no preference overrides: the job must fit the tier's
context window, and a sensitive job may only reach hosts its tenant allows.
"""

from __future__ import annotations

import fnmatch
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tierline.config.tiers import TIER_COUNT, Endpoint, Tier, TiersConfig
from tierline.jobs.models import JobSpec, Level, TaskType
from tierline.routing.budget import Budget
from tierline.routing.features import Features

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.default.toml")


class NoEligibleTier(ValueError):
    """No tier may take the job (too long for every window, or no allowed host)."""


class BusinessRule(BaseModel):
    """When every condition that is set matches, the job's tier is bounded by min/max_tier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    roles: tuple[str, ...] = ()  # glob patterns on the lower-cased role
    signals: tuple[str, ...] = ()  # any of these content signals
    tasks: tuple[TaskType, ...] = ()
    features: tuple[str, ...] = ()  # glob patterns on the job's `feature`
    business_impact: tuple[Level, ...] = ()
    requires_schema: bool | None = None
    min_tier: int | None = Field(default=None, ge=1, le=TIER_COUNT)
    max_tier: int | None = Field(default=None, ge=1, le=TIER_COUNT)

    @model_validator(mode="after")
    def _bounds(self) -> BusinessRule:
        if self.min_tier is None and self.max_tier is None:
            raise ValueError(f"business rule {self.name!r} sets neither min_tier nor max_tier")
        return self

    def matches(self, job: JobSpec, features: Features) -> bool:
        # Cheap conditions first: most rules fail on them before any glob is matched.
        return (
            (not self.tasks or job.task in self.tasks)
            and (not self.signals or not features.signals.isdisjoint(self.signals))
            and (not self.business_impact or job.context.business_impact in self.business_impact)
            and (self.requires_schema is None
                 or self.requires_schema == (job.output_schema is not None))
            and (not self.roles or any(fnmatch.fnmatchcase(features.role, p)
                                       for p in self.roles))
            and (not self.features or any(fnmatch.fnmatchcase(job.feature, p)
                                          for p in self.features))
        )


class CostAware(BaseModel):
    """Which jobs start at the tier of least expected cost, and what a missed failure costs.

    Starting at tier s costs that call, plus each call up the chain that validation's catches
    lead to, plus `miss_cost_usd` and a redo on the top tier times the chance the job ends
    wrong: a failure validation lets through (1 - `validator_recall` of them) or the last
    tier's own failure. A job whose error
    tolerance has no miss cost, or of high business impact unless `high_impact`, keeps the
    quality bar: there a failure that slips through costs more than any call.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Of the answers that are not good, the share validation rejects (so the job escalates).
    validator_recall: float = Field(default=0.9, ge=0.0, le=1.0)
    # USD a wrong answer costs when delivered, per error tolerance priced this way.
    miss_cost_usd: dict[Level, float] = Field(default_factory=dict)
    high_impact: bool = False

    def miss_cost(self, job: JobSpec) -> float | None:
        """The miss cost that prices `job`, or None when its bar decides instead."""
        if job.context.business_impact is Level.HIGH and not self.high_impact:
            return None
        return self.miss_cost_usd.get(job.context.error_tolerance)


class PolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    confidence_band: tuple[float, float] = (0.45, 0.55)
    # None: every job is routed by its quality bar.
    cost_aware: CostAware | None = None
    # The probability a tier must reach, by the job's error tolerance (low tolerance: high bar).
    quality_bar: dict[Level, float] = Field(default_factory=lambda: {
        Level.LOW: 0.85, Level.MEDIUM: 0.7, Level.HIGH: 0.5})
    # High business impact raises the bar by this much (capped at 0.99).
    high_impact_margin: float = 0.05
    # When no tier reaches the bar, the cheapest tier within this much of the best one: a
    # stronger tier that is barely more likely to be right is not worth its price.
    no_bar_margin: float = 0.05
    # Per task, P(good) per tier for jobs of a task the model has no training data for.
    task_priors: dict[TaskType, dict[int, float]] = Field(default_factory=dict)
    business_rules: tuple[BusinessRule, ...] = ()
    # tenant -> hosts (Endpoint.host_name) allowed to see its sensitive documents; "*" applies
    # to tenants without an entry. A sensitive job of a tenant with no entry reaches no host.
    tenant_hosts: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Spend caps per tenant and/or feature and period (routing.budget); none by default.
    budgets: tuple[Budget, ...] = ()
    # The share of jobs routed above tier 1 that try tier 1 first anyway (validation escalates
    # them when it was not enough). The ledger only labels a job with the lowest tier that was
    # enough when the tier below was tried too, so without this a router never learns that
    # jobs it sends up could have stayed down. A deterministic sample (a hash of the job).
    explore_fraction: float = Field(default=0.0, ge=0.0, le=0.5)

    @model_validator(mode="after")
    def _budgets_distinct(self) -> PolicyConfig:
        names = [b.name for b in self.budgets]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"budget {repeated[0]} is declared more than once")
        return self

    def bar(self, job: JobSpec) -> float:
        bar = self.quality_bar.get(job.context.error_tolerance, 0.7)
        if job.context.business_impact is Level.HIGH:
            bar += self.high_impact_margin
        return min(bar, 0.99)

    def allowed_hosts(self, tenant: str) -> frozenset[str]:
        return frozenset(self.tenant_hosts.get(tenant, self.tenant_hosts.get("*", ())))


def load_policy(path: Path | str | None = None) -> PolicyConfig:
    """Read a policy file (TOML); the shipped default when `path` is None."""
    source = Path(path) if path else DEFAULT_POLICY_FILE
    return PolicyConfig.model_validate(tomllib.loads(source.read_text(encoding="utf-8")))


def explores(job: JobSpec, fraction: float) -> bool:
    """Whether `job` is in the deterministic `fraction` of jobs that explore tier 1."""
    identity = job.key or f"{job.task.value}\n{job.input_text()[:4000]}"
    return zlib.crc32(identity.encode("utf-8")) % 10_000 < fraction * 10_000


def allowed_endpoints(tier: Tier, job: JobSpec, policy: PolicyConfig) -> list[Endpoint]:
    """The endpoints of `tier` that may see `job` (all of them unless it is sensitive)."""
    if not job.context.sensitive:
        return list(tier.endpoints)
    hosts = policy.allowed_hosts(job.tenant)
    return [e for e in tier.endpoints if e.host_name in hosts]


def _fits(tier: Tier, job: JobSpec, policy: PolicyConfig, tokens: int) -> tuple[bool, str]:
    endpoints = allowed_endpoints(tier, job, policy)
    if not endpoints:
        return False, f"no host of tier {tier.tier} is allowed for tenant {job.tenant!r}"
    window = min(e.context_window for e in endpoints)
    if tokens > window:
        return False, f"{tokens} tokens exceed tier {tier.tier}'s context window of {window}"
    return True, ""


def call_cost(tier: Tier, job: JobSpec, policy: PolicyConfig, features: Features) -> float:
    """USD of one call at `tier` for `job`: its first usable endpoint, estimated tokens."""
    endpoints = allowed_endpoints(tier, job, policy) or list(tier.endpoints)
    first = endpoints[0]
    return (features.input_tokens * first.price_in
            + features.expected_output_tokens * first.price_out) / 1_000_000


def expected_cost(start: int, top: int, probabilities: dict[int, float], costs: dict[int, float],
                  recall: float, miss_cost: float) -> float:
    """Expected USD of starting at `start` and escalating one tier per caught failure up to
    `top`, plus `miss_cost` per job that ends wrong.

    P(good) per tier is read as cumulative (a job a tier gets right, the tiers above get right
    too: the router is trained on the lowest tier that was enough), so a job that failed tier
    t - 1 fails tier t with probability (1 - p_t) / (1 - p_{t-1}).
    """
    total, reach, wrong, previous = 0.0, 1.0, 0.0, 0.0
    for tier in range(start, top + 1):
        p = probabilities.get(tier, 0.0)
        fails = 1.0 - p if tier == start else (
            min(1.0, max(0.0, (1.0 - p) / (1.0 - previous))) if previous < 1.0 else 0.0)
        total += reach * costs[tier]
        if tier == top:
            wrong += reach * fails
        else:
            wrong += reach * fails * (1.0 - recall)
            reach *= fails * recall
        previous = p
    return total + miss_cost * wrong


def _cheapest_start(job: JobSpec, features: Features, probabilities: dict[int, float],
                    tiers: TiersConfig, policy: PolicyConfig,
                    cost_aware: CostAware, miss_cost: float) -> tuple[int, str]:
    top = max(1, min(job.context.max_tier, tiers.top))
    costs = {t: call_cost(tiers.get(t), job, policy, features) for t in range(1, top + 1)}
    # A wrong answer delivered is at least redone on the top tier once found: a miss priced
    # below that call would make letting failures through look cheaper than escalating them.
    miss = miss_cost + costs[top]
    expected = {s: expected_cost(s, top, probabilities, costs, cost_aware.validator_recall,
                                 miss) for s in range(1, top + 1)}
    # Ties go to the stronger tier: equal money, fewer escalations.
    tier = min(expected, key=lambda s: (expected[s], -s))
    listed = ", ".join(f"tier {s} ${expected[s]:.4f}" for s in expected)
    return tier, (f"tier {tier} has the least expected cost with escalation on failure "
                  f"({listed}; a missed failure ${miss_cost:g} and its redo ${costs[top]:.4f})")


@dataclass(frozen=True)
class PolicyResult:
    tier: int
    reasons: tuple[str, ...]


def _bar_tier(job: JobSpec, probabilities: dict[int, float], top: int, policy: PolicyConfig,
              reasons: list[str]) -> int:
    """The cheapest tier that clears the job's bar, one up inside the confidence band."""
    bar = policy.bar(job)
    clearing = [t for t in range(1, top + 1) if probabilities.get(t, 0.0) >= bar]
    if clearing:
        tier = clearing[0]
        reasons.append(f"tier {tier} is the cheapest with P(good) {probabilities[tier]:.2f} "
                       f">= bar {bar:.2f}")
    else:
        best = max(probabilities.get(t, 0.0) for t in range(1, top + 1))
        tier = next(t for t in range(1, top + 1)
                    if probabilities.get(t, 0.0) >= best - policy.no_bar_margin)
        reasons.append(f"no tier reaches bar {bar:.2f}: tier {tier} is the cheapest within "
                       f"{policy.no_bar_margin:.2f} of the best P(good) {best:.2f}")
    low, high = policy.confidence_band
    if tier < top and low <= probabilities.get(tier, 0.0) <= high:
        tier += 1
        reasons.append(f"P(good) inside the band {low:.2f}-{high:.2f}: up to tier {tier}")
    return tier


def apply_policy(
    job: JobSpec,
    features: Features,
    probabilities: dict[int, float],
    tiers: TiersConfig,
    policy: PolicyConfig,
) -> PolicyResult:
    """The tier for `job`, with the reasons that changed it, in order."""
    reasons: list[str] = []
    miss_cost = policy.cost_aware.miss_cost(job) if policy.cost_aware else None
    if policy.cost_aware is not None and miss_cost is not None:
        # The band does not apply: a coin flip is already priced (half the time, the retry).
        tier, why = _cheapest_start(job, features, probabilities, tiers, policy,
                                    policy.cost_aware, miss_cost)
        reasons.append(why)
    else:
        tier = _bar_tier(job, probabilities, tiers.top, policy, reasons)
    return bound_tier(job, features, tier, tiers, policy, tuple(reasons))


def bound_tier(job: JobSpec, features: Features, tier: int, tiers: TiersConfig,
               policy: PolicyConfig, reasons_before: tuple[str, ...] = ()) -> PolicyResult:
    """A router's preferred `tier` for `job` under the parts of the policy that need no
    probabilities: exploration, business rules, the job's floor and ceiling, context windows
    and the tenant's allowed hosts. Every router applies them."""
    top = tiers.top
    reasons = list(reasons_before)
    if tier > 1 and policy.explore_fraction > 0 and explores(job, policy.explore_fraction):
        tier = 1
        reasons.append(f"exploring ({policy.explore_fraction:.0%} of jobs): tier 1 first, so "
                       "that the ledger learns whether it is enough")

    # Business rules bound the tier inside the job's own floor and ceiling: the producer's
    # explicit bounds on one job win over fleet-wide configuration.
    job_floor, job_ceiling = job.context.min_tier, min(job.context.max_tier, top)
    floor, floor_why = job_floor, "job floor"
    ceiling, ceiling_why = job_ceiling, "job ceiling"
    for rule in policy.business_rules:
        if not rule.matches(job, features):
            continue
        if rule.min_tier is not None and rule.min_tier > floor:
            floor, floor_why = min(rule.min_tier, job_ceiling), f"business rule {rule.name!r}"
        if rule.max_tier is not None and rule.max_tier < ceiling:
            ceiling, ceiling_why = max(rule.max_tier, job_floor), f"business rule {rule.name!r}"
    ceiling = max(ceiling, floor)
    if tier < floor:
        tier = floor
        reasons.append(f"{floor_why}: tier {floor}")
    elif tier > ceiling:
        tier = ceiling
        reasons.append(f"{ceiling_why}: tier {ceiling}")

    tokens = features.total_tokens
    while True:
        ok, why = _fits(tiers.get(tier), job, policy, tokens)
        if ok:
            break
        if tier >= top:
            raise NoEligibleTier(why)
        tier += 1
        reasons.append(f"{why}: up to tier {tier}")
    return PolicyResult(tier, tuple(reasons))
