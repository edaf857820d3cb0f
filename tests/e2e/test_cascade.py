"""The cascade through real workers: answers that give up are escalated tier by tier, with the
reason, and the top tier giving up too ends the job in review with every output kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.chaos.test_fleet_chaos import _set_faults
from tests.e2e.fleet import running_fleet
from tests.e2e.test_fleet import wait_until_finished, write_sample
from tierline.config.tiers import load_tiers
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _give_up(models: list[str]) -> dict[str, object]:
    return {model: {"give_up": 1.0} for model in models}


def test_give_ups_climb_to_tier3_then_to_review(migrated_pg_url: str, redis_url: str,
                                                tmp_path: Path) -> None:
    tiers = load_tiers()
    cheap = [e.model for t in (1, 2) for e in tiers.get(t).endpoints]
    top = [e.model for e in tiers.get(3).endpoints]
    db = Database(migrated_pg_url)
    with running_fleet(migrated_pg_url, redis_url, tmp_path) as fleet:
        simulator = fleet.env["TIERLINE_SIMULATOR_URL"]
        _set_faults(simulator, _give_up(cheap))
        first = write_sample(tmp_path / "first.jsonl", 30, seed=31)
        batch = fleet.tierline("submit", str(first)).stdout.strip().splitlines()[-1]
        wait_until_finished(db, fleet, batch, timeout_s=180)
        _set_faults(simulator, _give_up(top))
        second = tmp_path / "second.jsonl"
        second.write_text("\n".join(
            json.dumps({**job, "key": f"review-{i}"})
            for i, job in enumerate(json.loads(line) for line in first.read_text().splitlines()[:8])
        ))
        review_batch = fleet.tierline("submit", str(second)).stdout.strip().splitlines()[-1]
        wait_until_finished(db, fleet, review_batch, timeout_s=180)

    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.batch_id == batch)).all()
        attempts = session.scalars(select(Attempt)).all()
        reviewed = session.scalars(select(Job).where(Job.batch_id == review_batch)).all()
        results = {r.job_id: r for r in session.scalars(select(Result))}
    db.dispose()

    tiers_of: dict[str, list[int]] = {}
    for attempt in attempts:
        if attempt.outcome == "ok":
            tiers_of.setdefault(attempt.job_id, []).append(attempt.tier)
    assert all(job.status == "done" and results[job.id].tier == 3 for job in jobs)
    climbed = [job for job in jobs if tiers_of[job.id][:1] == [1]]
    assert climbed, "some jobs should start on tier 1"
    for job in climbed:
        assert sorted(tiers_of[job.id]) == [1, 2, 3]
    rejected = [a for a in attempts if a.validated is False]
    assert rejected and all(
        any(f["check"] == "refusal" and not f["passed"] for f in a.findings or []) for a in rejected
    )
    assert all(job.status == "needs_review" and "tier 3 failed" in (job.status_reason or "")
               for job in reviewed)
    assert all(results[job.id].validated is False for job in reviewed)
