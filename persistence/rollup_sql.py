"""SQL the ledger's rollups share (see persistence.ledger_rollup): the sums each keeps of its
ledger rows, and the statement that adds a sweep's sums to a rollup's rows."""

from __future__ import annotations

from collections.abc import Sequence

# What every rollup sums of ledger rows aliased `a`: calls, failed calls, tokens and cost, and
# the spend on answers validation rejected.
CALL_SUMS = ("calls", "failed_calls", "input_tokens", "output_tokens", "cost_usd",
             "rejected_cost_usd")
CALL_SUMS_SQL = """count(*) AS calls,
               count(*) FILTER (WHERE a.outcome NOT IN ('ok', 'judge_ok')) AS failed_calls,
               coalesce(sum(a.input_tokens), 0) AS input_tokens,
               coalesce(sum(a.output_tokens), 0) AS output_tokens,
               coalesce(sum(a.cost_usd), 0) AS cost_usd,
               coalesce(sum(a.cost_usd) FILTER (WHERE a.validated IS FALSE), 0)
                   AS rejected_cost_usd"""


def add_to(table: str, keys: str, measures: Sequence[str], sums: str) -> str:
    """INSERT of the rows of query `sums` into rollup `table`, each added to the row its `keys`
    already have."""
    return f"""
        INSERT INTO {table} AS r ({keys}, {", ".join(measures)})
        {sums}
        ON CONFLICT ({keys}) DO UPDATE SET
        {", ".join(f"{m} = r.{m} + excluded.{m}" for m in measures)}
        RETURNING 1"""
