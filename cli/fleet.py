"""Commands for producers and watchers: submit, status, results, requeue, feedback."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tierline.cli.errors import EXIT_ERROR, EXIT_USAGE
from tierline.cli.render import console, json_document, status_tables

if TYPE_CHECKING:
    from tierline.cli.context import Context
    from tierline.reports.batch import BatchStatus


def _load_schema(path: Path | None) -> dict[str, Any] | None:
    import json

    if path is None:
        return None
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"cannot read schema {path}: {exc}") from None
    if not isinstance(schema, dict):
        raise click.BadParameter(f"schema {path} is not a JSON object")
    return schema


def read_batch_status(ctx: Context, batch_id: str | None) -> BatchStatus:
    from tierline.reports.batch import batch_status

    with ctx.db.session() as session:
        return batch_status(session, batch_id)


def wait_for_batch(ctx: Context, batch_id: str, total: int, timeout_s: float) -> BatchStatus:
    """Poll the batch until every job is terminal (or the timeout), with a progress bar."""
    from rich.progress import Progress

    deadline = time.monotonic() + timeout_s
    with Progress(console=console(stderr=True), transient=False) as progress:
        bar = progress.add_task("processing", total=total)
        while True:
            status = read_batch_status(ctx, batch_id)
            progress.update(bar, completed=status.finished)
            if status.complete or time.monotonic() > deadline:
                return status
            time.sleep(0.25)


def _refuse(message: str) -> None:
    console(stderr=True).print(f"[red]{message}[/red]", highlight=False, markup=True,
                               soft_wrap=True)
    sys.exit(EXIT_USAGE)


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
    """Submit jobs from a JSONL or CSV file, or a folder of text files; prints the batch id.

    A file with any bad job (an unknown task, an invalid schema, a document larger than every
    tier's context window...) is refused whole, each problem with its line."""
    from rich.markup import escape
    from rich.progress import Progress

    from tierline.cli.context import open_context
    from tierline.config.settings import Settings
    from tierline.config.tiers import load_tiers
    from tierline.jobs.intake import InvalidInput, read_jobs
    from tierline.tasks.submit import submit_file

    settings = Settings()
    schema = _load_schema(schema_path)
    label_list = [x.strip() for x in labels.split(",")] if labels else None
    err = console(stderr=True)
    try:
        if settings.database_url is None:
            # The embedded home is created on first use: a bad file must not create it.
            read_jobs(source, task=task, schema=schema, labels=label_list)
        ctx = open_context(settings)
        with Progress(console=err, transient=True) as progress:
            bar = progress.add_task("submitting", total=None)
            receipt = submit_file(
                ctx.db, source, tiers=load_tiers(ctx.settings.tiers_file), task=task,
                schema=schema, labels=label_list,
                on_progress=lambda stage, n: progress.update(bar, completed=n,
                                                             description=stage),
            )
    except InvalidInput as exc:
        _refuse(escape(str(exc)))
    if not receipt.job_ids:
        err.print(f"no new job: all {receipt.duplicates} job(s) of {source} were already "
                  "submitted; no batch was made", highlight=False)
        return
    if receipt.duplicates:
        err.print(f"{receipt.duplicates} job(s) were already submitted and were skipped",
                  highlight=False)
    err.print(f"submitted {len(receipt.job_ids)} job(s)", highlight=False)
    click.echo(receipt.batch_id)
    if wait if wait is not None else ctx.settings.embedded:
        if ctx.settings.embedded:
            from tierline.cli.stand_in import install_simulator
            from tierline.workers.embedded import embedded_worker

            install_simulator(ctx.settings)
            with embedded_worker(ctx.app):
                status = wait_for_batch(ctx, receipt.batch_id, len(receipt.job_ids), 3600)
        else:
            status = wait_for_batch(ctx, receipt.batch_id, len(receipt.job_ids), 3600)
        for part in status_tables(status.as_dict()):
            err.print(part)


def _unknown_batch(batch_id: str) -> None:
    click.echo(f"tierline: no batch {batch_id}", err=True)
    sys.exit(EXIT_ERROR)


@click.command()
@click.argument("batch_id", required=False)
@click.option("--watch", is_flag=True, help="redraw in place until every job is finished")
@click.option("--every", type=click.FloatRange(min=0.2), default=2.0, show_default=True,
              help="seconds between redraws with --watch")
@click.option("--json", "as_json", is_flag=True,
              help="print one JSON document (with --watch: once the batch is finished)")
def status(batch_id: str | None, watch: bool, every: float, as_json: bool) -> None:
    """Counts per status and tier, and the cost so far, of a batch (or of every job)."""
    from tierline.cli.context import open_context

    ctx = open_context(with_app=False)
    current = read_batch_status(ctx, batch_id)
    if batch_id is not None and current.jobs == 0:
        _unknown_batch(batch_id)
    if watch and not current.complete:
        # The live view stays on screen, showing the final state, unless JSON follows it.
        current = _watch(ctx, batch_id, current, every, quiet=as_json)
    elif not as_json:
        out = console()
        for part in status_tables(current.as_dict()):
            out.print(part)
    if as_json:
        click.echo(json_document({**current.as_dict(), "complete": current.complete}))


def _watch(ctx: Context, batch_id: str | None, current: BatchStatus, every: float,
           quiet: bool) -> BatchStatus:
    """Redraw the status in place until the batch is terminal (Ctrl-C stops watching)."""
    from rich.console import Group
    from rich.live import Live

    def view(status: BatchStatus) -> Group:
        return Group(*status_tables(status.as_dict()))

    out = console(stderr=quiet)
    try:
        with Live(view(current), console=out, auto_refresh=False,
                  transient=quiet) as live:
            while not current.complete:
                time.sleep(every)
                current = read_batch_status(ctx, batch_id)
                live.update(view(current), refresh=True)
    except KeyboardInterrupt:
        pass
    return current


@click.command()
@click.argument("batch_id")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
def results(batch_id: str, fmt: str) -> None:
    """Every job of a batch with its result, as JSONL or CSV on stdout (money as decimals)."""
    import csv
    import json

    from tierline.cli.context import open_context
    from tierline.cli.render import decimal_text
    from tierline.reports.batch import RESULT_COLUMNS, result_rows

    ctx = open_context(with_app=False)
    with ctx.db.session() as session:
        rows = list(result_rows(session, batch_id))
    if not rows:
        _unknown_batch(batch_id)
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, default=str))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=[*RESULT_COLUMNS, "reason"])
    writer.writeheader()
    for row in rows:
        row["output"] = json.dumps(row["output"]) if row["output"] is not None else ""
        row["total_cost_usd"] = decimal_text(row["total_cost_usd"])
        writer.writerow({k: row.get(k) for k in writer.fieldnames})


