"""What a routing decision is, and the one method every router offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tierline.config.tiers import TiersConfig
from tierline.jobs.models import JobSpec


@dataclass(frozen=True)
class Decision:
    tier: int
    # Per tier, the probability that its answer is good enough (empty for pure rules).
    probabilities: dict[int, float] = field(default_factory=dict)
    confidence: float = 1.0
    # Human-readable reasons, in the order they changed the decision.
    reasons: tuple[str, ...] = ()
    router_version: str = ""
    latency_ms: float = 0.0


class Router(Protocol):
    version: str

    def decide(self, job: JobSpec, tiers: TiersConfig) -> Decision: ...
