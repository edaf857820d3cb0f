"""The tier drains' core (every tier; for tier 1 the micro-batching toward Groq): one flush of
queued jobs, their provider calls made concurrently.

Database work stays synchronous (claim and prompt before, ledger after); only the network waits
overlap, on one long-lived event loop per process so the async SDK clients keep their
connection pools between flushes. The whole flush is claimed in one transaction
(`pipeline.prepare_infers`); if that raises, each item is claimed in its own, as a lone
message would be, so one job that cannot be claimed fails alone.

Every item stands alone: whatever one item raises (a malformed answer, a bug, the database
gone) becomes that item's outcome, never the flush's. Each item is ledgered and publishes as
soon as its own call is answered, not when the flush's slowest call is: its answer is in the
ledger before it publishes anything, so a broker failure while publishing loses no call. The
answers that came in while earlier ones were being ledgered are ledgered together, in one
transaction; if that raises, each alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from tierline.providers.errors import UnexpectedFailure
from tierline.routing.limiter import Limiter
from tierline.tasks.calls import BreakerGate, CallRecord, acall_chain
from tierline.tasks.deliveries import delivery_key
from tierline.tasks.flush_breakers import FlushBreakers
from tierline.tasks.guard import Again, after_failure, quarantine_unfinished
from tierline.tasks.pipeline import (
    PreparedCall,
    Publisher,
    RetryLater,
    act_on_calls,
    prepare_infer,
    prepare_infers,
    record_infer,
    record_infers,
    retry_or_give_up,
)
from tierline.tasks.runtime import Runtime

STEP = "infer"
log = logging.getLogger(__name__)


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


async def _call_one(call: PreparedCall, breakers: BreakerGate,
                    limiter: Limiter) -> list[CallRecord]:
    try:
        return await acall_chain(call.chain, call.request, breakers, limiter)
    except Exception as exc:  # the chain itself (a breaker store, a bug): this item's failure
        endpoint = call.chain[0][0]
        error = UnexpectedFailure(f"{endpoint.label}: {type(exc).__name__}: {exc}",
                                  endpoint=endpoint.label)
        return [CallRecord(endpoint, None, error, 0.0)]


Outcome = RetryLater | Again | None


def _finish_item(rt: Runtime, publisher: Publisher, item: BatchItem, count: int,
                 call: PreparedCall, calls: list[CallRecord]) -> Outcome:
    """Ledger one item's calls, then act on them (publish its next step); whatever raises
    is this item's failure alone."""
    try:
        done = record_infer(rt, call, calls)
    except Exception as exc:
        return after_failure(rt, STEP, item.key, call.job_id, exc, count, item.outage_since)
    try:
        return act_on_calls(rt, publisher, call, calls, done)
    except Exception as exc:
        return after_failure(rt, STEP, item.key, item.job_id, exc, count, item.outage_since)


def _claim(rt: Runtime, publisher: Publisher, items: Sequence[BatchItem], counts: Sequence[int],
           due: list[int]) -> tuple[dict[int, Outcome], list[tuple[int, PreparedCall]]]:
    """Claim the items at positions `due`: all in one transaction, or, when that raises (one
    poison job, the database going away), each in its own, so that each item's failure is its
    own and the guard's outage and poison handling applies per job."""
    outcomes: dict[int, Outcome] = {}
    prepared: list[tuple[int, PreparedCall]] = []
    try:
        calls = prepare_infers(rt, publisher, [(items[i].job_id, items[i].tier) for i in due])
    except Exception:
        log.warning("tier claim of %d jobs together failed; claiming each alone", len(due),
                    exc_info=True)
        calls = None
    for position, index in enumerate(due):
        item = items[index]
        if calls is not None:
            call = calls[position]
        else:
            try:
                call = prepare_infer(rt, publisher, item.job_id, item.tier)
            except Exception as exc:
                outcomes[index] = after_failure(rt, STEP, item.key, item.job_id, exc,
                                                counts[index], item.outage_since)
                continue
        if call is None:
            outcomes[index] = None
        else:
            prepared.append((index, call))
    return outcomes, prepared


def _finish_group(rt: Runtime, publisher: Publisher, items: Sequence[BatchItem],
                  counts: Sequence[int],
                  answered: list[tuple[int, PreparedCall, list[CallRecord]]]
                  ) -> dict[int, Outcome]:
    """Ledger the items whose calls answered together in one transaction, then act on each;
    if that transaction raises, each item is ledgered alone (`_finish_item`), so that one
    item's failure stays its own."""
    if len(answered) > 1:
        try:
            recorded = record_infers(rt, [(call, calls) for _, call, calls in answered])
        except Exception:
            log.warning("ledger of %d tier answers together failed; ledgering each alone",
                        len(answered), exc_info=True)
        else:
            outcomes: dict[int, Outcome] = {}
            for (index, call, calls), done in zip(answered, recorded, strict=True):
                item = items[index]
                try:
                    outcomes[index] = act_on_calls(rt, publisher, call, calls, done)
                except Exception as exc:
                    outcomes[index] = after_failure(rt, STEP, item.key, item.job_id, exc,
                                                    counts[index], item.outage_since)
            return outcomes
    return {index: _finish_item(rt, publisher, items[index], counts[index], call, calls)
            for index, call, calls in answered}


def run_batch(rt: Runtime, publisher: Publisher,
              items: Sequence[BatchItem]) -> list[tuple[BatchItem, RetryLater | Again]]:
    """Run one flush; returns the items to send again: a tier that failed retryably
    (`RetryLater`), or a step that raised (`Again`: an outage waited out, a crash retried)."""
    counts = rt.deliveries.begin([item.key for item in items])
    outcomes: dict[int, Outcome] = {}
    due: list[int] = []
    for index, (item, count) in enumerate(zip(items, counts, strict=True)):
        if count > rt.settings.poison_deliveries:
            outcomes[index] = quarantine_unfinished(rt, STEP, item.key, item.job_id, count,
                                                    item.outage_since)
        else:
            due.append(index)
    claimed, prepared = _claim(rt, publisher, items, counts, due) if due else ({}, [])
    outcomes.update(claimed)
    # Each item is ledgered, then publishes, as soon as its own call is answered, while the
    # flush's other calls are still waiting on the network; the answers that came in together
    # are ledgered in one transaction. The breakers are asked once per endpoint for the whole
    # flush, and told how its calls went once they have all answered.
    breakers = FlushBreakers(rt.breakers)
    breakers.ask_first([call.chain[0][0].label for _, call in prepared if call.chain])
    coroutines = [_call_one(call, breakers, rt.limiter) for _, call in prepared]
    try:
        for group in (rt.async_loop().as_completed_groups(coroutines) if prepared else ()):
            outcomes.update(_finish_group(rt, publisher, items, counts, [
                (*prepared[position], calls) for position, calls in group]))
    finally:
        breakers.report()
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
