"""`tierline metrics serve`: the fleet-wide gauges for Prometheus (see tasks.fleet_metrics)."""

from __future__ import annotations

import time

import click


@click.group()
def metrics() -> None:
    """The fleet-wide Prometheus exporter (each worker also serves its own metrics)."""


@metrics.command("serve")
@click.option("--port", type=int, default=9100, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
def serve(port: int, address: str) -> None:
    """Serve jobs per status and tier, queue depths and breaker states on /metrics."""
    import redis
    from prometheus_client import CollectorRegistry, start_http_server
    from sqlalchemy import func, select

    from tierline.cli.errors import mask_url
    from tierline.config.settings import Settings
    from tierline.config.tiers import load_tiers
    from tierline.persistence.db import Database
    from tierline.persistence.tables import Job
    from tierline.routing.breaker import BreakerPolicy, BreakerState
    from tierline.tasks.fleet_metrics import FleetCollector
    from tierline.tasks.queues import ALL_QUEUES
    from tierline.tasks.runtime import build_breakers

    settings = Settings()
    tiers = load_tiers(settings.tiers_file)
    db = Database(settings.effective_database_url)
    breakers = build_breakers(settings, tiers)
    broker = (redis.Redis.from_url(settings.broker_url, socket_timeout=2)
              if settings.broker_url else None)

    def job_counts() -> list[tuple[str, int | None, int]]:
        with db.session() as session:
            rows = session.execute(select(Job.status, Job.current_tier, func.count())
                                   .group_by(Job.status, Job.current_tier))
            return [(status, tier, count) for status, tier, count in rows]

    def queue_depths() -> list[tuple[str, int]]:
        if broker is None:
            return []
        return [(queue, int(broker.llen(queue))) for queue in ALL_QUEUES]

    def breaker_states() -> tuple[BreakerPolicy, dict[str, BreakerState]]:
        return breakers.policy, breakers.states()

    registry = CollectorRegistry()
    endpoints = [(t.tier, e.label) for t in tiers.tiers for e in t.endpoints]
    registry.register(FleetCollector(job_counts, queue_depths, breaker_states, endpoints))
    start_http_server(port, addr=address, registry=registry)
    click.echo(f"fleet metrics on http://{address}:{port}/metrics "
               f"(database {mask_url(settings.effective_database_url)})", err=True)
    while True:
        time.sleep(3600)
