"""Both breaker stores through the same cases: the in-process one and the fleet's, in real Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from tierline.routing.breaker import BreakerPolicy, Breakers, MemoryBreakers, describe
from tierline.tasks.breaker_store import KEY_PREFIX, RedisBreakers

POLICY = BreakerPolicy(failures_to_open=3, open_for_s=10, probe_lease_s=20, forget_after_s=100)
GROQ = "groq/llama-3.1-8b-instant"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[tuple[Breakers, Clock]]:
    clock = Clock()
    if request.param == "memory":
        yield MemoryBreakers(POLICY, clock), clock
        return
    url = request.getfixturevalue("redis_url")
    breakers = RedisBreakers(redis.Redis.from_url(url), POLICY, clock)
    yield breakers, clock
    breakers.close()


def test_opens_after_failures_in_a_row_and_stays_open_for_its_time(
        store: tuple[Breakers, Clock]) -> None:
    breakers, clock = store
    for _ in range(2):
        breakers.record(GROQ, False)
    assert breakers.admit(GROQ) == 0
    breakers.record(GROQ, False)
    clock.now += 4
    assert breakers.admit(GROQ) == pytest.approx(6)
    state = breakers.states()[GROQ]
    assert (state.failures, state.opened_at) == (3, clock.now - 4)
    assert describe(state, POLICY, clock.now) == "open for 6 s more (3 failures in a row)"


def test_one_probe_at_a_time_and_its_answer_closes_the_breaker(
        store: tuple[Breakers, Clock]) -> None:
    breakers, clock = store
    for _ in range(3):
        breakers.record(GROQ, False)
    clock.now += 10
    assert breakers.admit(GROQ) == 0
    assert breakers.admit(GROQ) == pytest.approx(10)
    breakers.record(GROQ, True)
    assert breakers.admit(GROQ) == 0
    assert breakers.states() == {}


def test_a_failed_probe_opens_it_again(store: tuple[Breakers, Clock]) -> None:
    breakers, clock = store
    for _ in range(3):
        breakers.record(GROQ, False)
    clock.now += 10
    assert breakers.admit(GROQ) == 0
    clock.now += 2
    breakers.record(GROQ, False)
    assert breakers.admit(GROQ) == pytest.approx(10)


def test_endpoints_are_kept_apart(store: tuple[Breakers, Clock]) -> None:
    breakers, _ = store
    for _ in range(3):
        breakers.record(GROQ, False)
    assert breakers.admit("together/meta-llama") == 0
    assert list(breakers.states()) == [GROQ]


def test_racing_workers_take_one_probe_between_them(store: tuple[Breakers, Clock]) -> None:
    breakers, clock = store
    for _ in range(3):
        breakers.record(GROQ, False)
    clock.now += 10
    waits: list[float] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        waits.append(breakers.admit(GROQ))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits)[:2] == [0, pytest.approx(10)]


def test_redis_forgets_failures_by_expiry(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    breakers = RedisBreakers(client, POLICY)
    breakers.record(GROQ, False)
    assert 99_000 < client.pttl(KEY_PREFIX + GROQ) <= 100_000
    breakers.record(GROQ, True)
    assert not client.exists(KEY_PREFIX + GROQ)
    client.close()


def test_an_unreachable_redis_fails_open() -> None:
    # A port nothing listens on: every step fails to connect.
    breakers = RedisBreakers.from_url("redis://127.0.0.1:1/0", POLICY)
    breakers.record(GROQ, False)
    assert breakers.admit(GROQ) == 0
