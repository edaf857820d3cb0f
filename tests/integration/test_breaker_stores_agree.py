"""The two breaker stores, driven by the same random event sequences, agree after every step.

`MemoryBreakers` runs the transitions of `routing.breaker` in Python; `RedisBreakers` runs them
again as a Lua script, so that a fleet's workers step one shared state atomically. Nothing but
this test keeps the two in step: hypothesis generates failures, answers, probe requests (one
caller's, or a flush's for several calls), runs of outcomes reported together, and reads from
several workers (each its own Redis connection) for two endpoints, with the clock moving in
steps that land on the policy's boundaries, and every wait and every state must be the same.
Times are multiples of a quarter second, exact in binary, so the comparisons are exact.
"""

from __future__ import annotations

import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tierline.routing.breaker import BreakerPolicy, BreakerState, MemoryBreakers, describe
from tierline.tasks.breaker_store import RedisBreakers

POLICY = BreakerPolicy(failures_to_open=3, open_for_s=10, probe_lease_s=20, forget_after_s=40)
ENDPOINTS = ("groq/llama-3.1-8b-instant", "openai/gpt-4o-mini")
WORKERS = 3

endpoints = st.sampled_from(ENDPOINTS)
workers = st.integers(0, WORKERS - 1)
# Small steps, and steps onto each boundary of the policy (cool-down, lease, forgetting).
time_steps = st.one_of(
    st.integers(0, 24).map(lambda quarters: quarters / 4),
    st.sampled_from([POLICY.open_for_s, POLICY.probe_lease_s, POLICY.forget_after_s,
                     POLICY.open_for_s + POLICY.probe_lease_s]),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _visible(states: dict[str, BreakerState]) -> dict[str, tuple[int, float | None, float]]:
    """What a reader can act on. `last_failure_at` is left out: a state is only ever read
    through `_current`, and both stores store the same time anyway (compared separately)."""
    return {e: (s.failures, s.opened_at, s.probe_until) for e, s in states.items()}


def machine(redis_url: str) -> type[RuleBasedStateMachine]:
    class BothStores(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = Clock()
            self.memory = MemoryBreakers(POLICY, self.clock)
            self.clients = [redis.Redis.from_url(redis_url) for _ in range(WORKERS)]
            self.clients[0].flushdb()
            self.fleet = [RedisBreakers(c, POLICY, self.clock) for c in self.clients]

        @rule(endpoint=endpoints, worker=workers)
        def a_call_fails(self, endpoint: str, worker: int) -> None:
            self.memory.record(endpoint, False)
            self.fleet[worker].record(endpoint, False)

        @rule(endpoint=endpoints, worker=workers)
        def a_call_answers(self, endpoint: str, worker: int) -> None:
            self.memory.record(endpoint, True)
            self.fleet[worker].record(endpoint, True)

        @rule(endpoint=endpoints, worker=workers)
        def a_worker_asks_to_call(self, endpoint: str, worker: int) -> None:
            assert self.fleet[worker].admit(endpoint) == self.memory.admit(endpoint)

        @rule(endpoint=endpoints, worker=workers, calls=st.integers(1, 5))
        def a_flush_asks_for_several_calls(self, endpoint: str, worker: int, calls: int) -> None:
            assert self.fleet[worker].admit_many(endpoint, calls) == self.memory.admit_many(
                endpoint, calls)

        @rule(endpoint=endpoints, worker=workers, outcomes=st.lists(st.booleans(), max_size=6))
        def a_flush_reports_its_calls(self, endpoint: str, worker: int,
                                      outcomes: list[bool]) -> None:
            self.memory.record_many(endpoint, outcomes)
            self.fleet[worker].record_many(endpoint, outcomes)

        @rule(seconds=time_steps)
        def time_passes(self, seconds: float) -> None:
            self.clock.now += seconds

        @invariant()
        def every_worker_reads_the_same_states(self) -> None:
            expected = self.memory.states()
            for breakers in self.fleet:
                got = breakers.states()
                assert _visible(got) == _visible(expected)
                assert {e: s.last_failure_at for e, s in got.items()} == {
                    e: s.last_failure_at for e, s in expected.items()}
                assert {e: describe(s, POLICY, self.clock.now) for e, s in got.items()} == {
                    e: describe(s, POLICY, self.clock.now) for e, s in expected.items()}

        def teardown(self) -> None:
            for client in self.clients:
                client.close()

    return BothStores


def test_memory_and_redis_breakers_agree_on_every_event_sequence(redis_url: str) -> None:
    run_state_machine_as_test(
        machine(redis_url),
        settings=settings(max_examples=150, stateful_step_count=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
