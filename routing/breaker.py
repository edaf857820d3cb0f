"""Circuit breakers: stop calling an endpoint that keeps failing, and try it again later.

One breaker per endpoint (its label), shared by every worker of the fleet when the state lives in
Redis (`tasks.breaker_store`), or by the threads of one process (`MemoryBreakers`, the embedded
default). The transitions are pure functions of a state and the time, so both stores behave alike
and tests drive the clock:

    closed ──(failures_to_open retryable failures in a row)──► open
    open ──(open_for_s later, one caller takes a probe lease)──► half-open
    half-open ──the probe answers──► closed
    half-open ──the probe fails──► open again, for another open_for_s

Only retryable failures count (5xx, timeouts, refused connections, 429s): an endpoint that
refuses a bad request has answered, and that closes its breaker like any answer. Failures are
forgotten `forget_after_s` after the last one, so a few failures spread over a day never open a
breaker. A probe whose worker dies frees its lease after `probe_lease_s`, longer than any
endpoint's timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol


@dataclass(frozen=True)
class BreakerPolicy:
    failures_to_open: int = 5
    open_for_s: float = 30.0
    probe_lease_s: float = 120.0
    forget_after_s: float = 600.0

    def __post_init__(self) -> None:
        if self.failures_to_open < 1:
            raise ValueError("failures_to_open must be at least 1")
        if min(self.open_for_s, self.probe_lease_s) <= 0:
            raise ValueError("open_for_s and probe_lease_s must be positive")
        if self.forget_after_s < self.open_for_s + self.probe_lease_s:
            # An open breaker must outlive its cool-down and probe, or it would close unproven.
            raise ValueError("forget_after_s must be at least open_for_s + probe_lease_s")


@dataclass(frozen=True)
class BreakerState:
    failures: int = 0
    last_failure_at: float = 0.0
    opened_at: float | None = None  # None while closed
    probe_until: float = 0.0  # a half-open probe holds the endpoint until then


CLOSED = BreakerState()


def _current(state: BreakerState, policy: BreakerPolicy, now: float) -> BreakerState:
    """The state with failures older than `forget_after_s` forgotten."""
    if state.failures and now >= state.last_failure_at + policy.forget_after_s:
        return CLOSED
    return state


def admit(state: BreakerState, policy: BreakerPolicy, now: float) -> tuple[float, BreakerState]:
    """Seconds the caller must wait before calling (0: call now), and the state after asking.

    A half-open breaker lets exactly one caller through (the probe) and turns the others away
    until the probe reports or its lease runs out.
    """
    state = _current(state, policy, now)
    if state.opened_at is None:
        return 0.0, state
    reopens = state.opened_at + policy.open_for_s
    if now < reopens:
        return reopens - now, state
    if now < state.probe_until:
        return min(state.probe_until - now, policy.open_for_s), state
    return 0.0, replace(state, probe_until=now + policy.probe_lease_s)


def admit_many(state: BreakerState, policy: BreakerPolicy, now: float, calls: int
               ) -> tuple[int, float, BreakerState]:
    """`admit` asked by `calls` callers at once: how many may call now, how long the others
    must wait, and the state after. The wait is 0 only while the breaker is closed, when every
    caller may call; a half-open breaker lets one through, the probe."""
    wait, state = admit(state, policy, now)
    if wait > 0:
        return 0, wait, state
    if state.opened_at is None:
        return calls, 0.0, state
    others, _ = admit(state, policy, now)
    return 1, others, state


def outcomes_in_short(outcomes: Sequence[bool]) -> tuple[bool, int]:
    """A run of calls' outcomes as `record` sees them: whether any answered (an answer closes
    the breaker, whatever came before it), and the failures after the last answer."""
    answered = [i for i, ok in enumerate(outcomes) if ok]
    after = answered[-1] + 1 if answered else 0
    return bool(answered), len(outcomes) - after


def record(state: BreakerState, policy: BreakerPolicy, ok: bool, now: float) -> BreakerState:
    """The state after a call answered (`ok`) or failed retryably."""
    if ok:
        return CLOSED
    state = _current(state, policy, now)
    failures = state.failures + 1
    if state.opened_at is not None or failures >= policy.failures_to_open:
        return BreakerState(failures, now, opened_at=now)
    return BreakerState(failures, now)


def describe(state: BreakerState, policy: BreakerPolicy, now: float) -> str:
    state = _current(state, policy, now)
    in_a_row = f"{state.failures} failure{'s' if state.failures != 1 else ''} in a row"
    if state.opened_at is None:
        return f"closed ({in_a_row})" if state.failures else "closed"
    reopens = state.opened_at + policy.open_for_s
    if now < reopens:
        return f"open for {reopens - now:.0f} s more ({in_a_row})"
    if now < state.probe_until:
        return "half-open, a probe call is in flight"
    return "half-open, the next call probes"


class Breakers(Protocol):
    """Where the fleet keeps its breakers; `admit` and `record` are each one atomic step."""

    policy: BreakerPolicy

    def admit(self, endpoint: str) -> float: ...

    def record(self, endpoint: str, ok: bool) -> None: ...

    def admit_many(self, endpoint: str, calls: int) -> tuple[int, float]:
        """`admit` for `calls` callers at once, as one step (`routing.breaker.admit_many`)."""
        ...

    def record_many(self, endpoint: str, outcomes: Sequence[bool]) -> None:
        """`record` of several calls' outcomes, in the order they came, as one step."""
        ...

    def states(self) -> dict[str, BreakerState]: ...

    def close(self) -> None: ...


class MemoryBreakers:
    """The breakers of one process (the embedded default), safe across its threads."""

    def __init__(self, policy: BreakerPolicy | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._states: dict[str, BreakerState] = {}
        self._lock = threading.Lock()

    def admit(self, endpoint: str) -> float:
        with self._lock:
            wait, self._states[endpoint] = admit(self._states.get(endpoint, CLOSED), self.policy,
                                                 self._clock())
            return wait

    def record(self, endpoint: str, ok: bool) -> None:
        with self._lock:
            self._states[endpoint] = record(self._states.get(endpoint, CLOSED), self.policy, ok,
                                            self._clock())

    def admit_many(self, endpoint: str, calls: int) -> tuple[int, float]:
        with self._lock:
            admitted, wait, self._states[endpoint] = admit_many(
                self._states.get(endpoint, CLOSED), self.policy, self._clock(), calls)
            return admitted, wait

    def record_many(self, endpoint: str, outcomes: Sequence[bool]) -> None:
        with self._lock:
            now = self._clock()
            state = self._states.get(endpoint, CLOSED)
            for ok in outcomes:
                state = record(state, self.policy, ok, now)
            self._states[endpoint] = state

    def states(self) -> dict[str, BreakerState]:
        with self._lock:
            now = self._clock()
            return {e: s for e, s in sorted(self._states.items())
                    if _current(s, self.policy, now) != CLOSED}

    def close(self) -> None:
        """Nothing to release: the state is this process's memory."""
