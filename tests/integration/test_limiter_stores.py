"""Both limiter stores through the same cases, on a clock the test drives: the in-process one,
and the fleet's in real Redis shared by two limiters standing for two workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tierline.config.tiers import Endpoint
from tierline.routing.limiter import Limiter, MemoryLimiter
from tierline.tasks.limiter_store import RedisLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def endpoint(**limits: object) -> Endpoint:
    return Endpoint.model_validate({"provider": "groq", "model": "llama-3.1-8b-instant",
                                    "price_in": 0.05, "price_out": 0.08,
                                    "context_window": 131072, "timeout_s": 10, **limits})


@pytest.fixture(params=["memory", "redis"])
def workers(request: pytest.FixtureRequest) -> Iterator[tuple[list[Limiter], Clock]]:
    """Two limiters sharing one state (one process's threads, or two processes' Redis)."""
    clock = Clock()
    if request.param == "memory":
        shared = MemoryLimiter(clock)
        yield [shared, shared], clock
        return
    url = request.getfixturevalue("redis_url")
    pair: list[Limiter] = [RedisLimiter(redis.Redis.from_url(url), clock) for _ in range(2)]
    yield pair, clock
    for limiter in pair:
        limiter.close()


def _admitted_in(workers: list[Limiter], clock: Clock, limited: Endpoint, seconds: float,
                 step_s: float, tokens: int = 1) -> int:
    """Both workers ask at every step of the clock; how many calls were let through."""
    admitted = 0
    for _ in range(round(seconds / step_s)):
        for worker in workers:
            admission = worker.acquire(limited, tokens)
            if admission.admitted:
                admitted += 1
                if admission.lease is not None:
                    worker.release(limited, admission.lease)
        clock.now += step_s
    return admitted


def test_two_workers_together_keep_the_requests_per_minute(
        workers: tuple[list[Limiter], Clock]) -> None:
    pair, clock = workers
    limited = endpoint(rpm=600)
    admitted = _admitted_in(pair, clock, limited, seconds=60, step_s=0.01)
    assert 600 * 0.95 <= admitted <= 600 * 1.05


def test_tokens_per_minute_are_kept_by_the_tokens_each_call_will_use(
        workers: tuple[list[Limiter], Clock]) -> None:
    pair, clock = workers
    limited = endpoint(tpm=60_000)
    admitted = _admitted_in(pair, clock, limited, seconds=60, step_s=0.01, tokens=500)
    assert 120 * 0.95 <= admitted <= 120 * 1.05


def test_a_refused_call_is_told_how_long_to_wait_and_costs_nothing(
        workers: tuple[list[Limiter], Clock]) -> None:
    (first, second), clock = workers
    limited = endpoint(rpm=60)
    assert first.acquire(limited, 1).admitted and second.acquire(limited, 1).admitted
    refused = first.acquire(limited, 1)
    assert not refused.admitted and refused.wait_s == pytest.approx(1.0, abs=0.01)
    clock.now += refused.wait_s
    assert second.acquire(limited, 1).admitted


def test_calls_in_flight_are_capped_and_a_dead_callers_slots_expire(
        workers: tuple[list[Limiter], Clock]) -> None:
    (first, second), clock = workers
    limited = endpoint(max_in_flight=2)
    held = [first.acquire(limited, 1), second.acquire(limited, 1)]
    assert all(a.admitted for a in held)
    assert not first.acquire(limited, 1).admitted
    assert held[0].lease is not None
    first.release(limited, held[0].lease)
    assert second.acquire(limited, 1).admitted
    # Nobody releases now (the callers died): the leases run out after timeout + margin.
    assert not first.acquire(limited, 1).admitted
    clock.now += 10 + 30 + 1
    assert first.acquire(limited, 1).admitted


def test_an_endpoint_without_limits_is_never_held_back(
        workers: tuple[list[Limiter], Clock]) -> None:
    pair, clock = workers
    assert _admitted_in(pair, clock, endpoint(), seconds=1, step_s=0.01) == 200
