"""`tierline costs`: the cost ledger per tenant, user, feature, query type, tier or model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from tierline.cli.render import WIDTH, console, decimal_text, json_document, table, usd

if TYPE_CHECKING:
    from rich.table import Table


def _by(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _tokens(n: int) -> str:
    """Token counts short enough for a narrow column: 950, 12.3k, 4.51M."""
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}M"


@click.command("costs")
@click.option("--by", "by", default="feature", show_default=True,
              help="comma-separated dimensions: tenant, user, feature, query_type, tier, "
                   "provider, model")
@click.option("--batch", "batch_id", help="only this batch's jobs")
@click.option("--since", type=click.DateTime(), help="only calls made since (UTC)")
@click.option("--json", "as_json", is_flag=True,
              help="print one JSON document: the groups and the totals")
def costs(by: str, batch_id: str | None, since: datetime | None, as_json: bool) -> None:
    """Spend per group from the ledger, with what the same jobs would cost at the top tier."""
    from decimal import Decimal

    from tierline.cli.context import open_context
    from tierline.config.tiers import load_tiers
    from tierline.providers.pricing import cost_usd
    from tierline.reports.costs import UnknownDimension, cost_ledger

    ctx = open_context(with_app=False)
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
                    "cost_usd": row.cost_usd, "rejected_cost_usd": row.rejected_cost_usd,
                    "all_top_tier_cost_usd": baseline})
    at_top = [item["all_top_tier_cost_usd"] for item in out]
    totals = {
        "jobs": sum(r.jobs for r in rows) if all(d in ("tenant", "user", "feature",
                                                       "query_type") for d in dimensions)
        else None,
        "calls": sum(r.calls for r in rows), "failed_calls": sum(r.failed_calls for r in rows),
        "input_tokens": sum(r.input_tokens for r in rows),
        "output_tokens": sum(r.output_tokens for r in rows),
        "cost_usd": sum((r.cost_usd for r in rows), Decimal(0)),
        "rejected_cost_usd": sum((r.rejected_cost_usd for r in rows), Decimal(0)),
        "all_top_tier_cost_usd": (sum(at_top, Decimal(0)) if out and None not in at_top
                                  else None),
    }
    if as_json:
        click.echo(json_document({"by": dimensions, "batch_id": batch_id,
                                  "since": since.replace(tzinfo=UTC).isoformat() if since
                                  else None, "top_tier_model": top.model,
                                  "rows": out, "totals": totals}))
        return
    console().print(cost_table(dimensions, out, totals, tiers.top, top.model, batch_id))


def cost_table(dimensions: list[str], rows: list[dict[str, Any]], totals: dict[str, Any],
               top_tier: int, top_model: str, batch_id: str | None = None) -> Table:
    """The ledger's groups as a table that fits 80 columns (long group names are cut)."""
    scope = f", batch {batch_id}" if batch_id else ""
    caption = f"total {usd(totals['cost_usd'])}"
    if totals["all_top_tier_cost_usd"] is not None:
        caption += (f", against {usd(totals['all_top_tier_cost_usd'])} had every job gone to "
                    f"tier {top_tier} ({top_model})")
    caption += (f"; {totals['failed_calls']:,} failed call(s); rejected $: spent on answers "
                "that validation refused")
    headers = ["jobs", "calls", "tokens in/out", "cost $", "rejected $", f"tier {top_tier} $"]
    cells = [[f"{item['jobs']:,}", f"{item['calls']:,}",
              f"{_tokens(item['input_tokens'])}/{_tokens(item['output_tokens'])}",
              decimal_text(item["cost_usd"], 4), decimal_text(item["rejected_cost_usd"], 4),
              "-" if item["all_top_tier_cost_usd"] is None
              else decimal_text(item["all_top_tier_cost_usd"], 4)] for item in rows]
    # The numbers keep their width; the group's name gets what is left and is cut with "…".
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(headers)]
    left = WIDTH - sum(widths) - 3 * len(widths) - 3
    view = table(title=f"cost ledger by {', '.join(dimensions)}{scope}", caption=caption)
    view.add_column(" / ".join(dimensions), overflow="ellipsis", no_wrap=True,
                    max_width=max(8, left))
    for name in headers:
        view.add_column(name, justify="right", no_wrap=True)
    for item, numbers in zip(rows, cells, strict=True):
        view.add_row(" / ".join(str(item[d]) for d in dimensions), *numbers)
    return view
