"""One tier flush's view of the fleet's circuit breakers: each endpoint is asked once for all
of the flush's calls to it, and their outcomes are reported in one step when the flush is done.

Asked one call at a time, the breakers cost two Redis round trips per call, on the event loop's
thread, holding every other call of the flush up while they wait. A flush's calls all ask their
first endpoint at the same moment (before any of them is answered), so one question for all of
them gets the same answers: a closed breaker admits them all, a half-open one one of them (the
probe), an open one none. An endpoint first asked later in the flush (a fallback after a
failure) is asked by the store as each call gets to it, until it is found closed.

The outcomes are reported as they came, once the flush's calls have all answered: to the fleet
it is as if they had answered together at the end, which calls of any length may. So a failing
endpoint is called by at most the rest of one flush once its breaker opens, as before.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from tierline.routing.breaker import Breakers


class FlushBreakers:
    """The breakers as the calls of one flush see them (`tasks.calls.BreakerGate`), over the
    fleet's store. Its `admit` and `record` run on the event loop's thread; `ask_first` before
    the calls start and `report` after they have all answered, on the flush's thread."""

    def __init__(self, store: Breakers, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        # Endpoints found closed: every call of the flush may go ahead.
        self._closed: set[str] = set()
        # A half-open endpoint's probe, not yet taken by a call of the flush.
        self._probes: dict[str, int] = {}
        # Endpoints that turned the flush's calls away: until when, by this clock.
        self._refused_until: dict[str, float] = {}
        self._outcomes: dict[str, list[bool]] = defaultdict(list)

    def ask_first(self, endpoints: Sequence[str]) -> None:
        """Ask each endpoint's breaker once for the calls that try it first (one entry per
        call), before they start."""
        for endpoint, calls in Counter(endpoints).items():
            self._answer(endpoint, *self._store.admit_many(endpoint, calls))

    def _answer(self, endpoint: str, admitted: int, wait: float) -> None:
        if wait <= 0:
            self._closed.add(endpoint)
            return
        self._probes[endpoint] = admitted
        self._refused_until[endpoint] = self._clock() + wait

    def admit(self, endpoint: str) -> float:
        if endpoint in self._closed:
            return 0.0
        if self._probes.get(endpoint, 0) > 0:
            self._probes[endpoint] -= 1
            return 0.0
        wait = self._refused_until.get(endpoint, 0.0) - self._clock()
        if wait > 0:
            return wait
        # Not asked yet, or its refusal has run out: this call asks the store itself.
        admitted, wait = self._store.admit_many(endpoint, 1)
        self._answer(endpoint, 0, wait)
        return 0.0 if admitted else wait

    def record(self, endpoint: str, ok: bool) -> None:
        self._outcomes[endpoint].append(ok)

    def report(self) -> None:
        """Report the flush's outcomes to the store, one step per endpoint, in the order they
        came; called once every call has answered."""
        outcomes, self._outcomes = self._outcomes, defaultdict(list)
        for endpoint, run in outcomes.items():
            self._store.record_many(endpoint, run)
