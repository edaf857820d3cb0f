"""The route step over a set of jobs: one transaction and one publish for a whole flush.

The set's jobs are locked in one `SELECT ... FOR UPDATE` ordered by id (two flushes sharing
jobs lock them in the same order, so they wait, never deadlock); each job is gated and routed
as `pipeline.route_job` routes it alone (`pipeline.route_locked`, pure but for the budget
spend it may read); the decisions are written with one multi-row insert, the jobs' new states
with one more (`persistence.set_rows`), and the tier messages published once it has committed.
A job whose state says it was already routed is re-published, as on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tierline.persistence.set_rows import lock_set
from tierline.tasks import pipeline
from tierline.tasks.guard import Again
from tierline.tasks.pipeline import Publisher
from tierline.tasks.runtime import Runtime
from tierline.tasks.step_flush import SetPlan, StepItem, run_flush

log = logging.getLogger(__name__)

STEP = "route"


def route_together(rt: Runtime, publisher: Publisher, items: Sequence[StepItem]) -> SetPlan:
    """Route the set's jobs in one transaction; the tier messages to publish once it commits."""
    plan = SetPlan()
    decisions = []
    with rt.db.session() as session:
        rows = lock_set(session, [i.job_id for i in items])
        jobs = rows.jobs
        routed: set[str] = set()
        for position, item in enumerate(items):
            job = jobs.get(item.job_id)
            if job is None:
                log.warning("route: no job %s", item.job_id)
                continue
            if item.job_id in routed:
                continue  # the same job twice in one flush: routed once, published once
            routed.add(item.job_id)
            outcome = pipeline.route_locked(rt, publisher, session, job)
            if outcome is not None:
                decisions.append(outcome.decision)
                plan.infers.append((position, job.id, outcome.tier))
        pipeline.insert_decisions(session, decisions)
        rows.write(session)
    return plan


def run_route_batch(rt: Runtime, publisher: Publisher,
                    items: Sequence[StepItem]) -> list[tuple[StepItem, Again]]:
    """Route one flush; the items to send again (see `tasks.step_flush.run_flush`)."""
    return run_flush(rt, publisher, STEP, items,
                     lambda some: route_together(rt, publisher, some),
                     lambda item: pipeline.route_job(rt, publisher, item.job_id))
