"""Bulk workers run their threads as SCHED_BATCH at a higher niceness; the route worker as any
process (workers.scheduling). Checked in a child process, whose threads' settings are read back
from the system."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tierline.workers.scheduling import is_bulk_worker

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="Linux only")

CHILD = """
import json, os, sys, threading
from tierline.workers.scheduling import run_as_bulk
before = threading.Thread(target=threading.Event().wait, args=(30,), daemon=True)
before.start()
applied = run_as_bulk(int(sys.argv[1]))
seen = []
after = threading.Thread(target=lambda: seen.append(
    (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0))))
after.start()
after.join()
def settings(tid):
    try:
        return os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)
    except ProcessLookupError:  # a thread that ended after the listing (`after`, joined)
        return None
threads = [found for t in os.listdir("/proc/self/task") if (found := settings(int(t)))]
print(json.dumps({"applied": applied, "threads": threads, "started_after": seen}))
"""


def _child(niceness: int) -> tuple[bool, set[tuple[int, int]], set[tuple[int, int]]]:
    """Whether the child applied it; its threads' (policy, niceness); a later thread's."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(niceness)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    return (seen["applied"], {(p, n) for p, n in seen["threads"]},
            {(p, n) for p, n in seen["started_after"]})


def test_only_a_worker_that_routes_nothing_is_a_bulk_worker() -> None:
    assert is_bulk_worker(["tier1"]) and is_bulk_worker(["validate", "tier2", "shadow"])
    assert not is_bulk_worker(["route"]) and not is_bulk_worker(["route", "tier1", "validate"])


def test_every_thread_now_and_later_runs_as_batch_work_at_the_niceness() -> None:
    applied, threads, started_after = _child(5)
    batch = {(os.SCHED_BATCH, max(5, os.getpriority(os.PRIO_PROCESS, 0)))}
    assert applied is True
    assert threads == started_after == batch


def test_niceness_zero_leaves_the_threads_as_they_were() -> None:
    applied, threads, started_after = _child(0)
    assert applied is False
    assert threads == started_after == {(os.SCHED_OTHER, os.getpriority(os.PRIO_PROCESS, 0))}


ENDED = """
import json, os, threading
from tierline.workers import scheduling
ended = threading.Thread(target=lambda: None)
ended.start()
ended.join()
listed = scheduling._threads()
# A thread that ends between the listing and its turn: listed first, then gone.
scheduling._threads = lambda: [ended.native_id, *listed]
applied = scheduling.run_as_bulk(5)
print(json.dumps({"applied": applied, "main": os.sched_getscheduler(0)}))
"""


def test_a_thread_that_ended_after_the_listing_is_skipped_and_the_rest_still_set() -> None:
    done = subprocess.run([sys.executable, "-c", ENDED], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"applied": True, "main": os.SCHED_BATCH}
