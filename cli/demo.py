"""`tierline demo`: the whole pipeline in one process, on sample documents mixed with real
agreements (answered by the simulator from their annotations), with no keys."""

from __future__ import annotations

import json
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from tierline.cli.context import open_context
from tierline.cli.fleet import wait_for_batch
from tierline.cli.render import status_tables
from tierline.cli.stand_in import install_simulator
from tierline.config.settings import Settings
from tierline.config.tiers import TIER_COUNT
from tierline.jobs.intake import parse_records
from tierline.providers.pricing import cost_usd
from tierline.reports.batch import answer_tokens, batch_status
from tierline.reports.quality import accepted_on_disagreement, done_per_feature, quality_report
from tierline.simulator import answer_book
from tierline.simulator.agreements import (
    DEFAULT_PATH,
    agreement_answers,
    agreement_jobs,
    read_agreements,
)
from tierline.simulator.sample import generate
from tierline.tasks import runtime
from tierline.tasks.submit import submit_jobs
from tierline.workers.embedded import embedded_worker

err = Console(stderr=True)


def workload(n: int, seed: int, agreements: int, agreements_file: Path) -> list[dict[str, Any]]:
    """`n` sample jobs, then up to `agreements` real agreements (the held-out half), each taught
    to the in-process simulator from its annotation."""
    jobs = list(generate(n, seed))
    if agreements and not agreements_file.exists():
        err.print(f"no agreements: {agreements_file} is missing; sample jobs only")
        return jobs
    rows = read_agreements(agreements_file) if agreements else []
    answers = agreement_answers(rows, agreements)
    for job in agreement_jobs(rows, agreements):
        answer_book.register(job["document"], answers[job["key"]])
        jobs.append(job)
    return jobs


def run_demo(n: int, seed: int, time_scale: float, home: Path, agreements: int = 0,
             agreements_file: Path = DEFAULT_PATH) -> dict[str, Any]:
    settings = Settings(broker_url=None, database_url=None, home=home,
                        simulator=True, simulator_url=None, simulator_time_scale=time_scale)
    ctx = open_context(settings)
    install_simulator(settings)
    jobs = workload(n, seed, agreements, agreements_file)
    specs = parse_records((f"demo job {i}", job) for i, job in enumerate(jobs))
    started = time.perf_counter()
    try:
        with embedded_worker(ctx.app):
            receipt = submit_jobs(ctx.db, specs)
            err.print(f"batch {receipt.batch_id}: {len(receipt.job_ids)} jobs submitted "
                      f"({len(jobs) - n} of them real agreements)")
            status = wait_for_batch(ctx, receipt.batch_id, len(receipt.job_ids), timeout_s=1800)
            elapsed = time.perf_counter() - started
            tiers = runtime.current().tiers  # the runtime closes with the worker
        top = tiers.get(tiers.top).primary
        with ctx.db.session() as session:
            status = batch_status(session, receipt.batch_id)
            tokens = answer_tokens(session, receipt.batch_id)
            quality = quality_report(session, receipt.batch_id).as_dict()
            features = done_per_feature(session, receipt.batch_id)
            flagged = accepted_on_disagreement(session, receipt.batch_id)
        all_top = sum((cost_usd(top, i, o) for i, o in tokens), Decimal(0))
    finally:
        runtime.install_simulator(None)
        ctx.db.dispose()
    for part in status_tables(status.as_dict()):
        err.print(part)
    summary = status.as_dict()
    return {
        "batch_id": receipt.batch_id,
        "jobs": summary["jobs"],
        "done": summary["done"],
        "needs_review": summary["needs_review"],
        "failed": summary["failed"],
        "unfinished": summary["jobs"] - status.finished,
        "per_tier": summary["per_tier"],
        "escalations": summary["escalations"],
        "validation_failures": summary["validation_failures"],
        "cost_usd": round(summary["cost_usd"], 6),
        "all_tier3_cost_usd": round(float(all_top), 6),
        "all_tier3_model": top.model,
        "saving_vs_all_tier3": round(1 - float(summary["cost_usd"]) / float(all_top), 4)
        if all_top else 0.0,
        "agreements": len(jobs) - n,
        "per_feature": features,
        "disagreements_per_check": quality["disagreements_per_check"],
        "done_on_disagreement": flagged,
        "seconds": round(elapsed, 2),
    }


def print_summary(result: dict[str, Any]) -> None:
    baseline = result["all_tier3_cost_usd"]
    saving = 1 - result["cost_usd"] / baseline if baseline else 0.0
    tiers = ", ".join(f"tier {t}: {n}" for t, n in result["per_tier"].items())
    err.print(
        f"\n{result['jobs']} jobs in {result['seconds']} s: {result['done']} done, "
        f"{result['needs_review']} need review, {result['failed']} failed\n"
        f"finished per tier: {tiers}\n"
        f"escalations: {result['escalations']} jobs, validation failures: "
        f"{result['validation_failures']}\n"
        f"cost: ${result['cost_usd']:.4f}, against ${baseline:.4f} had every job gone to "
        f"tier {TIER_COUNT} ({result['all_tier3_model']}): {saving:.0%} saved",
        highlight=False,
    )
    for feature, counts in result.get("per_feature", {}).items():
        err.print(f"  {feature}: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
                  highlight=False)
    if result.get("disagreements_per_check"):
        err.print(f"{result['done_on_disagreement']} of the done jobs were accepted with the "
                  "flag: their tiers agreed against a check (" + ", ".join(
                      f"{c} {k}" for c, k in result["disagreements_per_check"].items()) + ")",
                  highlight=False)


@click.command()
@click.option("--n", default=300, show_default=True, help="how many sample jobs")
@click.option("--seed", default=7, show_default=True)
@click.option("--time-scale", default=0.05, show_default=True,
              help="simulated model latency multiplier (1.0 = realistic)")
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="folder for the SQLite file and the broker (default: a fresh temporary one)")
@click.option("--agreements", default=60, show_default=True,
              help="real agreements mixed in (the held-out half of --agreements-file)")
@click.option("--agreements-file", type=click.Path(path_type=Path), default=DEFAULT_PATH,
              show_default=True, help="Kleister NDA JSON lines")
@click.option("--json", "as_json", is_flag=True, help="end with one JSON line of figures")
def demo(n: int, seed: int, time_scale: float, home: Path | None, agreements: int,
         agreements_file: Path, as_json: bool) -> None:
    """Run the whole pipeline in this process on sample documents and real agreements: no
    keys, no servers."""
    folder = home or Path(tempfile.mkdtemp(prefix="tierline-demo-"))
    result = run_demo(n, seed, time_scale, folder, agreements, agreements_file)
    print_summary(result)
    err.print(f"results table: {folder / 'tierline.db'} (table results)")
    if as_json:
        click.echo(json.dumps(result))
