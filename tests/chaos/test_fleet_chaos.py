"""Chaos: workers killed mid-batch and providers failing, and still every job ends in a terminal
state with exactly one result per finished job."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.db import Database
from jobs.tables import Attempt, Job, Result
from tests.e2e.fleet import free_port, running_fleet
from tests.e2e.test_fleet import wait_until_finished, write_sample

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _set_faults(simulator_url: str, faults: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"{simulator_url}/_sim/faults", data=json.dumps({"faults": faults}).encode(),
        headers={"content-type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def batch_outcome(db: Database, batch_id: str) -> tuple[dict[str, int], int, int]:
    """Jobs per status, result rows, and jobs not done whose status gives no reason."""
    with db.session() as session:
        statuses = dict(session.execute(
            select(Job.status, func.count()).where(Job.batch_id == batch_id).group_by(Job.status)
        ).all())
        results = session.scalar(select(func.count()).select_from(Result)) or 0
        unexplained = session.scalar(select(func.count()).where(
            Job.status != "done", Job.status_reason.is_(None))) or 0
    return statuses, results, unexplained


def test_killed_workers_and_failing_providers_lose_no_job(
    migrated_pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", 120, seed=5)
    # Slow enough that kills land while calls are in flight.
    with running_fleet(migrated_pg_url, redis_url, tmp_path, time_scale=0.5) as fleet:
        # A killed worker's unacknowledged messages come back only after Redis's visibility
        # timeout (an hour); the janitor re-sends what its job's state calls for much sooner.
        fleet.start_janitor(idle_for_s=15, every_s=3)
        simulator = fleet.env["TIERLINE_SIMULATOR_URL"]
        _set_faults(simulator, {
            "llama-3.1-8b-instant": {"rate_limit": 0.2, "server_error": 0.1, "retry_after_s": 0.2},
            "claude-3-5-haiku-20241022": {"overloaded": 0.3},
        })
        submitted = fleet.tierline("submit", str(jobs_file))
        assert submitted.returncode == 0, submitted.stderr
        batch_id = submitted.stdout.strip().splitlines()[-1]
        for victim in ("tier1", "tier2", "validate", "tier3"):
            time.sleep(3)
            fleet.kill_worker(victim)  # SIGKILL: no chance to ack or clean up
            time.sleep(0.5)
            fleet.start_worker(victim)
        wait_until_finished(db, fleet, batch_id, timeout_s=420)

    statuses, results, unexplained = batch_outcome(db, batch_id)
    with db.session() as session:
        failed_calls = session.scalar(select(func.count()).where(Attempt.outcome != "ok")) or 0
    db.dispose()
    done = statuses.get("done", 0)
    assert sum(statuses.values()) == 120
    assert set(statuses) <= {"done", "needs_review", "failed"}
    assert results >= done > 100
    assert failed_calls > 0, "the injected faults should show in the ledger"
    assert unexplained == 0


def test_a_dead_endpoint_is_passed_over_once_its_breaker_opens(
    migrated_pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", 80, seed=9)
    with running_fleet(migrated_pg_url, redis_url, tmp_path) as fleet:
        _set_faults(fleet.env["TIERLINE_SIMULATOR_URL"],
                    {"llama-3.1-8b-instant": {"server_error": 1.0}})
        submitted = fleet.tierline("submit", str(jobs_file))
        assert submitted.returncode == 0, submitted.stderr
        batch_id = submitted.stdout.strip().splitlines()[-1]
        wait_until_finished(db, fleet, batch_id, timeout_s=240)
        shown = json.loads(fleet.tierline("breakers", "--json").stdout)

    with db.session() as session:
        calls = dict(session.execute(
            select(Attempt.provider, func.count()).where(Attempt.tier == 1)
            .group_by(Attempt.provider)).all())
        groq_outcomes = set(session.scalars(
            select(Attempt.outcome).where(Attempt.provider == "groq")).all())
        tier1_jobs = session.scalar(select(func.count(func.distinct(Attempt.job_id)))
                                    .where(Attempt.tier == 1)) or 0
        statuses = set(session.scalars(select(Job.status).where(Job.batch_id == batch_id)))
    db.dispose()
    assert statuses <= {"done", "needs_review"}
    assert groq_outcomes == {"ServerError"}
    # Every tier-1 job was answered by the fallback host, but the dead host stopped being
    # called: at most the calls in flight when its breaker opened (one drain flush), and probes.
    assert calls["together"] >= tier1_jobs > 0
    assert calls["groq"] < tier1_jobs
    groq = next(e for e in shown["endpoints"] if e["endpoint"] == "groq:llama-3.1-8b-instant")
    assert shown["shared"] and groq["state"].startswith(("open", "half-open"))


@contextmanager
def private_redis(log_dir: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A Redis of this test's own (keeping nothing on disk, like the machine's), so that it can
    be killed and restarted without touching anything else; yields its URL and a restarter."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no"]
    log = open(log_dir / "redis.log", "ab")  # noqa: SIM115 - closed below
    processes = [subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)]

    def wait_up() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def restart() -> None:
        processes[-1].kill()  # SIGKILL: every queued and unacknowledged message is gone
        processes[-1].wait(10)
        time.sleep(1)
        processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        wait_up()

    wait_up()
    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        processes[-1].kill()
        processes[-1].wait(10)
        log.close()


def test_a_redis_restart_mid_batch_loses_no_job(
    migrated_pg_url: str, tmp_path: Path
) -> None:
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", 80, seed=13)
    with private_redis(tmp_path) as (broker_url, restart), \
            running_fleet(migrated_pg_url, broker_url, tmp_path, time_scale=0.3) as fleet:
        fleet.start_janitor(idle_for_s=5, every_s=2)
        submitted = fleet.tierline("submit", str(jobs_file))
        assert submitted.returncode == 0, submitted.stderr
        batch_id = submitted.stdout.strip().splitlines()[-1]
        time.sleep(3)
        restart()
        wait_until_finished(db, fleet, batch_id, timeout_s=300)

    statuses, results, unexplained = batch_outcome(db, batch_id)
    db.dispose()
    done = statuses.get("done", 0)
    assert sum(statuses.values()) == 80
    assert set(statuses) <= {"done", "needs_review", "failed"}
    assert results == done > 60
    assert unexplained == 0
