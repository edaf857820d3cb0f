"""`tierline sample`: print a deterministic sample workload as JSON lines."""

from __future__ import annotations

import json

import click

from tierline.jobs.sample import generate


@click.command("sample")
@click.option("--n", "n", type=click.IntRange(min=0), default=1000, show_default=True,
              help="How many jobs to print.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Same seed, same jobs; job i depends only on (seed, i).")
def sample(n: int, seed: int) -> None:
    """Print N sample jobs (with their reference answers) as JSONL on stdout."""
    for job in generate(n, seed):
        click.echo(json.dumps(job, ensure_ascii=False, sort_keys=True))
