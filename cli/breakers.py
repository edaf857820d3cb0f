"""`tierline breakers`: the circuit breaker of every endpoint, as the fleet's workers see it."""

from __future__ import annotations

import json
import time

import click

from tierline.config.settings import Settings
from tierline.config.tiers import load_tiers
from tierline.routing.breaker import CLOSED, describe
from tierline.tasks.breaker_store import RedisBreakers
from tierline.tasks.runtime import build_breakers


@click.command("breakers")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def breakers(as_json: bool) -> None:
    """Each endpoint's circuit breaker: closed, open (and for how long), or half-open."""
    settings = Settings()
    tiers = load_tiers(settings.tiers_file)
    store = build_breakers(settings, tiers)
    shared = isinstance(store, RedisBreakers)
    states, now = store.states(), time.time()
    store.close()
    rows = [{"tier": tier.tier, "endpoint": e.label,
             "state": describe(states.get(e.label, CLOSED), store.policy, now)}
            for tier in tiers.tiers for e in tier.endpoints]
    if as_json:
        click.echo(json.dumps({"shared": shared, "endpoints": rows}))
        return
    if not shared:
        click.echo("No Redis broker: each worker process keeps its own breakers, so there is "
                   "no fleet-wide state to show.")
        return
    from tierline.cli import render

    view = render.table(title="circuit breakers, as the fleet sees them")
    view.add_column("tier", no_wrap=True)
    view.add_column("endpoint", overflow="ellipsis", no_wrap=True)
    view.add_column("state")
    for row in rows:
        view.add_row(str(row["tier"]), str(row["endpoint"]), str(row["state"]))
    render.console().print(view)
