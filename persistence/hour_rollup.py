"""The cost ledger summed per job dimension and hour, so `tierline costs --since DATE` by one
job dimension (tenant, user, feature or query type) stays fast over millions of calls.

`ledger_hour_rollup` holds, per dimension, its value and the UTC hour of the call, the sums the
report needs: jobs (each job's first ledger row), calls, what they cost, and the tokens of each
job's first answer (its first `ok` row). Counted by the sweep's statement with the other rollups
(see persistence.ledger_rollup). Across batches only: a batch's figures since a date are read
from the ledger.

Since a date it is read like the call rollup (see persistence.call_rollup): whole hours from the
rollup, the jobs whose "first" may lie before the date (rows in the partial first hour, rows
spanning hours, rows not counted yet) summed exactly from the ledger instead.

PostgreSQL only, like `ledger_rollup`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tierline.persistence.call_rollup import COUNTED, HOUR, exact_job_rows, next_hour
from tierline.persistence.rollup_sql import CALL_SUMS, CALL_SUMS_SQL, add_to

JOB_KEYS = ("tenant", "user", "feature", "query_type")
SUMS = ("jobs", *CALL_SUMS, "first_input_tokens", "first_output_tokens")


def hour_sums(rows: str) -> str:
    """The hour rollup's keys and measures over ledger rows `rows` (aliased a)."""
    values = ", ".join(f"('{k}', a.\"{k}\")" for k in JOB_KEYS)
    first = "a.outcome = 'ok' AND e.ok_before IS NOT TRUE"
    return f"""
        SELECT d.dimension, d.value, {HOUR.format(row="a")} AS hour,
               count(*) FILTER (WHERE e.any_before IS NOT TRUE) AS jobs,
               {CALL_SUMS_SQL},
               coalesce(sum(a.input_tokens) FILTER (WHERE {first}), 0) AS first_input_tokens,
               coalesce(sum(a.output_tokens) FILTER (WHERE {first}), 0) AS first_output_tokens
        FROM {rows} a
        LEFT JOIN LATERAL (SELECT bool_or(true) AS any_before,
                                  bool_or(e.outcome = 'ok') AS ok_before
                           FROM attempts e
                           WHERE e.job_id = a.job_id AND e.attempt_no < a.attempt_no) e ON true
        CROSS JOIN LATERAL (VALUES {values}) d(dimension, value)
        GROUP BY d.dimension, d.value, {HOUR.format(row="a")}"""


def count_statement(counted: str) -> str:
    """A CTE of the sweep's statement that counts the rows of CTE `counted` into the rollup."""
    keys = "dimension, value, hour"
    return f"""
    hour_upserted AS ({add_to("ledger_hour_rollup", keys, SUMS, hour_sums(counted))}
    )"""


def since_rows(dimension: str, since: datetime, tail: str) -> tuple[str, dict[str, Any]]:
    """SQL of the ledger's figures per value of job `dimension` since `since`, exact now:
    columns the value, then `SUMS`. `tail` is the SQL of the ledger rows not counted yet."""
    params = {"dimension": dimension, "since": since, "hour": next_hour(since)}
    rows = exact_job_rows(tail)
    taken_out = (f"(SELECT a.* FROM {rows} "
                 f"WHERE a.created_at >= :hour AND {COUNTED.format(row='a')})")
    # Each job's first answer since the date: its first `ok` row at or after it.
    first = ("a.outcome = 'ok' AND NOT EXISTS (SELECT 1 FROM attempts o WHERE o.job_id = a.job_id "
             "AND o.outcome = 'ok' AND o.created_at >= :since AND o.attempt_no < a.attempt_no)")
    exact = f"""
        SELECT a."{dimension}", count(DISTINCT a.job_id), count(*),
               count(*) FILTER (WHERE a.outcome NOT IN ('ok', 'judge_ok')),
               coalesce(sum(a.input_tokens), 0), coalesce(sum(a.output_tokens), 0),
               coalesce(sum(a.cost_usd), 0),
               coalesce(sum(a.cost_usd) FILTER (WHERE a.validated IS FALSE), 0),
               coalesce(sum(a.input_tokens) FILTER (WHERE {first}), 0),
               coalesce(sum(a.output_tokens) FILTER (WHERE {first}), 0)
        FROM {rows} WHERE a.created_at >= :since
        GROUP BY a."{dimension}\""""
    negated = ", ".join(f"-{m}" for m in SUMS)
    sql = (f"SELECT value, {', '.join(SUMS)} FROM ledger_hour_rollup "
           f"WHERE dimension = :dimension AND hour >= :hour "
           f"UNION ALL SELECT value, {negated} FROM ({hour_sums(taken_out)}) t "
           f"WHERE dimension = :dimension "
           f"UNION ALL {exact}")
    return sql, params


def backfill_sql() -> str:
    """A statement that counts into the rollup what `ledger_rollup` has counted already."""
    counted = f"(SELECT * FROM attempts c WHERE {COUNTED.format(row='c')})"
    return f"WITH counted AS {counted}, {count_statement('counted')} SELECT 1"
