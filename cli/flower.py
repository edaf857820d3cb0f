"""`tierline flower`: Flower on the fleet's broker, with every endpoint behind its login.

Flower answers `/metrics` and `/healthcheck` without credentials even when basic auth is on;
here they ask for the same credentials as the rest. Without credentials Flower may only listen
on the loopback interface.
"""

from __future__ import annotations

import os
from typing import Any

import click

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_GUARDED: set[Any] = set()


def require_login_everywhere() -> None:
    """Put Flower's metrics and health check behind the login its other pages have."""
    from flower.views import monitor
    from tornado.web import authenticated

    for handler in (monitor.Metrics, monitor.Healthcheck):
        if handler.get not in _GUARDED:
            guarded = authenticated(handler.get)
            _GUARDED.add(guarded)
            handler.get = guarded


def _complete(login: str) -> bool:
    return all(user and password for user, _, password in
               (entry.partition(":") for entry in login.split(",")))


@click.command("flower")
@click.option("--port", type=int, default=5555, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True,
              help="interface to listen on (0.0.0.0 in a container, behind a published port)")
@click.option("--basic-auth", "basic_auth", envvar="FLOWER_BASIC_AUTH", default=None,
              help="user:password (default: $FLOWER_BASIC_AUTH)")
@click.option("--max-tasks", type=int, default=100_000, show_default=True,
              help="tasks Flower keeps in memory")
def flower(port: int, address: str, basic_auth: str | None, max_tasks: int) -> None:
    """Flower (the fleet's live task monitor) with its metrics behind the same login."""
    if basic_auth is not None and not _complete(basic_auth):
        raise click.UsageError("FLOWER_BASIC_AUTH must be user:password with a password "
                               "(is FLOWER_PASSWORD set?)")
    if not basic_auth and address not in LOOPBACK:
        raise click.UsageError(
            f"Flower on {address} needs a login: set FLOWER_BASIC_AUTH=user:password "
            "(or listen on 127.0.0.1)")
    from tierline.config.settings import Settings
    from tierline.workers.celery_app import create_app

    require_login_everywhere()
    app = create_app(Settings())
    argv = ["flower", f"--port={port}", f"--address={address}", f"--max_tasks={max_tasks}"]
    if basic_auth:
        # Through the environment, so the password is not on the process's command line.
        os.environ["FLOWER_BASIC_AUTH"] = basic_auth
    app.start(argv)
