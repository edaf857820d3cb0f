"""One flush of a step that works in sets (route, validate): counted, set-wise, and per job
when the set cannot be.

A flush is one transaction for all its jobs (`together`), then one publish of the tier
messages it decided. Every job still stands alone where it matters:

- deliveries are counted per job (`rt.deliveries`), so a poison message is quarantined alone;
- when the set-wise transaction raises (one unreadable job, a bug, the database gone), nothing
  of it was committed, and the flush runs one job at a time (`alone`), each in its own
  transaction under `tasks.guard`'s handling: the bad job is retried or quarantined, an outage
  is waited out, the others go on;
- a job the set-wise pass hands back (validation that asks a judge, a network call) runs alone
  after the set's commit;
- a publish that fails after the commit is retried for those jobs (their state says the step
  happened, so the next delivery re-publishes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tierline.tasks.deliveries import delivery_key
from tierline.tasks.guard import Again, after_failure, quarantine_unfinished
from tierline.tasks.pipeline import Publisher
from tierline.tasks.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepItem:
    """One message of a set-wise step: the job, where in it (0 for route, the attempt's number
    for validate), and when the outage it is waiting out began (0: none)."""

    job_id: str
    at: int = 0
    outage_since: float = 0.0


@dataclass
class SetPlan:
    """What a set-wise pass left to do after its commit, by the item's position in the set:
    the tier messages to publish, and the items to run one at a time."""

    infers: list[tuple[int, str, int]] = field(default_factory=list)
    alone: list[int] = field(default_factory=list)


def run_flush(rt: Runtime, publisher: Publisher, step: str, items: Sequence[StepItem],
              together: Callable[[Sequence[StepItem]], SetPlan],
              alone: Callable[[StepItem], None]) -> list[tuple[StepItem, Again]]:
    """Run one flush; returns the items to send again (an outage waited out, a crash retried)."""
    keys = [delivery_key(step, item.job_id, item.at) for item in items]
    counts = rt.deliveries.begin(keys)
    outcomes: dict[int, Again | None] = {}
    live: list[int] = []
    for index, (item, count) in enumerate(zip(items, counts, strict=True)):
        if count > rt.settings.poison_deliveries:
            outcomes[index] = quarantine_unfinished(rt, step, keys[index], item.job_id, count,
                                                    item.outage_since)
        else:
            live.append(index)

    def failed(index: int, exc: Exception) -> Again | None:
        item = items[index]
        return after_failure(rt, step, keys[index], item.job_id, exc, counts[index],
                             item.outage_since)

    plan = SetPlan()
    if live:
        try:
            plan = together([items[i] for i in live])
        except Exception as exc:
            log.warning("%s flush of %d jobs failed as a set (%r); running them one at a time",
                        step, len(live), exc)
            plan = SetPlan(alone=list(range(len(live))))
        if plan.infers:
            try:
                publisher.infer_many([(job_id, tier) for _, job_id, tier in plan.infers])
            except Exception as exc:
                for position, _, _ in plan.infers:
                    outcomes[live[position]] = failed(live[position], exc)
        for position in plan.alone:
            try:
                alone(items[live[position]])
            except Exception as exc:
                outcomes[live[position]] = failed(live[position], exc)
    rt.deliveries.finish([keys[i] for i in range(len(items))
                          if not isinstance(outcomes.get(i), Again)])
    return [(items[i], o) for i, o in sorted(outcomes.items()) if isinstance(o, Again)]
