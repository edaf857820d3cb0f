"""The fleet end to end: real Celery worker processes for all five queues, Redis, PostgreSQL,
and the simulator over HTTP, driven through the `tierline` command as a producer would."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.e2e.fleet import Fleet, running_fleet
from tests.e2e.whereabouts import describe_open_jobs
from tierline.jobs.models import TERMINAL_STATUSES, JobStatus
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result, ResultHistory
from tierline.simulator.sample import generate

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

JOBS = 200


def wait_until_finished(db: Database, fleet: Fleet, batch_id: str, timeout_s: float) -> None:
    terminal = [s.value for s in TERMINAL_STATUSES]
    open_statuses = [s.value for s in JobStatus if s not in TERMINAL_STATUSES]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with db.session() as session:
            open_jobs = session.scalar(
                select(func.count()).where(Job.batch_id == batch_id, Job.status.not_in(terminal))
            )
        if open_jobs == 0:
            return
        time.sleep(1)
    why = describe_open_jobs(db, fleet.env["TIERLINE_BROKER_URL"], batch_id, open_statuses)
    pytest.fail(f"{open_jobs} jobs unfinished after {timeout_s} s\n{why}\n{fleet.logs()}")


def thread_scheduling(pid: int) -> set[tuple[int, int]]:
    """The (scheduling policy, niceness) pairs of a process's threads."""
    tids = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    return {(os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)) for tid in tids}


def write_sample(path: Path, n: int, seed: int) -> Path:
    path.write_text("\n".join(json.dumps(job) for job in generate(n, seed)) + "\n")
    return path


def test_fleet_processes_sample_batch_to_terminal_states(
    migrated_pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", JOBS, seed=11)
    with running_fleet(migrated_pg_url, redis_url, tmp_path) as fleet:
        submitted = fleet.tierline("submit", str(jobs_file))
        assert submitted.returncode == 0, submitted.stderr
        batch_id = submitted.stdout.strip().splitlines()[-1]
        wait_until_finished(db, fleet, batch_id, timeout_s=240)
        # Every thread of a bulk worker gives way to the route worker's (workers.scheduling).
        scheduling = {name: thread_scheduling(fleet.processes[name].pid)
                      for name in ("route", "tier1", "validate")}
        status = json.loads(fleet.tierline("status", batch_id, "--json").stdout)
        exported = fleet.tierline("results", batch_id, "--format", "csv")
        report = json.loads(fleet.tierline("report", batch_id, "--json").stdout)
        # A person marks a tier-1 answer wrong: the fleet re-runs it on tier 2.
        with db.session() as session:
            judged = session.scalars(select(Result).where(Result.batch_id == batch_id,
                                                          Result.tier == 1)).first()
            assert judged is not None
        said = fleet.tierline("feedback", judged.job_id, "--bad", "--reason", "wrong total")
        assert said.returncode == 0 and "re-running on tier 2" in said.stdout, said.stderr
        wait_until_finished(db, fleet, batch_id, timeout_s=60)

    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.batch_id == batch_id)).all()
        results = {r.job_id: r for r in session.scalars(select(Result))}
        ledger: dict[str, Decimal] = {}
        tiers: dict[str, set[int]] = {}
        for attempt in session.scalars(select(Attempt)):
            ledger[attempt.job_id] = ledger.get(attempt.job_id, Decimal(0)) + Decimal(attempt.cost_usd)
            if attempt.outcome == "ok":
                tiers.setdefault(attempt.job_id, set()).add(attempt.tier)

    assert len(jobs) == JOBS
    assert scheduling["route"] == {(os.SCHED_OTHER, os.getpriority(os.PRIO_PROCESS, 0))}
    assert scheduling["tier1"] == scheduling["validate"] == {
        (os.SCHED_BATCH, max(10, os.getpriority(os.PRIO_PROCESS, 0)))}, scheduling
    assert all(job.status in {s.value for s in TERMINAL_STATUSES} for job in jobs)
    assert all(job.status_reason for job in jobs if job.status != "done")
    done = [job for job in jobs if job.status == "done"]
    assert len(done) > JOBS * 0.9
    # Exactly one result per finished job (the primary key guarantees no more than one).
    # Done is validated, or accepted with the flag when tiers agreed against a check.
    assert all(job.id in results and (results[job.id].validated or (
        job.status_reason or "").startswith("validator disagreement")) for job in done)
    for job_id, result in results.items():
        assert Decimal(result.total_cost_usd) == ledger[job_id], job_id
    escalated = [job_id for job_id, seen in tiers.items() if len(seen) > 1]
    assert escalated, "some jobs should have escalated past tier 1"
    assert status["jobs"] == JOBS and status["done"] == len(done)
    assert exported.returncode == 0 and len(exported.stdout.strip().splitlines()) == JOBS + 1
    assert report["pass_rate_per_tier"]["1"] < 1.0 and report["escalations_per_reason"]
    with db.session() as session:
        rerun = session.get(Result, judged.job_id)
        history = session.scalars(select(ResultHistory)).all()
    assert rerun is not None and rerun.tier >= 2
    assert [(h.job_id, h.tier) for h in history] == [(judged.job_id, 1)]
    db.dispose()
