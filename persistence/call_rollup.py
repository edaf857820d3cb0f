"""The cost ledger summed per call and hour, so reports by tier, provider or model, and since a
date, stay fast over millions of calls.

`ledger_call_rollup` holds, per batch, tier, provider, model and UTC hour of the call, the sums
those reports need. It is counted by the same statement, over the same ledger rows, as
`ledger_rollup` (see persistence.ledger_rollup: its watermark, its pending answers, its readers'
tail of rows not counted yet), so the two are always at the same mark.

A report groups calls, yet counts jobs: a job with two calls on tier 2 is one job of tier 2. So
each call carries, per grouping of (tier, provider, model), whether it is its job's first with
those values (no row of the job numbered before it has them); summing those counts each job
once. Rows of a job are numbered in order and a reserved row holds its job's later rows back, so
this never changes once counted.

Since a date, the hours from the first whole hour are read from the rollup, but a job counted
there may have rows before it, which changes what "its first" is. Those jobs are few and are
read from the ledger instead: the jobs with a row in the partial first hour (read by the
`created_at` index), the jobs whose rows span hours (`ledger_spanning_jobs`, kept by the same
sweep) and the jobs with rows not counted yet. Their rows are taken out of the rollup's sums and
summed exactly from the ledger, so the figures are the ledger's, whatever the date.

PostgreSQL only, like `ledger_rollup`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

from tierline.persistence.rollup_sql import CALL_SUMS, CALL_SUMS_SQL, add_to

CALL_KEYS = ("tier", "provider", "model")
# One job count per non-empty grouping of a call's dimensions, named after them.
GROUPINGS = [combo for size in (1, 2, 3) for combo in combinations(CALL_KEYS, size)]
JOB_COUNTS = tuple("jobs_" + "_".join(combo) for combo in GROUPINGS)
MEASURES = CALL_SUMS + JOB_COUNTS

HOUR = "date_trunc('hour', {row}.created_at, 'UTC')"
# A ledger row already counted into the rollups.
COUNTED = ("{row}.id <= (SELECT watermark FROM ledger_rollup_state WHERE id = 1) AND NOT EXISTS "
           "(SELECT 1 FROM ledger_pending p WHERE p.attempt_id = {row}.id)")


def job_count(by: list[str]) -> str:
    """The rollup's job count for a grouping by these call dimensions."""
    return "jobs_" + "_".join(k for k in CALL_KEYS if k in by)


def _seen_before(combo: tuple[str, ...]) -> str:
    return "bool_or(" + " AND ".join(f"e.{k} = a.{k}" for k in combo) + ")"


def call_sums(rows: str, where: str = "true") -> str:
    """The call rollup's keys and measures over ledger rows `rows` (aliased a) that match
    `where` (which may name the job, j)."""
    seen = ", ".join(f"{_seen_before(c)} AS {name}"
                     for c, name in zip(GROUPINGS, JOB_COUNTS, strict=True))
    firsts = ", ".join(f"count(*) FILTER (WHERE e.{name} IS NOT TRUE) AS {name}"
                       for name in JOB_COUNTS)
    return f"""
        SELECT j.batch_id, a.tier, a.provider, a.model, {HOUR.format(row="a")} AS hour,
               {CALL_SUMS_SQL},
               {firsts}
        FROM {rows} a
        JOIN jobs j ON j.id = a.job_id
        LEFT JOIN LATERAL (SELECT {seen} FROM attempts e
                           WHERE e.job_id = a.job_id AND e.attempt_no < a.attempt_no) e ON true
        WHERE {where}
        GROUP BY j.batch_id, a.tier, a.provider, a.model, {HOUR.format(row="a")}"""


def count_statements(counted: str) -> str:
    """CTEs of the sweep's statement that count the rows of CTE `counted` into the call rollup
    and note their jobs that span hours."""
    keys = "batch_id, tier, provider, model, hour"
    return f"""
    call_upserted AS ({add_to("ledger_call_rollup", keys, MEASURES, call_sums(counted))}
    ), spanning AS (
        INSERT INTO ledger_spanning_jobs (job_id, last_hour)
        SELECT h.job_id, h.last_hour FROM (SELECT DISTINCT job_id FROM {counted}) c
        CROSS JOIN LATERAL (SELECT e.job_id, max({HOUR.format(row="e")}) AS last_hour
                            FROM attempts e WHERE e.job_id = c.job_id GROUP BY e.job_id
                            HAVING min({HOUR.format(row="e")}) <> max({HOUR.format(row="e")})
                            ) h
        ON CONFLICT (job_id) DO UPDATE SET
        last_hour = greatest(ledger_spanning_jobs.last_hour, excluded.last_hour)
        RETURNING 1
    )"""


