"""What a step does when it raises: wait out an outage, retry a crash, quarantine a poison one.

Shared by the Celery tasks and the tier-1 drain, so every tier has one retry mechanism. The
caller runs the step; this module decides, and says when to try again (`Again`), or that the
job has been failed (None).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tierline.tasks import pipeline
from tierline.tasks.backoff import retry_delay
from tierline.tasks.outage import is_outage, outage_delay, outage_over
from tierline.tasks.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Again:
    """Send the step again after `delay_s`; `outage_since` is when the outage began (0: none)."""

    delay_s: float
    outage_since: float = 0.0


def run_guarded(rt: Runtime, step: str, key: str, job_id: str, body: Callable[[], T],
                outage_since: float = 0.0) -> T | Again | None:
    """Run one delivery of a step: counted, and whatever it raises handled here."""
    count = rt.deliveries.begin([key])[0]
    if count > rt.settings.poison_deliveries:
        return quarantine_unfinished(rt, step, key, job_id, count, outage_since)
    try:
        value = body()
    except Exception as exc:
        return after_failure(rt, step, key, job_id, exc, count, outage_since)
    rt.deliveries.finish([key])
    return value


def after_failure(rt: Runtime, step: str, key: str, job_id: str, exc: Exception, count: int,
                  outage_since: float = 0.0) -> Again | None:
    """A delivery raised `exc`: try again later, or end the job with the reason."""
    now = time.time()
    if is_outage(exc):
        # Not the message's fault: it does not count towards quarantine.
        rt.deliveries.finish([key])
        since = outage_since or now
        if not outage_over(since, now, rt.settings.outage_window_s):
            log.warning("%s of job %s waits out an outage (%.0f s so far): %r", step, job_id,
                        now - since, exc)
            return Again(outage_delay(now - since), since)
        return fail_or_wait(rt, job_id, f"{step}: database or broker unreachable for "
                            f"{now - since:.0f} s: {exc!r}", since)
    if count >= rt.settings.poison_deliveries:
        log.error("%s of job %s crashed %d times; quarantined", step, job_id, count,
                  exc_info=exc)
        return quarantine(rt, step, key, job_id, f"crashed {count} times, last: {exc!r}",
                          outage_since)
    log.warning("%s of job %s crashed (%d of %d), retrying: %r", step, job_id, count,
                rt.settings.poison_deliveries, exc)
    return Again(retry_delay(count - 1), outage_since)


def quarantine(rt: Runtime, step: str, key: str, job_id: str, what: str,
               outage_since: float) -> Again | None:
    """Fail the job of a poison message, keeping why; its count is cleared once it is failed."""
    outcome = fail_or_wait(rt, job_id, f"quarantined: {step} {what}", outage_since)
    if outcome is None:
        rt.deliveries.finish([key])
    return outcome


def quarantine_unfinished(rt: Runtime, step: str, key: str, job_id: str, count: int,
                          outage_since: float) -> Again | None:
    """Quarantine a message delivered `count` times, past the poison limit: every delivery
    before this one started and never finished, so each one killed its worker."""
    return quarantine(rt, step, key, job_id,
                      f"started {count - 1} times without finishing (its worker died)",
                      outage_since)


def fail_or_wait(rt: Runtime, job_id: str, reason: str, outage_since: float) -> Again | None:
    """Fail the job; when that needs a database that is still down, keep the message going
    instead (failing it must never depend on the database being up)."""
    try:
        pipeline.fail_job(rt, job_id, reason)
    except Exception as exc:
        now = time.time()
        since = outage_since or now
        log.warning("could not fail job %s yet (%r); trying again later", job_id, exc)
        return Again(outage_delay(now - since), since)
    return None
