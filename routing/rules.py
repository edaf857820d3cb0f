"""The first router: plain rules on task type, length and context.

Kept as the `rules` strategy: it needs no model file, and it is the baseline the learned router
is measured against.
"""

from __future__ import annotations

import time

from tierline.config.tiers import TiersConfig
from tierline.jobs.models import JobSpec, Level, TaskType
from tierline.routing.base import Decision

VERSION = "rules-1"

# Rough offline token count: about four characters a token for English prose.
CHARS_PER_TOKEN = 4

_BASE_TIER: dict[TaskType, int] = {
    TaskType.EXTRACT: 1,
    TaskType.CLASSIFY: 1,
    TaskType.SUMMARIZE: 1,
    TaskType.ANSWER: 2,
    TaskType.MATH: 2,
    TaskType.CODE: 2,
}


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN)


class RulesRouter:
    version = VERSION

    def decide(self, job: JobSpec, tiers: TiersConfig) -> Decision:
        started = time.perf_counter()
        reasons = [f"task {job.task.value} starts at tier {_BASE_TIER[job.task]}"]
        tier = _BASE_TIER[job.task]
        tokens = estimate_tokens(job.input_text())
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
            raise_to(3 if low_tolerance else 2, "high business impact")
        raise_to(context.min_tier, f"floor tier {context.min_tier}")
        if tier > context.max_tier:
            tier = context.max_tier
            reasons.append(f"ceiling tier {context.max_tier}")
        while tier < tiers.top and tokens + 1024 > tiers.get(tier).context_window:
            raise_to(tier + 1, f"input does not fit tier {tier}'s context window")
        tier = min(tier, tiers.top)
        return Decision(
            tier=tier,
            reasons=tuple(reasons),
            router_version=VERSION,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
