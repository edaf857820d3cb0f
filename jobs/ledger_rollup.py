"""The cost ledger summed ahead of time, so reports stay fast over millions of calls.

`ledger_rollup` holds, per batch and job dimensions (tenant, user, feature, query type), the sums
the reports need. `refresh` counts settled ledger rows into it and marks them `rolled_up`; the
janitor runs it on every sweep. A ledger row is settled once nothing will change it any more: a
failed call at once, an answer once validation has judged it. Readers take the rollup plus the
rows not counted yet (a partial index finds those, however long the ledger), so what they read is
exact at any moment, and only as fast as the janitor keeps the tail short.

What each row adds, decided from the row and the rows of its job before it (numbered in order
under the job's lock, so nothing later changes it):
- a job: its ledger row number 1;
- its first answer: the first `ok` row, whose tokens say what the job needed;
- an escalation: the first `ok` row on a tier other than the first answer's.

PostgreSQL only; the embedded SQLite file is small enough to be summed live.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from jobs.db import Database

KEYS = ("batch_id", "tenant", "user", "feature", "query_type")
MEASURES = ("jobs", "calls", "failed_calls", "input_tokens", "output_tokens", "cost_usd",
            "rejected_cost_usd", "validation_failures", "escalated_jobs",
            "first_input_tokens", "first_output_tokens")
# Rows counted per transaction by `refresh`: a first sweep over a long ledger commits as it goes.
REFRESH_CHUNK = 100_000
_LOCK = 0x7469_6572_6C69  # one sweeper at a time (pg_try_advisory_xact_lock)

_FIRST_OK = ("NOT EXISTS (SELECT 1 FROM attempts e WHERE e.job_id = a.job_id "
             "AND e.outcome = 'ok' AND e.attempt_no < a.attempt_no)")
_ESCALATION = ("a.tier <> f.tier AND NOT EXISTS (SELECT 1 FROM attempts e "
               "WHERE e.job_id = a.job_id AND e.outcome = 'ok' "
               "AND e.attempt_no < a.attempt_no AND e.tier <> f.tier)")


def _sums(rows: str, where: str) -> str:
    """The rollup's measures over ledger rows `rows` (aliased a), per batch and dimensions."""
    return f"""
        SELECT j.batch_id, a.tenant, a."user", a.feature, a.query_type,
               count(*) FILTER (WHERE a.attempt_no = 1) AS jobs,
               count(*) AS calls,
               count(*) FILTER (WHERE a.outcome NOT IN ('ok', 'judge_ok')) AS failed_calls,
               coalesce(sum(a.input_tokens), 0) AS input_tokens,
               coalesce(sum(a.output_tokens), 0) AS output_tokens,
               coalesce(sum(a.cost_usd), 0) AS cost_usd,
               coalesce(sum(a.cost_usd) FILTER (WHERE a.validated IS FALSE), 0)
                   AS rejected_cost_usd,
               count(*) FILTER (WHERE a.validated IS FALSE) AS validation_failures,
               count(*) FILTER (WHERE a.outcome = 'ok' AND {_ESCALATION}) AS escalated_jobs,
               coalesce(sum(a.input_tokens) FILTER (WHERE a.outcome = 'ok' AND {_FIRST_OK}), 0)
                   AS first_input_tokens,
               coalesce(sum(a.output_tokens) FILTER (WHERE a.outcome = 'ok' AND {_FIRST_OK}), 0)
                   AS first_output_tokens
        FROM {rows} a
        JOIN jobs j ON j.id = a.job_id
        LEFT JOIN LATERAL (SELECT e.tier FROM attempts e
                           WHERE e.job_id = a.job_id AND e.outcome = 'ok'
                           ORDER BY e.attempt_no LIMIT 1) f ON true
        WHERE {where}
        GROUP BY j.batch_id, a.tenant, a."user", a.feature, a.query_type"""


_QUOTED_KEYS = ", ".join(f'"{k}"' for k in KEYS)
_REFRESH = text(f"""
    WITH picked AS (
        SELECT id FROM attempts
        WHERE NOT rolled_up AND (outcome <> 'ok' OR validated IS NOT NULL)
        ORDER BY id LIMIT :limit
    ), counted AS (
        UPDATE attempts SET rolled_up = true FROM picked WHERE attempts.id = picked.id
        RETURNING attempts.*
    ), upserted AS (
        INSERT INTO ledger_rollup AS r ({_QUOTED_KEYS}, {", ".join(MEASURES)})
        {_sums("counted", "true")}
        ON CONFLICT ({_QUOTED_KEYS}) DO UPDATE SET
        {", ".join(f"{m} = r.{m} + excluded.{m}" for m in MEASURES)}
        RETURNING 1
    )
    SELECT count(*) FROM counted""")


def refresh(db: Database, chunk: int = REFRESH_CHUNK, max_rows: int | None = None) -> int:
    """Count settled ledger rows into the rollup, a chunk per transaction; returns how many.
    Does nothing where another sweeper holds the lock, or on SQLite."""
    if db.dialect != "postgresql":
        return 0
    total = 0
    while max_rows is None or total < max_rows:
        with db.session() as session:
            if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK}):
                return total
            counted = int(session.scalar(_REFRESH, {"limit": chunk}) or 0)
        total += counted
        if counted < chunk:
            break
    return total


def ledger_rows(batch_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """SQL for the ledger's sums per batch and job dimensions, exact now: the rollup's rows and
    those of the rows it has not counted yet (which carry `KEYS` and `MEASURES` columns)."""
    params: dict[str, Any] = {}
    rollup_where, tail_where = "true", "NOT a.rolled_up"
    if batch_id is not None:
        params["batch_id"] = batch_id
        rollup_where = "batch_id = :batch_id"
        tail_where += " AND j.batch_id = :batch_id"
    columns = f"{_QUOTED_KEYS}, {', '.join(MEASURES)}"
    sql = (f"SELECT {columns} FROM ledger_rollup WHERE {rollup_where} UNION ALL "
           f"SELECT {columns} FROM ({_sums('attempts', tail_where)}) tail")
    return sql, params


def uses_rollup(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
