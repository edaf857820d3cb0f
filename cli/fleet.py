"""Commands for producers and watchers: submit, status, results, requeue."""

from __future__ import annotations

import csv
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cli.context import Context, open_context
from jobs.intake import InvalidInput, read_jobs
from jobs.ledger_rollup import refresh as refresh_ledger_rollup
from jobs.quality import quality_report
from jobs.reports import RESULT_COLUMNS, BatchStatus, batch_status, result_rows
from jobs.settings import Settings
from jobs.tables import Job
from jobs.tiers import load_tiers
from tasks.feedback import FeedbackError, give_feedback
from tasks.janitor import janitor_idle_s
from tasks.publish import CeleryPublisher
from tasks.submit import requeue, submit_file
from workers.embedded import embedded_worker

err = Console(stderr=True)


def _load_schema(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"cannot read schema {path}: {exc}") from None
    if not isinstance(schema, dict):
        raise click.BadParameter(f"schema {path} is not a JSON object")
    return schema


def status_table(status: BatchStatus) -> Table:
    table = Table(title=f"batch {status.batch_id or '(all)'}")
    table.add_column("jobs", overflow="fold")
    for name in ("queued", "routed", "running", "validating", "done", "needs_review", "failed"):
        table.add_column(name, overflow="fold")
    table.add_column("cost (USD)", no_wrap=True, min_width=10)
    counts = [str(status.by_status[name]) for name in
              ("queued", "routed", "running", "validating", "done", "needs_review", "failed")]
    table.add_row(str(status.jobs), *counts, f"{status.cost_usd:.4f}")
    tiers = ", ".join(f"tier {t}: {n}" for t, n in sorted(status.finished_by_tier.items()))
    active = ", ".join(f"tier {t}: {n}" for t, n in sorted(status.active_by_tier.items()))
    table.caption = f"finished per tier: {tiers or '-'}  |  in flight: {active or '-'}"
    return table


def wait_for_batch(ctx: Context, batch_id: str, total: int, timeout_s: float) -> BatchStatus:
    """Poll the batch until every job is terminal (or the timeout), with a progress bar."""
    deadline = time.monotonic() + timeout_s
    with Progress(console=err, transient=False) as progress:
        bar = progress.add_task("processing", total=total)
        while True:
            with ctx.db.session() as session:
                status = batch_status(session, batch_id)
            progress.update(bar, completed=status.finished)
            if status.complete or time.monotonic() > deadline:
                return status
            time.sleep(0.25)


@click.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--task", help="task of every document, for a folder of text files")
@click.option("--schema", "schema_path", type=click.Path(exists=True, path_type=Path),
              help="JSON Schema file for a folder of extraction documents")
@click.option("--labels", help="comma-separated labels, for a folder of documents to classify")
@click.option("--wait/--no-wait", default=None,
              help="wait for the batch to finish (default: only in the embedded mode)")
def submit(source: Path, task: str | None, schema_path: Path | None, labels: str | None,
           wait: bool | None) -> None:
    """Submit jobs from a JSONL or CSV file, or a folder of text files; prints the batch id."""
    settings = Settings()
    schema = _load_schema(schema_path)
    label_list = [x.strip() for x in labels.split(",")] if labels else None
    try:
        if settings.database_url is None:
            # The embedded home is created on first use: a bad file must not create it.
            read_jobs(source, task=task, schema=schema, labels=label_list)
        ctx = open_context(settings)
        embedded = ctx.settings.embedded
        with Progress(console=err, transient=True) as progress:
            bar = progress.add_task("submitting", total=None)
            receipt = submit_file(
                ctx.db, source, tiers=load_tiers(ctx.settings.tiers_file), task=task,
                schema=schema, labels=label_list,
                on_progress=lambda stage, n: progress.update(bar, completed=n,
                                                             description=stage),
            )
    except InvalidInput as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        sys.exit(2)
    if receipt.duplicates:
        err.print(f"{receipt.duplicates} job(s) were already submitted and were skipped")
    err.print(f"submitted {len(receipt.job_ids)} job(s)")
    click.echo(receipt.batch_id)
    if not receipt.job_ids:
        return
    if wait if wait is not None else embedded:
        if embedded:
            with embedded_worker(ctx.app):
                status = wait_for_batch(ctx, receipt.batch_id, len(receipt.job_ids), 3600)
        else:
            status = wait_for_batch(ctx, receipt.batch_id, len(receipt.job_ids), 3600)
        err.print(status_table(status))


@click.command()
@click.argument("batch_id", required=False)
@click.option("--watch", is_flag=True, help="refresh until every job is finished")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def status(batch_id: str | None, watch: bool, as_json: bool) -> None:
    """Counts per status and tier, and the cost so far, of a batch (or of every job)."""
    ctx = open_context()
    while True:
        with ctx.db.session() as session:
            current = batch_status(session, batch_id)
        if as_json:
            click.echo(json.dumps(current.as_dict()))
        else:
            Console().print(status_table(current))
        if not watch or current.complete:
            return
        time.sleep(2)


