"""The cost ledger summed ahead of time, so reports stay fast over millions of calls.

`ledger_rollup` holds, per batch and job dimensions (tenant, user, feature, query type), the sums
the reports need. `refresh` (the janitor runs it on every sweep) counts ledger rows into it up to
a watermark: every row at or below the mark is counted, or, being an answer not yet validated,
waits in `ledger_pending` and is counted by the sweep after its validation. The ledger is never
written to. Readers take the rollup plus the rows above the mark and the pending ones, in one
statement, so what they read is exact at any moment; the sweeps only keep that tail short.

Rows commit out of id order (ids are taken at insert), so the mark is taken under a SHARE lock on
`attempts`, held for one `max(id)`: it waits for the transactions writing ledger rows to end, so
every row at or below the mark is committed, and later rows get higher ids.

What each row adds, decided from the row and the rows of its job before it (numbered in order
under the job's lock; a row reserved ahead of its call, `in_flight`, holds back its job's later
rows until it is recorded, so nothing later changes what was counted):
- a job: its ledger row number 1;
- its first answer: the first `ok` row, whose tokens say what the job needed;
- an escalation: the first `ok` row on a tier other than the first answer's.

The same statement counts the same rows into the rollups per call and hour
(persistence.call_rollup) and per job dimension and hour (persistence.hour_rollup).

PostgreSQL only; the embedded SQLite file is small enough to be summed live.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tierline.persistence import call_rollup, hour_rollup
from tierline.persistence.db import Database
from tierline.persistence.rollup_sql import CALL_SUMS, CALL_SUMS_SQL, add_to

KEYS = ("batch_id", "tenant", "user", "feature", "query_type")
MEASURES = ("jobs", *CALL_SUMS, "validation_failures", "escalated_jobs",
            "first_input_tokens", "first_output_tokens")
# Rows counted per transaction by `refresh`: a first sweep over a long ledger commits as it goes.
REFRESH_CHUNK = 100_000
LOCK_TIMEOUT_MS = 500

_ESCALATION = ("CASE WHEN a.outcome = 'ok' AND a.tier <> f.tier THEN NOT EXISTS ("
               "SELECT 1 FROM attempts e WHERE e.job_id = a.job_id AND e.outcome = 'ok' "
               "AND e.attempt_no < a.attempt_no AND e.tier <> f.tier) ELSE false END")
_FIRST_ANSWER = "a.outcome = 'ok' AND a.attempt_no = f.attempt_no"


def _sums(rows: str) -> str:
    """The rollup's measures over ledger rows `rows` (aliased a), per batch and dimensions."""
    return f"""
        SELECT j.batch_id, a.tenant, a."user", a.feature, a.query_type,
               count(*) FILTER (WHERE a.attempt_no = 1) AS jobs,
               {CALL_SUMS_SQL},
               count(*) FILTER (WHERE a.validated IS FALSE) AS validation_failures,
               count(*) FILTER (WHERE {_ESCALATION}) AS escalated_jobs,
               coalesce(sum(a.input_tokens) FILTER (WHERE {_FIRST_ANSWER}), 0)
                   AS first_input_tokens,
               coalesce(sum(a.output_tokens) FILTER (WHERE {_FIRST_ANSWER}), 0)
                   AS first_output_tokens
        FROM {rows} a
        JOIN jobs j ON j.id = a.job_id
        LEFT JOIN LATERAL (SELECT e.tier, e.attempt_no FROM attempts e
                           WHERE e.job_id = a.job_id AND e.outcome = 'ok'
                           ORDER BY e.attempt_no LIMIT 1) f ON true
        GROUP BY j.batch_id, a.tenant, a."user", a.feature, a.query_type"""


_QUOTED_KEYS = ", ".join(f'"{k}"' for k in KEYS)
# What the sums read of a ledger row.
_ATTEMPT_COLUMNS = ("id, job_id, attempt_no, tier, provider, model, tenant, \"user\", feature, "
                    "query_type, input_tokens, output_tokens, cost_usd, outcome, validated, "
                    "created_at")


def _awaiting(row: str) -> str:
    """A ledger row that may still change, or whose marks may: an answer not yet validated, a
    call reserved and not yet recorded (`in_flight`, written ahead of the call), or any row of a
    job with such a reserved row before it (that row may yet become the job's first answer)."""
    return (f"(({row}.outcome = 'ok' AND {row}.validated IS NULL) OR {row}.outcome = 'in_flight' "
            f"OR EXISTS (SELECT 1 FROM attempts b WHERE b.job_id = {row}.job_id "
            f"AND b.attempt_no < {row}.attempt_no AND b.outcome = 'in_flight'))")


