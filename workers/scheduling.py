"""Bulk workers give way to the route worker on a busy machine.

A router decision takes a fraction of a millisecond of CPU, but when the machine's cores are
shared with the tier drains, validation and the services, the route worker waits for a core
behind them: its decisions' wall time is mostly time spent runnable and not running. A worker
that does not consume the route queue therefore runs its threads under Linux's SCHED_BATCH
policy (no preempting others when it wakes: it is throughput work) at a higher niceness, so the
route worker gets a core as soon as it wants one. Nothing is slower in total: the same CPU is
spent, in a different order.

Both changes only lower a thread's claim, which any process may do. Elsewhere than Linux, or
where a sandbox refuses them, the worker runs as it would have, saying so in its log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from tierline.tasks.queues import ROUTE

log = logging.getLogger(__name__)


def is_bulk_worker(queues: Iterable[str]) -> bool:
    """Whether a worker consuming `queues` does only throughput work (it routes nothing)."""
    return ROUTE not in set(queues)


def _threads() -> list[int]:
    """This process's thread ids; the scheduling policy and niceness are per thread on Linux,
    and threads started later take their starting thread's."""
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def run_as_bulk(niceness: int) -> bool:
    """Run this process's threads, and those it starts later, as SCHED_BATCH at `niceness`
    (when that is higher than theirs). False when the system refuses or does not offer it."""
    if niceness <= 0 or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        for tid in _threads():
            try:
                os.sched_setscheduler(tid, os.SCHED_BATCH, os.sched_param(0))
                if os.getpriority(os.PRIO_PROCESS, tid) < niceness:
                    os.setpriority(os.PRIO_PROCESS, tid, niceness)
            except ProcessLookupError:
                continue  # the thread ended after the listing
    except OSError as exc:
        log.warning("could not lower this worker's CPU priority (%s): it competes with the "
                    "route worker as an equal", exc)
        return False
    return True
