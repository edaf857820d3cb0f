"""The validate step over a set of attempts: one transaction and one publish for a flush.

The set's jobs are locked in one `SELECT ... FOR UPDATE` ordered by id, all their ledger rows
read in one query, each attempt checked and its verdict recorded as `pipeline.validate_attempt`
records it alone (`pipeline.record_verdict`), the results upserted together, the ledger rows'
verdicts and the jobs' states written with one statement each (`persistence.set_rows`), and
the escalations published once it has committed.

An attempt whose tier asks a judge (a network call) is not checked under the set's locks: it
runs alone after the commit, through today's two-transaction path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from tierline.persistence import store
from tierline.persistence.set_rows import lock_set
from tierline.tasks import pipeline
from tierline.tasks.guard import Again
from tierline.tasks.judging import judge_for
from tierline.tasks.pipeline import Publisher
from tierline.tasks.runtime import Runtime
from tierline.tasks.step_flush import SetPlan, StepItem, run_flush
from tierline.validation.runner import validate

log = logging.getLogger(__name__)

STEP = "validate"


def validate_together(rt: Runtime, publisher: Publisher, items: Sequence[StepItem]) -> SetPlan:
    """Validate the set's attempts that need no judge in one transaction; the escalations to
    publish once it commits, and the attempts to validate alone (with a judge)."""
    plan = SetPlan()
    results: list[dict[str, Any]] = []
    with rt.db.session() as session:
        rows = lock_set(session, [item.job_id for item in items], ledgers=True)
        jobs, ledgers = rows.jobs, rows.attempts
        seen: set[tuple[str, int]] = set()
        for position, item in enumerate(items):
            if (item.job_id, item.at) in seen:
                continue  # the same attempt twice in one flush: validated once
            seen.add((item.job_id, item.at))
            job, attempts = jobs.get(item.job_id), ledgers.get(item.job_id, [])
            found = pipeline.pending_of(session, publisher, job, attempts, item.job_id, item.at)
            if found is None:
                continue
            spec, attempt = store.job_spec(found.job), found.attempt
            ask, _ = judge_for(rt, spec, attempt.tier, [])
            if ask is not None:
                plan.alone.append(position)
                continue
            verdict = validate(spec, attempt.output_text or "", attempt.finish_reason or "stop")
            escalate_to = pipeline.record_verdict(rt, session, found, spec, verdict, [],
                                                  results=results)
            if escalate_to is not None:
                plan.infers.append((position, item.job_id, escalate_to))
        store.upsert_results(session, results)
        rows.write(session)
    return plan


def run_validate_batch(rt: Runtime, publisher: Publisher,
                       items: Sequence[StepItem]) -> list[tuple[StepItem, Again]]:
    """Validate one flush; the items to send again (see `tasks.step_flush.run_flush`)."""
    return run_flush(rt, publisher, STEP, items,
                     lambda some: validate_together(rt, publisher, some),
                     lambda item: pipeline.validate_attempt(rt, publisher, item.job_id, item.at))
