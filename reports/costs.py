"""The cost ledger read back: spend per tenant, user, feature, query type, tier or model.

Every provider call is a row of `attempts`, stamped with the job's tenant, user, feature and
query type when it was made, so spend is summed straight from the ledger. Besides the money, each
group carries what it bought badly (outputs that failed validation, calls that failed) and the
tokens of each job's first answer, which priced at the top tier say what the same work would
have cost sent there directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select, text
from sqlalchemy.orm import Session

from tierline.persistence.ledger_rollup import (
    call_ledger_rows,
    job_since_rows,
    ledger_rows,
    uses_rollup,
)
from tierline.persistence.tables import Attempt, Job

# Job-level dimensions are the same on every row of a job; the others describe one call.
JOB_DIMENSIONS = {"tenant": Attempt.tenant, "user": Attempt.user, "feature": Attempt.feature,
                  "query_type": Attempt.query_type}
CALL_DIMENSIONS = {"tier": Attempt.tier, "provider": Attempt.provider, "model": Attempt.model}
DIMENSIONS = {**JOB_DIMENSIONS, **CALL_DIMENSIONS}


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


class UnknownDimension(ValueError):
    pass


@dataclass(frozen=True)
class CostRow:
    group: tuple[Any, ...]
    jobs: int
    calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    # Spent on answers that validation rejected (each was followed by a retry a tier up).
    rejected_cost_usd: Decimal
    # Tokens of each job's first answer; None when the grouping is by call (tier, model...).
    first_answer_tokens: tuple[int, int] | None


def money(value: Any) -> Decimal:
    """A sum of money as the driver returns it (Decimal, or float on SQLite), as a Decimal."""
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _dimensions(by: list[str]) -> list[Any]:
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown or not by:
        raise UnknownDimension(f"group by one or more of {', '.join(DIMENSIONS)}; "
                               f"got {', '.join(unknown) or 'nothing'}")
    return [DIMENSIONS[d] for d in by]


def _scoped(query: _Query, batch_id: str | None, since: datetime | None) -> _Query:
    if batch_id is not None:
        query = query.join(Job, Job.id == Attempt.job_id).where(Job.batch_id == batch_id)
    if since is not None:
        query = query.where(Attempt.created_at >= since)
    return query


def _first_answer_tokens(session: Session, columns: list[Any], batch_id: str | None,
                         since: datetime | None) -> dict[tuple[Any, ...], tuple[int, int]]:
    first = _scoped(select(Attempt.job_id, func.min(Attempt.attempt_no).label("first"))
                    .where(Attempt.outcome == "ok"), batch_id, since).group_by(Attempt.job_id)
    sub = first.subquery()
    query = (select(*columns, func.sum(Attempt.input_tokens), func.sum(Attempt.output_tokens))
             .join(sub, (Attempt.job_id == sub.c.job_id) & (Attempt.attempt_no == sub.c.first))
             .group_by(*columns))
    return {tuple(row[:-2]): (int(row[-2] or 0), int(row[-1] or 0))
            for row in session.execute(query)}


def _from_rollup(session: Session, by: list[str], batch_id: str | None) -> list[CostRow]:
    """The same figures summed from the rollup and the ledger rows it has not counted yet."""
    rows_sql, params = ledger_rows(batch_id)
    groups = ", ".join(f'"{d}"' for d in by)  # names checked against DIMENSIONS
    query = text(f"""
        SELECT {groups}, sum(jobs), sum(calls), sum(failed_calls), sum(input_tokens),
               sum(output_tokens), sum(cost_usd), sum(rejected_cost_usd),
               sum(first_input_tokens), sum(first_output_tokens)
        FROM ({rows_sql}) ledger GROUP BY {groups}""")
    rows = []
    for row in session.execute(query, params):
        group = tuple(row[:len(by)])
        jobs, calls, failures, tokens_in, tokens_out, cost, rejected, first_in, first_out = (
            row[len(by):])
        rows.append(CostRow(group, int(jobs), int(calls), int(failures), int(tokens_in),
                            int(tokens_out), money(cost), money(rejected),
                            (int(first_in), int(first_out))))
    return rows


def _without_jit(session: Session) -> None:
    """The rollup statements read a few thousand rows, but the planner prices their job-by-job
    ledger reads far above JIT's threshold: compiling them costs more than running them."""
    session.execute(text("SET LOCAL jit = off"))


