"""The `tierline` command: one group, its subcommands registered from their modules."""

from __future__ import annotations

import logging

import click

import migrations
from cli.breakers import breakers
from cli.budgets import budgets
from cli.costs import costs
from cli.demo import demo
from cli.fleet import feedback, report, requeue_command, results, status, submit
from cli.router import router
from cli.sample import sample
from cli.shadow import shadow
from cli.sim import sim
from jobs.settings import Settings


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="log what the fleet does")
def cli(verbose: bool) -> None:
    """tierline: run LLM jobs on the cheapest model tier that gets them right."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)


@cli.group()
def db() -> None:
    """The database schema."""


@db.command()
def upgrade() -> None:
    """Create or migrate the tables (alembic upgrade head)."""
    settings = Settings()
    migrations.upgrade(settings.effective_database_url)
    click.echo(f"database at head: {settings.effective_database_url}")


for command in (submit, status, results, report, feedback, requeue_command, demo, router,
                sample, sim, breakers, costs, budgets, shadow):
    cli.add_command(command)


def main() -> None:
    cli()
