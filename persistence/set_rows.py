"""The rows a set-wise step (route, validate) works on: read with Core, written back with Core.

A flush of the route or validate step locks its jobs, reads their ledger rows, moves each job
through the pipeline's logic (`tasks.pipeline`), and writes what changed. Through the ORM, the
reads build identity-mapped instances and the commit runs a unit of work over them, which costs
more CPU than the statements themselves on the small flushes a busy fleet makes. Here the rows
are read with one Core statement per table into detached `Job` and `Attempt` objects (never
added to a session, so nothing is flushed behind the step's back), the pipeline reads and moves
them as it would ORM rows, and `SetRows.write` writes the changes: one executemany UPDATE per
table, whatever the mix of outcomes in the set.

What a step changes is fixed: a job's state (status, reason, tier, times) and, when a budget
caps it, its spec; an attempt's verdict (validated, findings). Only those columns are compared
and written (JSON values are replaced by the pipeline, never changed in place, as the ORM
also needs).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from tierline.persistence.store import ledger_rows_of_jobs, lock_in_id_order
from tierline.persistence.tables import Attempt, Job

_JOBS = cast(Any, Job.__table__)
_ATTEMPTS = cast(Any, Attempt.__table__)

# The columns a step changes, written for every changed row (one statement for all of them).
JOB_STATE = ("status", "status_reason", "current_tier", "updated_at", "finished_at")
VERDICT = ("validated", "findings")

_LOCK_JOBS = lock_in_id_order(_JOBS)
# Bound names differ from the column names: SQLAlchemy reserves those for the SET clause.
_WRITE_STATE = (update(_JOBS).where(_JOBS.c.id == bindparam("key"))
                .values({c: bindparam(f"new_{c}") for c in JOB_STATE}))
_WRITE_SPEC = update(_JOBS).where(_JOBS.c.id == bindparam("key")).values(
    spec=bindparam("new_spec"))
_WRITE_VERDICT = (update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("key"))
                  .values({c: bindparam(f"new_{c}") for c in VERDICT}))
_JOB_COLUMNS = tuple(c.key for c in _JOBS.columns)
_ATTEMPT_COLUMNS = tuple(c.key for c in _ATTEMPTS.columns)


T = TypeVar("T")


def _detached(cls: type[T], names: tuple[str, ...], row: Any) -> T:
    """A detached instance of a mapped class holding `row`, made as the ORM makes the objects
    it loads (instance state, then the values put in place): the constructor sets each
    attribute through its instrumentation, about ten times the cost, for a set of 64 jobs
    and their ledger rows a few milliseconds of a flush."""
    instance = cast(T, cls._sa_class_manager.new_instance())  # type: ignore[attr-defined]
    instance.__dict__.update(zip(names, row, strict=True))
    return instance


def _values(row: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


@dataclass
class SetRows:
    """A flush's locked jobs (by id) and their ledger rows, with what each held when read."""

    jobs: dict[str, Job] = field(default_factory=dict)
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)
    _jobs_read: dict[str, tuple[tuple[Any, ...], Any]] = field(default_factory=dict)
    _attempts_read: dict[int, tuple[Any, ...]] = field(default_factory=dict)

    def write(self, session: Session) -> None:
        """Write every change made to the rows since they were read, on the session's
        connection (in its transaction); at most one statement per kind of change."""
        states: list[dict[str, Any]] = []
        specs: list[dict[str, Any]] = []
        verdicts: list[dict[str, Any]] = []
        for job_id, job in self.jobs.items():
            state, spec = self._jobs_read[job_id]
            now = _values(job, JOB_STATE)
            if now != state:
                states.append({"key": job_id, **{f"new_{c}": v for c, v in
                                                 zip(JOB_STATE, now, strict=True)}})
            if job.spec is not spec:
                specs.append({"key": job_id, "new_spec": job.spec})
        for ledger in self.attempts.values():
            for attempt in ledger:
                now = _values(attempt, VERDICT)
                if now != self._attempts_read[attempt.id]:
                    verdicts.append({"key": attempt.id, **{f"new_{c}": v for c, v in
                                                           zip(VERDICT, now, strict=True)}})
        connection = session.connection()
        for statement, changes in ((_WRITE_STATE, states), (_WRITE_SPEC, specs),
                                   (_WRITE_VERDICT, verdicts)):
            if changes:
                connection.execute(statement, changes)


def lock_set(session: Session, job_ids: Collection[str], *, ledgers: bool = False) -> SetRows:
    """Lock the jobs in one statement (in id order: `store.lock_in_id_order`) and, with
    `ledgers`, read all their ledger rows in one more; a job with no row maps to []."""
    rows = SetRows()
    if not job_ids:
        return rows
    ids = sorted(set(job_ids))
    connection = session.connection()
    for row in connection.execute(_LOCK_JOBS, {"ids": ids}):
        job = _detached(Job, _JOB_COLUMNS, row)
        rows.jobs[job.id] = job
        rows._jobs_read[job.id] = (_values(job, JOB_STATE), job.spec)
    if ledgers:
        rows.attempts = {job_id: [] for job_id in ids}
        read = ledger_rows_of_jobs(connection.dialect.name)
        for row in connection.execute(read, {"ids": ids}):
            attempt = _detached(Attempt, _ATTEMPT_COLUMNS, row)
            rows.attempts[attempt.job_id].append(attempt)
            rows._attempts_read[attempt.id] = _values(attempt, VERDICT)
    return rows
