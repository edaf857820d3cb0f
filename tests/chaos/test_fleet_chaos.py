"""Chaos: a dead endpoint under a real fleet is passed over once its breaker opens. (Killed
workers, outages, malformed answers and poison messages: `test_faults_chaos`.)"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.e2e.fleet import running_fleet
from tests.e2e.test_fleet import wait_until_finished, write_sample
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result

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
