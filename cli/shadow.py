"""`tierline shadow`: how each shadow candidate does against the pinned model it shadows."""

from __future__ import annotations

import json
from decimal import Decimal

import click
from rich.table import Table

from tierline.cli import render
from tierline.cli.context import open_context
from tierline.reports.shadow import ShadowSummary, shadow_report


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _usd(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def shadow_tables(summaries: list[ShadowSummary]) -> list[Table]:
    """One small table per candidate (candidate and pinned side by side), to fit 80 columns."""
    tables = []
    for s in summaries:
        view = render.table(
            title=f"tier {s.tier}: {s.candidate} shadowing {s.pinned_model}",
            caption=f"{s.jobs} job(s), {s.errors} candidate error(s), same answer on "
                    f"{_pct(s.agreement_rate)} of {s.comparable} comparable")
        view.add_column("on the same live jobs", no_wrap=True)
        view.add_column("candidate", justify="right", no_wrap=True)
        view.add_column("pinned", justify="right", no_wrap=True)
        view.add_row("pass rate", _pct(s.candidate_pass_rate), _pct(s.pinned_pass_rate))
        view.add_row("latency (ms)", _ms(s.candidate_latency_ms), _ms(s.pinned_latency_ms))
        view.add_row("USD per 1k jobs", _usd(s.candidate_cost_per_1k),
                     _usd(s.pinned_cost_per_1k))
        tables.append(view)
    return tables


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def shadow(as_json: bool) -> None:
    """Shadow tests: each candidate's pass rate, agreement, latency and cost against the pinned
    model on the same live jobs, with a verdict."""
    ctx = open_context(with_app=False)
    with ctx.db.session() as session:
        summaries = shadow_report(session)
    spent = sum((s.candidate_cost_usd for s in summaries), Decimal(0))
    if as_json:
        click.echo(json.dumps({"candidates": [s.as_dict() for s in summaries],
                               "experiment_cost_usd": round(float(spent), 6)}))
        return
    console = render.console()
    if not summaries:
        console.print("no shadow results yet: name candidates under [[tiers.shadows]] in the "
                      "tiers file (see README, Shadow testing)")
        return
    for view in shadow_tables(summaries):
        console.print(view)
    for s in summaries:
        console.print(f"tier {s.tier}, {s.candidate}: {s.verdict}", highlight=False)
    console.print(f"experiment cost: ${spent:.4f} (candidates' calls; not in the jobs' ledger)",
                  highlight=False)