def _from_call_rollup(session: Session, by: list[str], batch_id: str | None,
                      since: datetime | None) -> list[CostRow]:
    """Grouped by a call's dimensions: summed from the call rollup, the ledger rows it has not
    counted yet and, since a date, the jobs it cannot answer for (see persistence.call_rollup)."""
    rows_sql, params = call_ledger_rows(by, batch_id, since)
    _without_jit(session)
    groups = ", ".join(by)  # names checked against DIMENSIONS
    query = text(f"""
        SELECT {groups}, sum(jobs), sum(calls), sum(failed_calls), sum(input_tokens),
               sum(output_tokens), sum(cost_usd), sum(rejected_cost_usd)
        FROM ({rows_sql}) ledger GROUP BY {groups} HAVING sum(calls) <> 0""")
    rows = []
    for row in session.execute(query, params):
        group = tuple(row[:len(by)])
        jobs, calls, failures, tokens_in, tokens_out, cost, rejected = row[len(by):]
        rows.append(CostRow(group, int(jobs), int(calls), int(failures), int(tokens_in),
                            int(tokens_out), money(cost), money(rejected), None))
    return rows


def _from_hour_rollup(session: Session, dimension: str, since: datetime) -> list[CostRow]:
    """By one job dimension since a date, across batches: summed from the hour rollup and the
    jobs it cannot answer for (see persistence.hour_rollup)."""
    rows_sql, params = job_since_rows(dimension, since)
    _without_jit(session)
    query = text(f"""
        SELECT value, sum(jobs), sum(calls), sum(failed_calls), sum(input_tokens),
               sum(output_tokens), sum(cost_usd), sum(rejected_cost_usd),
               sum(first_input_tokens), sum(first_output_tokens)
        FROM ({rows_sql}) ledger GROUP BY value HAVING sum(calls) <> 0""")
    rows = []
    for row in session.execute(query, params):
        value, jobs, calls, failures, tokens_in, tokens_out, cost, rejected, first_in, first_out = (
            row)
        rows.append(CostRow((value,), int(jobs), int(calls), int(failures), int(tokens_in),
                            int(tokens_out), money(cost), money(rejected),
                            (int(first_in), int(first_out))))
    return rows


def cost_ledger(session: Session, by: list[str], batch_id: str | None = None,
                since: datetime | None = None) -> list[CostRow]:
    """Spend grouped `by` the named dimensions, most expensive group first.

    On PostgreSQL, grouped by job dimensions over whole batches, the figures come from the
    rollup (see persistence.ledger_rollup); by a call's tier, provider or model, whole or since
    a date, from the call rollup (persistence.call_rollup); by one job dimension since a date
    across batches, from the hour rollup (persistence.hour_rollup); other groupings from the
    ledger."""
    columns = _dimensions(by)
    if uses_rollup(session) and (since is None and all(d in JOB_DIMENSIONS for d in by)):
        return sorted(_from_rollup(session, by, batch_id),
                      key=lambda r: (-r.cost_usd, [str(g) for g in r.group]))
    if uses_rollup(session) and since is not None and batch_id is None and len(by) == 1 and (
            by[0] in JOB_DIMENSIONS):
        return sorted(_from_hour_rollup(session, by[0], since),
                      key=lambda r: (-r.cost_usd, [str(g) for g in r.group]))
    if uses_rollup(session) and all(d in CALL_DIMENSIONS for d in by):
        return sorted(_from_call_rollup(session, by, batch_id, since),
                      key=lambda r: (-r.cost_usd, [str(g) for g in r.group]))
    rejected = case((Attempt.validated.is_(False), Attempt.cost_usd), else_=0)
    failed = case((Attempt.outcome.in_(["ok", "judge_ok"]), 0), else_=1)
    query = _scoped(select(
        *columns, func.count(func.distinct(Attempt.job_id)), func.count(), func.sum(failed),
        func.sum(Attempt.input_tokens), func.sum(Attempt.output_tokens),
        func.sum(Attempt.cost_usd), func.sum(rejected),
    ), batch_id, since).group_by(*columns)
    per_job = all(d in JOB_DIMENSIONS for d in by)
    first = _first_answer_tokens(session, columns, batch_id, since) if per_job else {}
    rows = []
    for row in session.execute(query):
        group = tuple(row[:len(columns)])
        jobs, calls, failures, tokens_in, tokens_out, cost, rejected_cost = row[len(columns):]
        rows.append(CostRow(group, int(jobs), int(calls), int(failures or 0), int(tokens_in or 0),
                            int(tokens_out or 0), money(cost), money(rejected_cost),
                            first.get(group, (0, 0)) if per_job else None))
    return sorted(rows, key=lambda r: (-r.cost_usd, [str(g) for g in r.group]))
