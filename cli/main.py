"""The `tierline` command: one group whose subcommands are imported only when they run.

`tierline --help` lists the commands from the table below without importing any of them, so it
starts in a fraction of a second; a command pulls in SQLAlchemy, Celery or numpy only when it
needs them.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from tierline.cli.errors import EXIT_UNREACHABLE

# name: (module:attribute, the one-line help shown by `tierline --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "submit": ("tierline.cli.fleet:submit",
               "Submit jobs from a file or folder; prints the batch id."),
    "status": ("tierline.cli.fleet:status", "Counts per status and tier, and the cost so far."),
    "results": ("tierline.cli.fleet:results", "Every job of a batch with its result (JSONL, CSV)."),
    "report": ("tierline.cli.report:report",
               "A batch's validation, or a page with pictures (--out)."),
    "feedback": ("tierline.cli.fleet:feedback",
                 "Judge a job's result; a bad one re-runs a tier up."),
    "requeue": ("tierline.cli.fleet:requeue_command",
                "Re-send the next message of unfinished jobs."),
    "costs": ("tierline.cli.costs:costs", "Spend per group from the ledger, against all-top-tier."),
    "budgets": ("tierline.cli.budgets:budgets", "Each spend budget: spent, limit, share, state."),
    "breakers": ("tierline.cli.breakers:breakers", "Each endpoint's circuit breaker."),
    "shadow": ("tierline.cli.shadow:shadow", "Shadow candidates against the pinned models."),
    "demo": ("tierline.cli.demo:demo", "The whole pipeline in this process: no keys, no servers."),
    "sample": ("tierline.simulator.cli:sample", "Print a deterministic sample workload as JSONL."),
    "router": ("tierline.cli.router:router", "Train the router's model, evaluate it."),
    "sim": ("tierline.simulator.cli:sim", "The built-in LLM API simulator."),
    "db": ("tierline.cli.dbcmd:db", "The database: create it, migrate its tables."),
    "flower": ("tierline.cli.flower:flower", "Flower, the live task monitor, behind a login."),
    "metrics": ("tierline.cli.metrics:metrics", "The fleet-wide Prometheus exporter."),
}


# The simulator's server libraries: an install without the `sim` extra has neither.
SIM_EXTRA = frozenset({"starlette", "uvicorn"})


class LazyGroup(click.Group):
    """Subcommands imported on use; the listing comes from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        try:
            command = getattr(importlib.import_module(module), attribute)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in SIM_EXTRA:
                raise
            raise click.ClickException(
                f"`tierline {cmd_name}` runs the simulator, which needs the sim extra "
                f"({exc.name} is missing): pip install 'tierline[sim]'") from None
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            message = _outage(exc)
            if message is None:
                raise
            click.echo(f"tierline: {message}", err=True)
            sys.exit(EXIT_UNREACHABLE)


def _outage(exc: BaseException) -> str | None:
    from tierline.cli.errors import describe_outage
    from tierline.config.settings import Settings

    try:
        settings = Settings()
    except Exception:
        return None
    return describe_outage(exc, settings.effective_database_url, settings.broker_url)


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="log what the fleet does")
def cli(verbose: bool) -> None:
    """tierline: run LLM jobs on the cheapest model tier that gets them right."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)


def main() -> None:
    cli()
