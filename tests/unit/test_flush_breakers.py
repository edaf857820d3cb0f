"""A tier flush asks each endpoint's breaker once for all its calls and reports their outcomes
in one step: the answers and the state left are those of the same calls asking and reporting
one at a time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

import pytest

from tierline.config.tiers import load_tiers
from tierline.jobs.models import Message
from tierline.prompts.completion import CompletionRequest
from tierline.providers.errors import ServerError
from tierline.routing.breaker import (
    CLOSED,
    BreakerPolicy,
    BreakerState,
    MemoryBreakers,
    admit,
    admit_many,
    outcomes_in_short,
    record,
)
from tierline.simulator.stub import StubProvider
from tierline.tasks.calls import CallRecord, acall_chain
from tierline.tasks.flush_breakers import FlushBreakers

POLICY = BreakerPolicy(failures_to_open=3, open_for_s=10, probe_lease_s=20, forget_after_s=100)
GROQ, TOGETHER = "groq:llama", "together:llama"
REQUEST = CompletionRequest(system="s", messages=[Message(role="user", content="hi")])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountedStore(MemoryBreakers):
    """The in-process store, counting the steps asked of it."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(POLICY, clock)
        self.steps: Counter[str] = Counter()

    def admit_many(self, endpoint: str, calls: int) -> tuple[int, float]:
        self.steps["admit"] += 1
        return super().admit_many(endpoint, calls)

    def record_many(self, endpoint: str, outcomes: Sequence[bool]) -> None:
        self.steps["record"] += 1
        super().record_many(endpoint, outcomes)


def opened(store: MemoryBreakers, endpoint: str) -> None:
    for _ in range(POLICY.failures_to_open):
        store.record(endpoint, False)


@pytest.mark.parametrize("state", [CLOSED, BreakerState(3, 0.0, opened_at=0.0),
                                   BreakerState(3, 0.0, opened_at=-20.0),
                                   BreakerState(3, 0.0, opened_at=-20.0, probe_until=5.0)],
                         ids=["closed", "open", "half-open", "probe-taken"])
def test_asking_for_several_calls_is_asking_for_each_in_turn(state: BreakerState) -> None:
    one_by_one, waits = state, []
    for _ in range(4):
        wait, one_by_one = admit(one_by_one, POLICY, 0.0)
        waits.append(wait)
    admitted, wait, together = admit_many(state, POLICY, 0.0, 4)
    assert together == one_by_one
    assert admitted == waits.count(0.0)
    assert wait == max(waits)


@pytest.mark.parametrize("outcomes", [[], [True], [False, False], [False, True, False],
                                      [True, False, False, False, True, False]])
def test_a_run_of_outcomes_in_short_leaves_the_state_the_run_would(outcomes: list[bool]) -> None:
    answered, failed = outcomes_in_short(outcomes)
    start = BreakerState(2, 0.0)
    one_by_one = start
    for ok in outcomes:
        one_by_one = record(one_by_one, POLICY, ok, 1.0)
    short = CLOSED if answered else start
    for _ in range(failed):
        short = record(short, POLICY, False, 1.0)
    assert short == one_by_one


def test_a_flush_asks_a_closed_endpoint_once_and_reports_once() -> None:
    clock = Clock()
    store = CountedStore(clock)
    flush = FlushBreakers(store, clock)
    flush.ask_first([GROQ] * 5)
    assert [flush.admit(GROQ) for _ in range(5)] == [0.0] * 5
    for ok in (False, False, True, False):
        flush.record(GROQ, ok)
    assert store.states() == {}  # nothing reported before the flush is done
    flush.report()
    assert store.steps == {"admit": 1, "record": 1}
    assert store.states()[GROQ].failures == 1


def test_a_half_open_endpoint_lets_one_call_of_the_flush_probe() -> None:
    clock = Clock()
    store = CountedStore(clock)
    opened(store, GROQ)
    clock.now += POLICY.open_for_s
    flush = FlushBreakers(store, clock)
    flush.ask_first([GROQ] * 3)
    waits = [flush.admit(GROQ) for _ in range(3)]
    assert waits[0] == 0.0 and waits[1:] == [pytest.approx(POLICY.open_for_s)] * 2
    # Another worker finds the probe taken, as it would after three calls asked in turn.
    assert store.admit(GROQ) == pytest.approx(POLICY.open_for_s)


def test_calls_passed_over_ask_the_fallback_until_it_is_found_closed() -> None:
    clock = Clock()
    store = CountedStore(clock)
    opened(store, GROQ)
    flush = FlushBreakers(store, clock)
    flush.ask_first([GROQ] * 4)
    assert all(flush.admit(GROQ) == pytest.approx(POLICY.open_for_s) for _ in range(4))
    assert [flush.admit(TOGETHER) for _ in range(4)] == [0.0] * 4
    assert store.steps["admit"] == 2
    # A refusal runs out with the flush's clock: the store is asked again.
    clock.now += POLICY.open_for_s
    assert flush.admit(GROQ) == 0.0
    assert store.steps["admit"] == 3


def test_a_flush_of_calls_to_a_failing_endpoint_opens_its_breaker_when_reported() -> None:
    tier = load_tiers().get(1)
    down = StubProvider(ServerError("503"))
    fallback = StubProvider('{"ok": true}', name="together")
    chain = [(tier.endpoints[0], down), (tier.endpoints[1], fallback)]
    clock = Clock()
    store = CountedStore(clock)
    flush = FlushBreakers(store, clock)
    flush.ask_first([tier.endpoints[0].label] * 4)

    async def calls() -> list[list[CallRecord]]:
        return list(await asyncio.gather(*(acall_chain(chain, REQUEST, flush)
                                           for _ in range(4))))

    records = asyncio.run(calls())
    assert all([r.outcome for r in rs] == ["ServerError", "ok"] for rs in records)
    assert store.states() == {}
    flush.report()
    assert store.states()[tier.endpoints[0].label].opened_at == clock.now
    assert tier.endpoints[1].label not in store.states()
    assert store.steps == {"admit": 2, "record": 2}
