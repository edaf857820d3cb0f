"""The first router: plain rules on task type, length and context.

Kept as the `rules` strategy: it needs no model file, and it is the baseline the learned router
is measured against. It reads the same routing policy as the other routers; the settings that
price or weigh probabilities (confidence band, quality bars, cost-aware start, task priors) have
nothing to act on here.
"""

from __future__ import annotations

from tierline.config.tiers import TiersConfig
from tierline.jobs.models import JobSpec, Level, TaskType
from tierline.routing.base import Decision, Stopwatch
from tierline.routing.features import extract
from tierline.routing.policy import PolicyConfig, bound_tier, load_policy
from tierline.routing.tokens import count_tokens

VERSION = "rules-1"

_BASE_TIER: dict[TaskType, int] = {
    TaskType.EXTRACT: 1,
    TaskType.CLASSIFY: 1,
    TaskType.SUMMARIZE: 1,
    TaskType.ANSWER: 2,
    TaskType.MATH: 2,
    TaskType.CODE: 2,
}


class RulesRouter:
    """Rules on task, length and impact choose the tier; the routing policy then bounds it like
    any router's (business rules, floors and ceilings, context windows, allowed hosts).
    `policy`: the shipped default policy file when None, as the fleet's runtime loads it."""

    version = VERSION

    def __init__(self, policy: PolicyConfig | None = None) -> None:
        self.policy = policy or load_policy()

    def decide(self, job: JobSpec, tiers: TiersConfig) -> Decision:
        started = Stopwatch.start()
        reasons = [f"task {job.task.value} starts at tier {_BASE_TIER[job.task]}"]
        tier = _BASE_TIER[job.task]
        tokens = count_tokens(job.input_text())
        context = job.context

        def raise_to(new_tier: int, why: str) -> None:
            nonlocal tier
            if new_tier > tier:
                tier = new_tier
                reasons.append(why)

        if tokens > 6000:
            raise_to(2, f"long input ({tokens} tokens)")
        if context.business_impact is Level.HIGH:
            low_tolerance = context.error_tolerance is Level.LOW
            raise_to(tiers.top if low_tolerance else 2, "high business impact")
        tier = min(tier, tiers.top)
        result = bound_tier(job, extract(job), tier, tiers, self.policy, tuple(reasons))
        return Decision(
            tier=result.tier,
            reasons=result.reasons,
            router_version=VERSION,
            latency_ms=started.wall_ms(),
            cpu_ms=started.cpu_ms(),
        )
