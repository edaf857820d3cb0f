"""stored job specs without the reference answer

A job no longer carries its right answer (`reference`): it is kept by whoever holds the
workload's answer key. Specs stored before are rewritten without the key, a thousand rows at a
time in the order of their ids, so a large table is never read whole. Until this has run, a
worker loading such a row drops the key itself (`JobSpec.from_row`). An idempotency key computed
from a keyless job's content stays as it was: it is the job's name in results and reports.

Downgrade does nothing: the answers are not kept anywhere to put back, and the earlier code reads
a spec without the key (it was optional).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
RETIRED = "reference"

_jobs = sa.table("jobs", sa.column("id", sa.String), sa.column("spec", sa.JSON))


def without_retired(spec: Any) -> dict[str, Any] | None:
    """The spec without the retired key, or None when it has none (nothing to write)."""
    if not isinstance(spec, dict) or RETIRED not in spec:
        return None
    return {k: v for k, v in spec.items() if k != RETIRED}


def upgrade() -> None:
    bind = op.get_bind()
    write = (sa.update(_jobs).where(_jobs.c.id == sa.bindparam("job_id"))
             .values(spec=sa.bindparam("new_spec", type_=sa.JSON)))
    last = ""
    while True:
        rows = bind.execute(sa.select(_jobs.c.id, _jobs.c.spec).where(_jobs.c.id > last)
                            .order_by(_jobs.c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        changed = [{"job_id": row.id, "new_spec": kept} for row in rows
                   if (kept := without_retired(row.spec)) is not None]
        if changed:
            bind.execute(write, changed)


def downgrade() -> None:
    pass