_COUNT = text(f"""
    WITH fresh AS (
        SELECT f.*, {_awaiting("f")} AS awaiting FROM attempts f
        WHERE f.id > :low AND f.id <= :high
    ), parked AS (
        INSERT INTO ledger_pending (attempt_id) SELECT id FROM fresh WHERE awaiting
        RETURNING 1
    ), released AS (
        DELETE FROM ledger_pending p USING attempts a
        WHERE a.id = p.attempt_id AND NOT {_awaiting("a")}
        RETURNING a.*
    ), counted AS (
        SELECT {_ATTEMPT_COLUMNS} FROM fresh WHERE NOT awaiting
        UNION ALL SELECT {_ATTEMPT_COLUMNS} FROM released
    ), upserted AS ({add_to("ledger_rollup", _QUOTED_KEYS, MEASURES, _sums("counted"))}
    ), {call_rollup.count_statements("counted")}, {hour_rollup.count_statement("counted")}
    SELECT count(*) FROM counted""")


def _high_water(db: Database) -> int | None:
    """The highest ledger id below which every row is committed (see the module's note), or
    None when a long transaction holds the ledger: waiting for it would queue every step's
    ledger writes behind this lock, so the sweep is skipped instead."""
    try:
        with db.session() as session:
            session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
            session.execute(text("LOCK TABLE attempts IN SHARE MODE"))
            return int(session.scalar(text("SELECT coalesce(max(id), 0) FROM attempts")) or 0)
    except OperationalError as exc:
        if "lock timeout" in str(exc):
            return None
        raise


def refresh(db: Database, chunk: int = REFRESH_CHUNK, max_rows: int | None = None) -> int:
    """Count ledger rows into the rollup, `chunk` ids per transaction; returns how many rows
    were counted. Sweepers queue on the watermark's row; SQLite has no rollup."""
    if db.dialect != "postgresql":
        return 0
    high = _high_water(db)
    if high is None:
        return 0
    total = 0
    while max_rows is None or total < max_rows:
        with db.session() as session:
            low = int(session.scalar(text(
                "SELECT watermark FROM ledger_rollup_state WHERE id = 1 FOR UPDATE")) or 0)
            upper = min(high, low + chunk)
            counted = int(session.scalar(_COUNT, {"low": low, "high": upper}) or 0)
            session.execute(text("UPDATE ledger_rollup_state SET watermark = :w WHERE id = 1"),
                            {"w": max(low, upper)})
        total += counted
        if upper >= high:
            break
    return total


# The ledger rows not counted yet. The planner cannot know the watermark: a bounded range makes
# it expect few rows and walk the primary key; OFFSET 0 keeps the pending rows fetched one by one
# by their ids.
TAIL = ("(SELECT * FROM attempts WHERE id > (SELECT watermark FROM ledger_rollup_state "
        "WHERE id = 1) AND id <= (SELECT 9223372036854775807) "
        "UNION ALL SELECT a.* FROM ledger_pending p CROSS JOIN LATERAL "
        "(SELECT * FROM attempts WHERE attempts.id = p.attempt_id OFFSET 0) a)")


def call_ledger_rows(by: list[str], batch_id: str | None = None, since: datetime | None = None
                     ) -> tuple[str, dict[str, Any]]:
    """SQL for the ledger's figures grouped `by` a call's dimensions (tier, provider, model),
    since a date or not, exact now (see persistence.call_rollup)."""
    return call_rollup.call_rows(by, batch_id, since, TAIL)


def job_since_rows(dimension: str, since: datetime) -> tuple[str, dict[str, Any]]:
    """SQL for the ledger's figures per value of one job dimension since a date, across
    batches, exact now (see persistence.hour_rollup)."""
    return hour_rollup.since_rows(dimension, since, TAIL)


def ledger_rows(batch_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """SQL for the ledger's sums per batch and job dimensions, exact now: the rollup's rows and
    those of the ledger rows it has not counted yet (with `KEYS` and `MEASURES` columns)."""
    params: dict[str, Any] = {}
    rollup_where = tail_where = "true"
    if batch_id is not None:
        params["batch_id"] = batch_id
        rollup_where = "batch_id = :batch_id"
        tail_where = "j.batch_id = :batch_id"
    tail = TAIL
    columns = f"{_QUOTED_KEYS}, {', '.join(MEASURES)}"
    sums = _sums(tail).replace("GROUP BY", f"WHERE {tail_where} GROUP BY")
    sql = (f"SELECT {columns} FROM ledger_rollup WHERE {rollup_where} UNION ALL "
           f"SELECT {columns} FROM ({sums}) tail")
    return sql, params


def uses_rollup(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
