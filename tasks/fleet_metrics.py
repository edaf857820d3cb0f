"""Fleet-wide gauges, read when Prometheus scrapes: jobs per status and tier (the database),
queue depths (the broker's Redis), circuit breaker states (the fleet's breaker store).

Served by `tierline metrics serve`, once for the whole fleet: every worker could read the same
figures, but Prometheus would then hold one copy per worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tierline.routing.breaker import BreakerPolicy, BreakerState, describe

log = logging.getLogger(__name__)

# Breaker states as numbers, so a dashboard can colour them: 0 closed, 1 half-open, 2 open.
BREAKER_LEVELS = {"closed": 0, "half-open": 1, "open": 2}


def breaker_level(state: BreakerState, policy: BreakerPolicy, now: float) -> int:
    word = describe(state, policy, now).split(" ", 1)[0].rstrip(",")
    return BREAKER_LEVELS.get(word, 0)


class FleetCollector(Collector):
    """Each source is a function returning its rows; one that fails is skipped and logged, so
    a database outage still leaves the queue depths visible (and the scrape's own up metric)."""

    def __init__(
        self,
        job_counts: Callable[[], Iterable[tuple[str, int | None, int]]],
        queue_depths: Callable[[], Iterable[tuple[str, int]]],
        breaker_states: Callable[[], tuple[BreakerPolicy, dict[str, BreakerState]]],
        endpoints: Iterable[tuple[int, str]],
    ) -> None:
        self._job_counts = job_counts
        self._queue_depths = queue_depths
        self._breaker_states = breaker_states
        self._endpoints = list(endpoints)

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("tierline_fleet_source_up", "Whether a source of the fleet's "
                               "gauges answered the last scrape", labels=["source"])
        for source, read in (("database", self._jobs), ("broker", self._queues),
                             ("breakers", self._breakers)):
            try:
                yield read()
                up.add_metric([source], 1)
            except Exception as exc:
                log.warning("fleet metrics: %s unreadable: %r", source, exc)
                up.add_metric([source], 0)
        yield up

    def _jobs(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("tierline_jobs", "Jobs per status and current tier",
                                   labels=["status", "tier"])
        for status, tier, count in self._job_counts():
            family.add_metric([status, "" if tier is None else str(tier)], count)
        return family

    def _queues(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("tierline_queue_depth", "Messages waiting in each queue",
                                   labels=["queue"])
        for queue, depth in self._queue_depths():
            family.add_metric([queue], depth)
        return family

    def _breakers(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("tierline_breaker_state", "Circuit breaker per endpoint: "
                                   "0 closed, 1 half-open, 2 open", labels=["tier", "endpoint"])
        policy, states = self._breaker_states()
        now = time.time()
        for tier, label in self._endpoints:
            state = states.get(label)
            family.add_metric([str(tier), label],
                              breaker_level(state, policy, now) if state else 0)
        return family
