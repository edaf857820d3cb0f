"""What a routing decision is, and the one method every router offers."""

from __future__ import annotations

import time
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
    # Wall time of the decision: in a busy worker it includes waiting for the GIL and the CPU
    # while other threads run.
    latency_ms: float = 0.0
    # CPU time of the deciding thread (time.thread_time): what the decision itself costs.
    cpu_ms: float = 0.0


@dataclass(frozen=True)
class Stopwatch:
    """When a decision started, on the wall clock and on its thread's CPU clock."""

    wall: float
    cpu: float

    @staticmethod
    def start() -> Stopwatch:
        return Stopwatch(time.perf_counter(), time.thread_time())

    def wall_ms(self) -> float:
        return (time.perf_counter() - self.wall) * 1000

    def cpu_ms(self) -> float:
        return (time.thread_time() - self.cpu) * 1000


class Router(Protocol):
    version: str

    def decide(self, job: JobSpec, tiers: TiersConfig) -> Decision: ...
