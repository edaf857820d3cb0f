"""`tierline budgets`: each spend budget of the routing policy against the ledger."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from pydantic import ValidationError
from rich.markup import escape

from tierline.cli import render
from tierline.cli.context import open_context
from tierline.persistence.tables import utcnow
from tierline.reports.budgets import ledger_spend
from tierline.routing.budget import BudgetState, BudgetStatus, period_start, usd
from tierline.routing.policy import DEFAULT_POLICY_FILE, load_policy

_STYLE = {BudgetState.OK: "green", BudgetState.CAPPED: "yellow", BudgetState.EXHAUSTED: "red"}


@click.command("budgets")
@click.option("--json", "as_json", is_flag=True,
              help="print one JSON document: the budgets and the policy file")
def budgets(as_json: bool) -> None:
    """Each budget's spend this period, its limit, and whether it caps or stops new jobs."""
    ctx = open_context(with_app=False)
    source = ctx.settings.routing_policy_file or DEFAULT_POLICY_FILE
    try:
        policy = load_policy(source)
    except ValidationError as exc:
        raise click.ClickException(f"{source}: {exc}") from None
    now = utcnow()
    with ctx.db.session() as session:
        statuses = [BudgetStatus(b, ledger_spend(session, b.tenant, b.feature,
                                                 period_start(b.period, now)))
                    for b in policy.budgets]
    if as_json:
        click.echo(json.dumps({"policy_file": str(source),
                               "budgets": [_as_dict(status, now) for status in statuses]}))
        return
    if not statuses:
        click.echo(f"no budgets in {source}")
        return
    table = render.table(title="spend budgets", caption=escape(f"from {source}"))
    for column in ("tenant", "feature"):
        table.add_column(column, overflow="ellipsis", no_wrap=True, min_width=6)
    for column in ("period", "since", "spent", "limit", "share"):
        table.add_column(column, no_wrap=True)
    table.add_column("state")
    for status in statuses:
        budget, state = status.budget, status.state
        at = f" at tier {budget.soft_max_tier}" if state is BudgetState.CAPPED else ""
        # Patterns such as "[ab]cme" are globs, not rich markup.
        table.add_row(escape(budget.tenant), escape(budget.feature), budget.period,
                      f"{period_start(budget.period, now):%Y-%m-%d}",
                      usd(status.spent_usd), usd(budget.limit_usd), f"{status.share:.0%}",
                      f"[{_STYLE[state]}]{state.value}{at}[/]")
    render.console().print(table)


def _as_dict(status: BudgetStatus, now: datetime) -> dict[str, Any]:
    budget = status.budget
    return {"tenant": budget.tenant, "feature": budget.feature, "period": budget.period,
            "period_start": period_start(budget.period, now).isoformat(),
            "spent_usd": float(status.spent_usd), "limit_usd": float(budget.limit_usd),
            "share": round(status.share, 4), "state": status.state.value,
            "soft_fraction": float(budget.soft_fraction), "soft_max_tier": budget.soft_max_tier}
