"""`tierline shadow`: how each shadow candidate does against the pinned model it shadows."""

from __future__ import annotations

import json
from decimal import Decimal

import click
from rich.console import Console
from rich.table import Table

from cli.context import open_context
from jobs.shadow_report import ShadowSummary, shadow_report


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _usd(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def shadow_table(summaries: list[ShadowSummary]) -> Table:
    table = Table(title="shadow tests: candidate vs pinned model on the same live jobs")
    for column in ("tier", "pinned", "candidate", "jobs", "errors", "pass rate cand / pinned",
                   "agree", "latency ms cand / pinned", "USD per 1k jobs cand / pinned"):
        table.add_column(column, overflow="fold")
    for s in summaries:
        table.add_row(
            str(s.tier), s.pinned_model, s.candidate, str(s.jobs), str(s.errors),
            f"{_pct(s.candidate_pass_rate)} / {_pct(s.pinned_pass_rate)}",
            f"{_pct(s.agreement_rate)} of {s.comparable}",
            f"{_ms(s.candidate_latency_ms)} / {_ms(s.pinned_latency_ms)}",
            f"{_usd(s.candidate_cost_per_1k)} / {_usd(s.pinned_cost_per_1k)}",
        )
    return table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def shadow(as_json: bool) -> None:
    """Shadow tests: each candidate's pass rate, agreement, latency and cost against the pinned
    model on the same live jobs, with a verdict."""
    ctx = open_context()
    with ctx.db.session() as session:
        summaries = shadow_report(session)
    spent = sum((s.candidate_cost_usd for s in summaries), Decimal(0))
    if as_json:
        click.echo(json.dumps({"candidates": [s.as_dict() for s in summaries],
                               "experiment_cost_usd": round(float(spent), 6)}))
        return
    console = Console()
    if not summaries:
        console.print("no shadow results yet: name candidates under [[tiers.shadows]] in the "
                      "tiers file (see README, Shadow testing)")
        return
    console.print(shadow_table(summaries))
    for s in summaries:
        console.print(f"tier {s.tier}, {s.candidate}: {s.verdict}", highlight=False)
    console.print(f"experiment cost: ${spent:.4f} (candidates' calls; not in the jobs' ledger)",
                  highlight=False)
