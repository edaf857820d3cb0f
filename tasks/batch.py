"""The tier-1 drain's core: one flush of queued jobs, their provider calls made concurrently.

Database work stays synchronous (claim and prompt before, ledger after); only the network waits
overlap, on one long-lived event loop per process so the async SDK clients keep their
connection pools between flushes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from routing.breaker import Breakers
from tasks.calls import CallRecord, acall_chain
from tasks.pipeline import PreparedCall, Publisher, RetryLater, finish_infer, prepare_infer
from tasks.runtime import Runtime


@dataclass(frozen=True)
class BatchItem:
    job_id: str
    tier: int
    retries: int = 0


async def _call_all(calls: Sequence[PreparedCall],
                    breakers: Breakers) -> list[list[CallRecord]]:
    return list(await asyncio.gather(*(acall_chain(c.chain, c.request, breakers)
                                       for c in calls)))


def run_batch(
    rt: Runtime, publisher: Publisher, items: Sequence[BatchItem]
) -> list[tuple[BatchItem, RetryLater]]:
    """Run one flush; returns the items whose whole tier failed retryably, to retry later."""
    prepared: list[tuple[BatchItem, PreparedCall]] = []
    for item in items:
        call = prepare_infer(rt, publisher, item.job_id, item.tier)
        if call is not None:
            prepared.append((item, call))
    if not prepared:
        return []
    records = rt.async_loop().run(_call_all([call for _, call in prepared], rt.breakers))
    retry: list[tuple[BatchItem, RetryLater]] = []
    for (item, call), calls in zip(prepared, records, strict=True):
        outcome = finish_infer(rt, publisher, call, calls)
        if outcome is not None:
            retry.append((item, outcome))
    return retry
