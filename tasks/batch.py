"""The tier-1 drain's core: one flush of queued jobs, their provider calls made concurrently.

Database work stays synchronous (claim and prompt before, ledger after); only the network waits
overlap, on one long-lived event loop per process so the async SDK clients keep their
connection pools between flushes.

Every item stands alone: whatever one item raises (a malformed answer, a bug, the database
gone) becomes that item's outcome, never the flush's. And every answer is ledgered before any
item publishes anything, so a broker failure while publishing loses no call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from tierline.providers.errors import UnexpectedFailure
from tierline.routing.breaker import Breakers
from tierline.routing.limiter import Limiter
from tierline.tasks.calls import CallRecord, acall_chain
from tierline.tasks.deliveries import delivery_key
from tierline.tasks.guard import Again, after_failure, quarantine
from tierline.tasks.ledger import Recorded
from tierline.tasks.pipeline import (
    PreparedCall,
    Publisher,
    RetryLater,
    act_on_calls,
    prepare_infer,
    record_infer,
    retry_or_give_up,
)
from tierline.tasks.runtime import Runtime

STEP = "infer"


@dataclass(frozen=True)
class BatchItem:
    job_id: str
    tier: int
    retries: int = 0
    # When the outage this item is waiting out began (0: none).
    outage_since: float = 0.0

    @property
    def key(self) -> str:
        return delivery_key(STEP, self.job_id, self.tier)


async def _call_one(call: PreparedCall, breakers: Breakers,
                    limiter: Limiter) -> list[CallRecord]:
    try:
        return await acall_chain(call.chain, call.request, breakers, limiter)
    except Exception as exc:  # the chain itself (a breaker store, a bug): this item's failure
        endpoint = call.chain[0][0]
        error = UnexpectedFailure(f"{endpoint.label}: {type(exc).__name__}: {exc}",
                                  endpoint=endpoint.label)
        return [CallRecord(endpoint, None, error, 0.0)]


async def _call_all(calls: Sequence[PreparedCall], breakers: Breakers,
                    limiter: Limiter) -> list[list[CallRecord]]:
    return list(await asyncio.gather(*(_call_one(c, breakers, limiter) for c in calls)))


Outcome = RetryLater | Again | None


def run_batch(rt: Runtime, publisher: Publisher,
              items: Sequence[BatchItem]) -> list[tuple[BatchItem, RetryLater | Again]]:
    """Run one flush; returns the items to send again: a tier that failed retryably
    (`RetryLater`), or a step that raised (`Again`: an outage waited out, a crash retried)."""
    counts = rt.deliveries.begin([item.key for item in items])
    outcomes: dict[int, Outcome] = {}
    prepared: list[tuple[int, PreparedCall]] = []
    for index, (item, count) in enumerate(zip(items, counts, strict=True)):
        if count > rt.settings.poison_deliveries:
            outcomes[index] = quarantine(rt, STEP, item.key, item.job_id, f"started {count - 1} "
                                         "times without finishing (its worker died)",
                                         item.outage_since)
            continue
        try:
            call = prepare_infer(rt, publisher, item.job_id, item.tier)
        except Exception as exc:
            outcomes[index] = after_failure(rt, STEP, item.key, item.job_id, exc, count,
                                            item.outage_since)
            continue
        if call is None:
            outcomes[index] = None
        else:
            prepared.append((index, call))
    records = (rt.async_loop().run(
        _call_all([call for _, call in prepared], rt.breakers, rt.limiter))
               if prepared else [])

    # The ledger first, for every item, then whatever each item publishes.
    recorded: list[tuple[int, PreparedCall, list[CallRecord], Recorded]] = []
    for (index, call), calls in zip(prepared, records, strict=True):
        try:
            recorded.append((index, call, calls, record_infer(rt, call, calls)))
        except Exception as exc:
            outcomes[index] = after_failure(rt, STEP, items[index].key, call.job_id, exc,
                                            counts[index], items[index].outage_since)
    for index, call, calls, done in recorded:
        item = items[index]
        try:
            outcome = act_on_calls(rt, publisher, call, calls, done)
            outcomes[index] = outcome
        except Exception as exc:
            outcomes[index] = after_failure(rt, STEP, item.key, item.job_id, exc,
                                            counts[index], item.outage_since)
    finished = [items[i].key for i, o in outcomes.items() if not isinstance(o, Again)]
    rt.deliveries.finish(finished)
    return [(items[i], o) for i, o in sorted(outcomes.items()) if o is not None]


def next_try(rt: Runtime, publisher: Publisher, item: BatchItem,
             outcome: RetryLater | Again) -> tuple[BatchItem, float] | None:
    """The item to send again and its countdown, or None when its tier's tries are used up
    and the job has moved on (a tier up, or failed at the top)."""
    if isinstance(outcome, Again):
        return BatchItem(item.job_id, item.tier, item.retries, outcome.outage_since), \
            outcome.delay_s
    try:
        delay = retry_or_give_up(rt, publisher, item.job_id, item.tier, item.retries, outcome)
    except Exception as exc:
        again = after_failure(rt, STEP, item.key, item.job_id, exc, 1, item.outage_since)
        return None if again is None else (
            BatchItem(item.job_id, item.tier, item.retries, again.outage_since), again.delay_s)
    if delay is None:
        return None
    return BatchItem(item.job_id, item.tier, item.retries + 1), delay
