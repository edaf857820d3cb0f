"""How long the janitor lets a job sit untouched before it sends the job's message again.

A job's row is touched when a step claims it and when the step records; in between, one step
can take at most its tier's whole fallback chain (each endpoint's timeout), the judge's call
after it, and the longest countdown before a retry. A job untouched for longer than that, plus
a margin, is waiting for a message that is gone (Redis restarted empty, a publish failed), so
re-sending it costs at most a duplicate call, which compare-and-set makes harmless.
"""

from __future__ import annotations

from tierline.config.tiers import TiersConfig
from tierline.tasks.backoff import MAX_DELAY_S
from tierline.tasks.outage import MAX_OUTAGE_DELAY_S

MARGIN_S = 30.0


def slowest_step_s(tiers: TiersConfig) -> float:
    """The longest one step may run: the slowest tier's whole chain, then a tier-1 judge."""
    chains = [sum(e.timeout_s for e in tiers.get(t).endpoints) for t in range(1, tiers.top + 1)]
    judge = max(e.timeout_s for e in tiers.get(1).endpoints)
    return max(chains) + judge


def janitor_idle_s(tiers: TiersConfig) -> float:
    return slowest_step_s(tiers) + max(MAX_DELAY_S, MAX_OUTAGE_DELAY_S) + MARGIN_S
