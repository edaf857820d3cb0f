"""`tierline report`: a batch's validation as tables, as JSON, or as a page with pictures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tierline.cli.render import console, json_document, table

if TYPE_CHECKING:
    from tierline.cli.context import Context


@click.command()
@click.argument("batch_id", required=False)
@click.option("--since", type=click.DateTime(), help="every job submitted since (UTC)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="write one self-contained HTML page with charts to this file")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def report(batch_id: str | None, since: datetime | None, out: Path | None,
           as_json: bool) -> None:
    """Validation of a batch: pass rates per tier and check, escalations per reason, reviews.

    With --out, a page people would rather look at than read: the escalation funnel, cost by
    tier and against all-top-tier, failures by check, latency per tier, the slowest and the
    most expensive jobs. --since DATE takes every job submitted since then instead of a batch.
    """
    from tierline.cli.context import open_context

    if batch_id is None and since is None:
        raise click.UsageError("name a batch, or --since DATE")
    ctx = open_context(with_app=False)
    when = since.replace(tzinfo=UTC) if since else None
    if out is not None:
        _write_page(ctx, batch_id, when, out)
        return
    if batch_id is None:
        raise click.UsageError("--since works with --out (the page); name a batch for tables")
    from tierline.reports.quality import quality_report

    with ctx.db.session() as session:
        quality = quality_report(session, batch_id).as_dict()
    if not quality["validated_per_tier"] and not _batch_exists(ctx, batch_id):
        click.echo(f"tierline: no batch {batch_id}", err=True)
        raise SystemExit(1)
    if as_json:
        click.echo(json_document(quality))
        return
    view = console()
    tiers = table(title=f"validation of batch {batch_id}")
    for column in ("tier", "validated", "pass rate"):
        tiers.add_column(column, no_wrap=True, justify="right" if column != "tier" else "left")
    for tier, rate in quality["pass_rate_per_tier"].items():
        tiers.add_row(tier, f"{quality['validated_per_tier'][tier]:,}", f"{rate:.1%}")
    view.print(tiers)
    reasons = table(title="rejections per check (each escalated its job, or sent it to review)")
    reasons.add_column("check")
    reasons.add_column("rejections", justify="right", no_wrap=True)
    for check, count in quality["escalations_per_reason"].items():
        reasons.add_row(check, f"{count:,}")
    view.print(reasons)
    if quality.get("disagreements_per_check"):
        doubted = table(title="disagreements: tiers gave the same answer, the check rejected "
                              "it each time (the check's own error rate, estimated)")
        doubted.add_column("check")
        doubted.add_column("disagreements", justify="right", no_wrap=True)
        doubted.add_column("of its rejections", justify="right", no_wrap=True)
        for check, count in quality["disagreements_per_check"].items():
            rate = quality["disagreement_rate_per_check"].get(check)
            doubted.add_row(check, f"{count:,}", "" if rate is None else f"{rate:.1%}")
        view.print(doubted)
    view.print(f"{len(quality['needs_review'])} job(s) need review", highlight=False)
    for job in quality["needs_review"]:
        view.print(f"  {job['job_id']}  {job['reason']}", highlight=False, markup=False)


def _batch_exists(ctx: Context, batch_id: str) -> bool:
    from sqlalchemy import select

    from tierline.persistence.tables import Job

    with ctx.db.session() as session:
        return session.scalar(select(Job.id).where(Job.batch_id == batch_id).limit(1)) is not None


def _write_page(ctx: Context, batch_id: str | None, since: datetime | None, out: Path) -> None:
    from tierline.cli.report_html import render
    from tierline.config.tiers import load_tiers
    from tierline.reports.page import load_report

    tiers = load_tiers(ctx.settings.tiers_file)
    top = tiers.get(tiers.top).primary
    with ctx.db.session() as session:
        data = load_report(session, batch_id, since, tiers.top, top.model,
                           (top.price_in, top.price_out))
    if data.jobs == 0:
        click.echo(f"tierline: no jobs in {data.scope}", err=True)
        raise SystemExit(1)
    out.write_text(render(data), encoding="utf-8")
    click.echo(f"wrote {out} ({data.jobs:,} jobs of {data.scope})", err=True)
