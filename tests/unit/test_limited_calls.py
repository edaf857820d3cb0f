"""The fallback chain under rate limits: over a limit, a call waits its turn or goes to the
next endpoint, as the tiers file says; the passed-over endpoint costs no call and no ledger."""

from __future__ import annotations

import pytest

from tierline.config.tiers import Endpoint
from tierline.jobs.models import Message
from tierline.prompts.completion import CompletionRequest
from tierline.routing.limiter import MemoryLimiter
from tierline.simulator.stub import StubProvider
from tierline.tasks.calls import call_chain

REQUEST = CompletionRequest(system="", messages=[Message(role="user", content="2 + 2?")])


def endpoint(model: str, **limits: object) -> Endpoint:
    return Endpoint.model_validate({"provider": "openai", "model": model, "price_in": 1,
                                    "price_out": 1, "context_window": 8000, **limits})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_over_its_limit_a_call_goes_to_the_next_endpoint_when_told_to() -> None:
    limiter = MemoryLimiter(Clock())
    first, second = StubProvider("4", name="a"), StubProvider("4", name="b")
    chain = [(endpoint("a", rpm=1, when_limited="next"), first), (endpoint("b"), second)]
    records = [call_chain(chain, REQUEST, limiter=limiter) for _ in range(3)]
    # GCRA lets two calls through back to back (a burst of one interval), then passes over.
    assert [len(first.requests), len(second.requests)] == [2, 1]
    passed_over = records[2][0]
    assert not passed_over.called and type(passed_over.error).__name__ == "Throttled"
    assert records[2][1].completion is not None


def test_over_its_limit_a_call_waits_for_its_turn_by_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr("tierline.tasks.calls.time.sleep", sleep)
    limiter = MemoryLimiter(clock)
    provider = StubProvider("4")
    chain = [(endpoint("a", rpm=60), provider)]
    for _ in range(3):
        assert call_chain(chain, REQUEST, limiter=limiter)[-1].completion is not None
    assert len(provider.requests) == 3
    assert slept == [1.0]  # the third call waited one interval (60 / rpm)


def test_calls_in_flight_are_released_after_each_call() -> None:
    limiter = MemoryLimiter(Clock())
    provider = StubProvider("4")
    chain = [(endpoint("a", max_in_flight=1), provider)]
    for _ in range(3):
        assert call_chain(chain, REQUEST, limiter=limiter)[-1].completion is not None
