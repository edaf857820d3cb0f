"""Job rows as the tier steps lock and move them: plain rows and Core statements, no ORM objects.

A tier flush claims, then ledgers, dozens of jobs at a time. As ORM objects each job cost an
identity-map entry, attribute instrumentation and a unit-of-work flush (about as much CPU as
the statements themselves); here the rows are read once, locked, into small mutable records,
and every job that changes status in a transaction is moved by one UPDATE per status.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import bindparam, update

from tierline.jobs.models import JobStatus, check_transition
from tierline.persistence.store import lock_in_id_order
from tierline.persistence.tables import Job, utcnow

_JOBS: Any = cast(Any, Job.__table__)
_COLUMNS = [_JOBS.c.id, _JOBS.c.status, _JOBS.c.current_tier, _JOBS.c.tenant, _JOBS.c.user,
            _JOBS.c.feature, _JOBS.c.query_type]
_LOCK = lock_in_id_order(*_COLUMNS)
_LOCK_WITH_SPEC = lock_in_id_order(*_COLUMNS, _JOBS.c.spec)
_MOVE = (update(_JOBS).where(_JOBS.c.id.in_(bindparam("ids", expanding=True)))
         .values(status=bindparam("new_status"), status_reason=None,
                 updated_at=bindparam("now"), finished_at=None))


@dataclass
class LockedJob:
    """A job row held under its lock: what the tier steps read of it, and its status as this
    transaction has moved it so far (`move` writes it)."""

    id: str
    status: str
    current_tier: int | None
    tenant: str
    user: str
    feature: str
    query_type: str
    spec: dict[str, Any] | None = None


def lock(session: Any, job_ids: Collection[str], with_spec: bool = False
         ) -> dict[str, LockedJob]:
    """The jobs by id, locked in one statement (with their spec, for a claim)."""
    if not job_ids:
        return {}
    rows = session.connection().execute(_LOCK_WITH_SPEC if with_spec else _LOCK,
                                        {"ids": sorted(job_ids)})
    return {row.id: LockedJob(*row) for row in rows}


def set_status(job: LockedJob, status: JobStatus) -> None:
    """Move the job in this transaction, or raise `IllegalTransition` (`jobs.models`); `move`
    writes it. Only for statuses that carry no reason and do not finish the job."""
    if status.terminal:
        raise ValueError(f"{status.value} finishes a job: set it with its reason")
    check_transition(JobStatus(job.status), status)
    job.status = status.value


def move(session: Any, jobs: Iterable[LockedJob], status: JobStatus) -> None:
    """Write `status` (set with `set_status`) for these jobs, in one statement."""
    ids = sorted({job.id for job in jobs})
    if ids:
        session.connection().execute(_MOVE, {"ids": ids, "new_status": status.value,
                                             "now": utcnow()})