@click.command(name="requeue")
@click.argument("batch_id", required=False)
@click.option("--idle-for", type=float, default=None,
              help="only jobs untouched for this many seconds (with --every, default: "
                   "derived from the slowest step, see tierline.tasks.janitor)")
@click.option("--every", type=float, default=None,
              help="keep sweeping, every this many seconds (the fleet's janitor)")
def requeue_command(batch_id: str | None, idle_for: float | None, every: float | None) -> None:
    """Re-publish the next message of unfinished jobs (after a broker or a worker was lost)."""
    from datetime import timedelta

    from tierline.cli.context import open_context
    from tierline.config.tiers import load_tiers
    from tierline.persistence.ledger_rollup import refresh as refresh_ledger_rollup
    from tierline.tasks.janitor import janitor_idle_s
    from tierline.tasks.submit import requeue

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
@click.argument("job_id")
@click.option("--bad", "verdict", flag_value="bad", required=True,
              help="the result is wrong: re-run the job one tier up")
@click.option("--good", "verdict", flag_value="good", help="the result is right")
@click.option("--reason", help="what was wrong, shown to the next tier's model")
def feedback(job_id: str, verdict: str, reason: str | None) -> None:
    """Judge a job's result; a bad one is re-run one tier up, and both results are kept."""
    from tierline.cli.context import open_context
    from tierline.config.tiers import load_tiers
    from tierline.persistence.tables import Job
    from tierline.tasks.feedback import FeedbackError, give_feedback
    from tierline.tasks.publish import CeleryPublisher

    ctx = open_context()
    try:
        outcome = give_feedback(ctx.db, load_tiers(ctx.settings.tiers_file), CeleryPublisher(),
                                job_id, bad=verdict == "bad", reason=reason)
    except FeedbackError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(outcome.message)
    if outcome.rerun_tier is not None and ctx.settings.embedded:
        from tierline.cli.stand_in import install_simulator
        from tierline.workers.embedded import embedded_worker

        install_simulator(ctx.settings)
        # No fleet is listening in the embedded mode: run the re-run here.
        with ctx.db.session() as session:
            batch_id = session.get(Job, job_id).batch_id  # type: ignore[union-attr]
        total = read_batch_status(ctx, batch_id).jobs
        with embedded_worker(ctx.app):
            wait_for_batch(ctx, batch_id, total, 600)