@click.command()
@click.argument("batch_id")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
def results(batch_id: str, fmt: str) -> None:
    """Every job of a batch with its result, as JSONL or CSV on stdout."""
    ctx = open_context()
    with ctx.db.session() as session:
        rows = list(result_rows(session, batch_id))
    if not rows:
        raise click.ClickException(f"no jobs in batch {batch_id}")
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, default=str))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=[*RESULT_COLUMNS, "reason"])
    writer.writeheader()
    for row in rows:
        row["output"] = json.dumps(row["output"]) if row["output"] is not None else ""
        writer.writerow({k: row.get(k) for k in writer.fieldnames})


@click.command(name="requeue")
@click.argument("batch_id", required=False)
@click.option("--idle-for", type=float, default=None,
              help="only jobs untouched for this many seconds (with --every, default: "
                   "derived from the slowest step, see tasks.janitor)")
@click.option("--every", type=float, default=None,
              help="keep sweeping, every this many seconds (the fleet's janitor)")
def requeue_command(batch_id: str | None, idle_for: float | None, every: float | None) -> None:
    """Re-publish the next message of unfinished jobs (after a broker or a worker was lost)."""
    ctx = open_context()
    if idle_for is None and every is not None:
        idle_for = janitor_idle_s(load_tiers(ctx.settings.tiers_file))
    idle = timedelta(seconds=idle_for) if idle_for is not None else None
    while True:
        try:
            count = requeue(ctx.db, batch_id, idle_for=idle)
            refresh_ledger_rollup(ctx.db)  # the sweeper also keeps the reports' rollup current
        except Exception as exc:
            if every is None:
                raise
            # The janitor outlives outages of the database and the broker it sweeps.
            click.echo(f"sweep failed, trying again in {every:g} s: {exc!r}", err=True)
            time.sleep(every)
            continue
        if count or every is None:
            click.echo(f"re-published {count} job(s)")
        if every is None:
            return
        time.sleep(every)


@click.command()
@click.argument("batch_id")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def report(batch_id: str, as_json: bool) -> None:
    """Validation of a batch: pass rates per tier and check, escalations per reason, reviews."""
    ctx = open_context()
    with ctx.db.session() as session:
        quality = quality_report(session, batch_id).as_dict()
    if as_json:
        click.echo(json.dumps(quality))
        return
    console = Console()
    table = Table(title=f"validation of batch {batch_id}")
    for column in ("tier", "validated", "pass rate"):
        table.add_column(column)
    for tier, rate in quality["pass_rate_per_tier"].items():
        table.add_row(tier, str(quality["validated_per_tier"][tier]), f"{rate:.1%}")
    console.print(table)
    reasons = Table(title="rejections per check (each escalated the job, or sent it to review)")
    reasons.add_column("check")
    reasons.add_column("rejections")
    for check, count in quality["escalations_per_reason"].items():
        reasons.add_row(check, str(count))
    console.print(reasons)
    if quality["disagreements_per_check"]:
        doubted = Table(title="disagreements: tiers gave the same answer, the check rejected it "
                              "each time (the check's own error rate, estimated)")
        for column in ("check", "disagreements", "of its rejections"):
            doubted.add_column(column)
        for check, count in quality["disagreements_per_check"].items():
            rate = quality["disagreement_rate_per_check"].get(check)
            doubted.add_row(check, str(count), "" if rate is None else f"{rate:.1%}")
        console.print(doubted)
    console.print(f"{len(quality['needs_review'])} job(s) need review")
    for job in quality["needs_review"]:
        console.print(f"  {job['job_id']}  {job['reason']}", highlight=False)


@click.command()
@click.argument("job_id")
@click.option("--bad", "verdict", flag_value="bad", required=True,
              help="the result is wrong: re-run the job one tier up")
@click.option("--good", "verdict", flag_value="good", help="the result is right")
@click.option("--reason", help="what was wrong, shown to the next tier's model")
def feedback(job_id: str, verdict: str, reason: str | None) -> None:
    """Judge a job's result; a bad one is re-run one tier up, and both results are kept."""
    ctx = open_context()
    try:
        outcome = give_feedback(ctx.db, load_tiers(ctx.settings.tiers_file), CeleryPublisher(),
                                job_id, bad=verdict == "bad", reason=reason)
    except FeedbackError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(outcome.message)
    if outcome.rerun_tier is not None and ctx.settings.embedded:
        # No fleet is listening in the embedded mode: run the re-run here.
        with ctx.db.session() as session:
            batch_id = session.get(Job, job_id).batch_id  # type: ignore[union-attr]
            total = batch_status(session, batch_id).jobs
        with embedded_worker(ctx.app):
            wait_for_batch(ctx, batch_id, total, 600)
