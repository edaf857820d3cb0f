"""Circuit breakers: the pure transitions, and the fallback chain passing over open endpoints."""

from __future__ import annotations

import asyncio

import pytest

from tierline.config.tiers import Endpoint, load_tiers
from tierline.jobs.models import Message
from tierline.prompts.completion import CompletionRequest
from tierline.providers.base import Provider
from tierline.providers.errors import BadRequest, CircuitOpen, ServerError
from tierline.routing.breaker import (
    CLOSED,
    BreakerPolicy,
    BreakerState,
    MemoryBreakers,
    admit,
    describe,
    record,
)
from tierline.simulator.stub import StubProvider
from tierline.tasks.calls import acall_chain, call_chain

POLICY = BreakerPolicy(failures_to_open=3, open_for_s=10, probe_lease_s=20, forget_after_s=100)
REQUEST = CompletionRequest(system="s", messages=[Message(role="user", content="hi")])


def failed(times: int, now: float = 0.0) -> BreakerState:
    state = CLOSED
    for _ in range(times):
        state = record(state, POLICY, False, now)
    return state


def test_opens_after_failures_in_a_row_and_a_success_resets_the_count() -> None:
    assert admit(failed(2), POLICY, 0)[0] == 0
    assert admit(failed(3), POLICY, 1)[0] == pytest.approx(9)
    almost = record(failed(2), POLICY, True, 0)
    assert record(almost, POLICY, False, 0).opened_at is None


def test_half_open_lets_one_probe_through_and_its_outcome_decides() -> None:
    state = failed(3)
    wait, probing = admit(state, POLICY, 10)
    assert wait == 0 and probing.probe_until == 30
    other, same = admit(probing, POLICY, 11)
    assert other == pytest.approx(10) and same == probing  # turned away, capped at open_for_s
    assert record(probing, POLICY, True, 12) == CLOSED
    reopened = record(probing, POLICY, False, 12)
    assert admit(reopened, POLICY, 13)[0] == pytest.approx(9)


def test_a_lost_probe_frees_its_lease() -> None:
    _, probing = admit(failed(3), POLICY, 10)
    assert admit(probing, POLICY, 29)[0] > 0
    assert admit(probing, POLICY, 30)[0] == 0


def test_old_failures_are_forgotten() -> None:
    state = failed(2, now=0)
    assert record(state, POLICY, False, 100).failures == 1
    assert admit(failed(3, now=0), POLICY, 100) == (0, CLOSED)


def test_describe_says_what_callers_meet() -> None:
    assert describe(CLOSED, POLICY, 0) == "closed"
    assert describe(failed(3), POLICY, 4) == "open for 6 s more (3 failures in a row)"
    assert describe(failed(3), POLICY, 10) == "half-open, the next call probes"


def test_policy_rejects_an_open_state_that_would_be_forgotten() -> None:
    with pytest.raises(ValueError, match="forget_after_s"):
        BreakerPolicy(open_for_s=60, probe_lease_s=60, forget_after_s=100)
    with pytest.raises(ValueError, match="failures_to_open"):
        BreakerPolicy(failures_to_open=0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def chain_of(primary: StubProvider, fallback: StubProvider) -> list[tuple[Endpoint, Provider]]:
    endpoints = load_tiers().get(1).endpoints
    return [(endpoints[0], primary), (endpoints[1], fallback)]


def test_chain_passes_over_an_open_endpoint_then_probes_it_again() -> None:
    clock = Clock()
    breakers = MemoryBreakers(POLICY, clock)
    primary = StubProvider(ServerError("down"), ServerError("down"), ServerError("down"), "back")
    fallback = StubProvider("fallback answer", name="fb")
    chain = chain_of(primary, fallback)
    for _ in range(3):
        records = call_chain(chain, REQUEST, breakers)
        assert [r.outcome for r in records] == ["ServerError", "ok"]
    records = call_chain(chain, REQUEST, breakers)
    assert [r.outcome for r in records] == ["CircuitOpen", "ok"]
    assert not records[0].called and records[1].called
    assert len(primary.requests) == 3  # the open endpoint was not called
    clock.now += 10
    records = call_chain(chain, REQUEST, breakers)
    assert [r.outcome for r in records] == ["ok"]  # the probe answered: closed again
    assert breakers.states() == {}


def test_a_refused_request_is_an_answer_to_the_breaker() -> None:
    breakers = MemoryBreakers(POLICY, Clock())
    flaky = StubProvider(ServerError("down"), ServerError("down"), BadRequest("no"),
                         ServerError("down"), ServerError("down"))
    chain = chain_of(flaky, StubProvider("ok", name="fb"))
    for _ in range(5):
        call_chain(chain, REQUEST, breakers)
    assert len(flaky.requests) == 5  # never three failures in a row: never opened
    assert breakers.states()[chain[0][0].label].failures == 2


def test_every_endpoint_open_is_a_retryable_error_with_the_wait() -> None:
    clock = Clock()
    breakers = MemoryBreakers(POLICY, clock)
    chain = chain_of(StubProvider(ServerError("down")), StubProvider(ServerError("down")))
    for _ in range(3):
        asyncio.run(acall_chain(chain, REQUEST, breakers))
    clock.now += 4
    records = asyncio.run(acall_chain(chain, REQUEST, breakers))
    errors = [r.error for r in records]
    assert all(isinstance(e, CircuitOpen) and e.retryable for e in errors)
    assert [getattr(e, "retry_after", None) for e in errors] == [pytest.approx(6)] * 2
