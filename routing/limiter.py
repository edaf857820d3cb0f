"""A rate limiter per endpoint: requests and tokens per minute, and calls in flight at once.

Rates use GCRA (the generic cell rate algorithm): one number per limit, the theoretical arrival
time `tat` of the next call. A call of cost c (1 request, or its tokens) is admitted when
`tat - now <= burst`; then `tat = max(tat, now) + c * interval`, with `interval = 60 / limit`.
Over any window of W seconds at most `W / interval + burst / interval + 1` units pass, so with
the burst at one interval a limit holds to within a few calls a minute, wherever the callers
run. Calls in flight are leases that expire after the endpoint's timeout plus a margin, so a
killed worker's slots come back.

The decisions are pure functions of a state and the time (`admit`); `MemoryLimiter` keeps the
state for the threads of one process (the embedded default), `tasks.limiter_store` in Redis for
the whole fleet, with the same arithmetic in one Lua script.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from tierline.config.tiers import Endpoint
from tierline.routing.tokens import count_tokens

LEASE_MARGIN_S = 30.0


@dataclass(frozen=True)
class Limits:
    rpm: int | None
    tpm: int | None
    max_in_flight: int | None
    lease_s: float

    @classmethod
    def of(cls, endpoint: Endpoint) -> Limits:
        return cls(endpoint.rpm, endpoint.tpm, endpoint.max_in_flight,
                   endpoint.timeout_s + LEASE_MARGIN_S)

    @property
    def unlimited(self) -> bool:
        return self.rpm is None and self.tpm is None and self.max_in_flight is None


@dataclass(frozen=True)
class Admission:
    """Admitted (`wait_s` 0, holding `lease` while the call runs), or not before `wait_s`."""

    wait_s: float
    lease: str | None = None

    @property
    def admitted(self) -> bool:
        return self.wait_s <= 0


@dataclass
class EndpointState:
    request_tat: float = 0.0
    token_tat: float = 0.0
    leases: dict[str, float] = field(default_factory=dict)  # lease id -> expiry


def _gcra_wait(tat: float, now: float, interval: float) -> float:
    """Seconds until a call may pass a GCRA limit whose burst is one interval."""
    return max(0.0, tat - now - interval)


def admit(state: EndpointState, limits: Limits, tokens: int, now: float, lease: str
          ) -> Admission:
    """Admit a call of `tokens` (updating `state`) or say how long to wait (leaving it)."""
    for held, expiry in list(state.leases.items()):
        if expiry <= now:
            del state.leases[held]
    waits = [0.0]
    if limits.rpm is not None:
        waits.append(_gcra_wait(state.request_tat, now, 60.0 / limits.rpm))
    if limits.tpm is not None:
        waits.append(_gcra_wait(state.token_tat, now, 60.0 / limits.tpm))
    if limits.max_in_flight is not None and len(state.leases) >= limits.max_in_flight:
        waits.append(max(0.01, min(state.leases.values()) - now))
    wait = max(waits)
    if wait > 0:
        return Admission(wait)
    if limits.rpm is not None:
        state.request_tat = max(state.request_tat, now) + 60.0 / limits.rpm
    if limits.tpm is not None:
        state.token_tat = max(state.token_tat, now) + tokens * 60.0 / limits.tpm
    state.leases[lease] = now + limits.lease_s
    return Admission(0.0, lease)


class Limiter(Protocol):
    def acquire(self, endpoint: Endpoint, tokens: int) -> Admission: ...

    def release(self, endpoint: Endpoint, lease: str) -> None: ...

    def close(self) -> None: ...


class MemoryLimiter:
    """The limits of one process's calls (the embedded default)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._states: dict[str, EndpointState] = {}
        self._lock = threading.Lock()

    def acquire(self, endpoint: Endpoint, tokens: int) -> Admission:
        limits = Limits.of(endpoint)
        if limits.unlimited:
            return Admission(0.0)
        with self._lock:
            state = self._states.setdefault(endpoint.label, EndpointState())
            return admit(state, limits, tokens, self._clock(), uuid.uuid4().hex)

    def release(self, endpoint: Endpoint, lease: str) -> None:
        with self._lock:
            state = self._states.get(endpoint.label)
            if state is not None:
                state.leases.pop(lease, None)

    def close(self) -> None:
        pass


def estimated_tokens(texts: Iterable[str], max_tokens: int) -> int:
    """What a call will count against a tokens-per-minute limit, before it is made: its
    prompt's texts and the output it may ask for."""
    return sum(count_tokens(text) for text in texts) + max_tokens
