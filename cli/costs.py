"""`tierline costs`: the cost ledger per tenant, user, feature, query type, tier or model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from cli.context import open_context
from jobs.costs import DIMENSIONS, UnknownDimension, cost_ledger
from jobs.tiers import load_tiers
from providers.pricing import cost_usd


def _by(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.command("costs")
@click.option("--by", "by", default="feature", show_default=True,
              help=f"comma-separated dimensions: {', '.join(DIMENSIONS)}")
@click.option("--batch", "batch_id", help="only this batch's jobs")
@click.option("--since", type=click.DateTime(), help="only calls made since (UTC)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object per group")
def costs(by: str, batch_id: str | None, since: datetime | None, as_json: bool) -> None:
    """Spend per group from the ledger, with what the same jobs would cost at the top tier."""
    ctx = open_context()
    tiers = load_tiers(ctx.settings.tiers_file)
    top = tiers.get(tiers.top).primary
    dimensions = _by(by)
    try:
        with ctx.db.session() as session:
            rows = cost_ledger(session, dimensions, batch_id,
                               since.replace(tzinfo=UTC) if since else None)
    except UnknownDimension as exc:
        raise click.BadParameter(str(exc), param_hint="--by") from None
    out: list[dict[str, Any]] = []
    for row in rows:
        baseline: Decimal | None = None
        if row.first_answer_tokens is not None:
            baseline = cost_usd(top, *row.first_answer_tokens)
        out.append({**dict(zip(dimensions, row.group, strict=True)), "jobs": row.jobs,
                    "calls": row.calls, "failed_calls": row.failed_calls,
                    "input_tokens": row.input_tokens, "output_tokens": row.output_tokens,
                    "cost_usd": float(row.cost_usd),
                    "rejected_cost_usd": float(row.rejected_cost_usd),
                    "all_top_tier_cost_usd": float(baseline) if baseline is not None else None})
    if as_json:
        for item in out:
            click.echo(json.dumps(item))
        return
    table = Table(title=f"cost ledger by {', '.join(dimensions)}"
                        + (f", batch {batch_id}" if batch_id else ""))
    for column in [*dimensions, "jobs", "calls", "failed", "tokens in/out", "cost (USD)",
                   "rejected", f"at tier {tiers.top} ({top.model})"]:
        table.add_column(column)
    for item, row in zip(out, rows, strict=True):
        at_top = item["all_top_tier_cost_usd"]
        table.add_row(*map(str, row.group), str(row.jobs), str(row.calls), str(row.failed_calls),
                      f"{row.input_tokens}/{row.output_tokens}", f"{row.cost_usd:.4f}",
                      f"{row.rejected_cost_usd:.4f}", "-" if at_top is None else f"{at_top:.4f}")
    total = sum(item["cost_usd"] for item in out)
    at_top_total = [item["all_top_tier_cost_usd"] for item in out]
    table.caption = f"total ${total:.4f}" + (
        f", against ${sum(at_top_total):.4f} had every job gone to tier {tiers.top}"
        if out and None not in at_top_total else "")
    Console().print(table)