def backfill_sql() -> list[str]:
    """Statements that count into the call rollup what `ledger_rollup` has counted already."""
    counted = f"(SELECT * FROM attempts c WHERE {COUNTED.format(row='c')})"
    return [f"WITH counted AS {counted}, {count_statements('counted')} SELECT 1"]


def next_hour(moment: datetime) -> datetime:
    """The first hour boundary at or after `moment` (UTC)."""
    hour = moment.replace(minute=0, second=0, microsecond=0)
    return hour if hour == moment else hour + timedelta(hours=1)


def exact_job_rows(tail: str) -> str:
    """FROM items of the rows (aliased a) of the jobs read from the ledger since `:since` (see
    the module's note), `:hour` the first whole hour, `tail` the rows not counted yet."""
    jobs = ("(SELECT job_id FROM attempts WHERE created_at >= :since AND created_at < :hour "
            "UNION SELECT job_id FROM ledger_spanning_jobs WHERE last_hour >= :hour "
            f"UNION SELECT job_id FROM {tail} t)")
    # Their rows fetched job by job (the planner cannot tell how few jobs there are).
    return (f"{jobs} x CROSS JOIN LATERAL (SELECT * FROM attempts r "
            "WHERE r.job_id = x.job_id OFFSET 0) a")


def call_rows(by: list[str], batch_id: str | None, since: datetime | None, tail: str
              ) -> tuple[str, dict[str, Any]]:
    """SQL of the ledger's figures grouped `by` call dimensions, exact now: columns the groups,
    then jobs and `CALL_SUMS`. `tail` is the SQL of the ledger rows not counted yet."""
    params: dict[str, Any] = {}
    groups = ", ".join(by)  # names checked against CALL_KEYS by the caller
    rollup_where = job_where = "true"
    if batch_id is not None:
        params["batch_id"] = batch_id
        rollup_where = "batch_id = :batch_id"
        job_where = "j.batch_id = :batch_id"
    measures = f"{job_count(by)} AS jobs, {', '.join(CALL_SUMS)}"
    if since is None:
        sql = (f"SELECT {groups}, {measures} FROM ledger_call_rollup WHERE {rollup_where} "
               f"UNION ALL SELECT {groups}, {measures} FROM ({call_sums(tail, job_where)}) t")
        return sql, params
    params.update(since=since, hour=next_hour(since))
    negated = ", ".join(f"-{m}" for m in (job_count(by), *CALL_SUMS))
    rows_of_exact_jobs = exact_job_rows(tail)
    taken_out = (f"(SELECT a.* FROM {rows_of_exact_jobs} "
                 f"WHERE a.created_at >= :hour AND {COUNTED.format(row='a')})")
    exact = f"""
        SELECT {", ".join(f"a.{k}" for k in by)}, count(DISTINCT a.job_id),
               count(*), count(*) FILTER (WHERE a.outcome NOT IN ('ok', 'judge_ok')),
               coalesce(sum(a.input_tokens), 0), coalesce(sum(a.output_tokens), 0),
               coalesce(sum(a.cost_usd), 0),
               coalesce(sum(a.cost_usd) FILTER (WHERE a.validated IS FALSE), 0)
        FROM {rows_of_exact_jobs} JOIN jobs j ON j.id = a.job_id
        WHERE a.created_at >= :since AND {job_where}
        GROUP BY {", ".join(f"a.{k}" for k in by)}"""
    sql = (f"SELECT {groups}, {measures} FROM ledger_call_rollup "
           f"WHERE {rollup_where} AND hour >= :hour "
           f"UNION ALL SELECT {groups}, {negated} FROM ({call_sums(taken_out, job_where)}) t "
           f"UNION ALL {exact}")
    return sql, params
