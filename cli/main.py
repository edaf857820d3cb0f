"""The `tierline` command: one group, its subcommands registered from their modules."""

from __future__ import annotations

import logging

import click

import migrations
from cli.demo import demo
from cli.fleet import requeue_command, results, status, submit
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


for command in (submit, status, results, requeue_command, demo):
    cli.add_command(command)


def _register_optional() -> None:
    import importlib

    for module, name in (("cli.router", "router"), ("cli.sample", "sample"), ("cli.sim", "sim")):
        try:
            cli.add_command(getattr(importlib.import_module(module), name))
        except ModuleNotFoundError:
            pass


_register_optional()


def main() -> None:
    cli()
