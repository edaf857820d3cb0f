"""Chaos: the fleet's promises under each fault, against real Redis, PostgreSQL, worker
processes and the simulator over HTTP. Every scenario ends with every job terminal, exactly one
result per finished job, the ledger equal to the calls the simulator answered, and no terminal
job reopened (see `promises`).

None of these runs the janitor unless the fault loses messages for good (Redis restarted
empty) or the scenario is about its re-sends (or guards against a loss):
killed workers' held messages come back from Redis after the (here 10 s) visibility timeout,
outages are waited out.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.chaos.promises import (
    CuttableProxy,
    assert_promises_kept,
    outcome,
    private_redis,
    set_faults,
    watch_for_reopening,
)
from tests.e2e.fleet import Fleet, free_port, running_fleet
from tests.e2e.test_fleet import wait_until_finished, write_sample
from tierline.jobs.intake import read_jobs
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Job

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.chaos]

JOBS = 60
# A short visibility timeout, so that a killed worker's messages come back within seconds.
VISIBILITY_TIMEOUT_S = 10
SETTINGS = {"TIERLINE_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
            "TIERLINE_BREAKER_OPEN_S": "2"}
# How long a killed worker's held messages may take to run again: the visibility timeout, the
# 5 s sweep (workers.celery_app), and a margin for the restarted worker's start and a step on a
# loaded machine. A job idle for longer lost its message for good.
REDELIVERY_BOUND_S = VISIBILITY_TIMEOUT_S + 5 + 30


def _submit(fleet: Fleet, jobs_file: Path) -> str:
    submitted = fleet.tierline("submit", str(jobs_file))
    assert submitted.returncode == 0, submitted.stderr
    return submitted.stdout.strip().splitlines()[-1]


def _finish(db: Database, fleet: Fleet, batch_id: str, timeout_s: float = 180) -> None:
    wait_until_finished(db, fleet, batch_id, timeout_s=timeout_s)


def _republished(janitor_log: Path) -> int:
    """How many jobs the janitor sent again, from its `re-published N job(s)` lines."""
    found = re.findall(r"re-published (\d+) job", janitor_log.read_text(errors="replace"))
    return sum(int(n) for n in found)


def test_sigkilled_workers_held_messages_come_back_from_redis(
        migrated_pg_url: str, redis_url: str, tmp_path: Path) -> None:
    """Every message a killed worker held comes back through the visibility timeout: a message
    is taken off its list and recorded as unacknowledged in one step (see README, Under
    faults), so none is gone for good. The janitor, idle bound past the redelivery bound,
    stands by to re-send a job whose message was lost after all; it re-sends none."""
    watch_for_reopening(migrated_pg_url)
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", JOBS, seed=21)
    victims = ("tier1", "validate", "route")
    with running_fleet(migrated_pg_url, redis_url, tmp_path, time_scale=0.3,
                       settings=SETTINGS) as fleet:
        fleet.start_janitor(idle_for_s=REDELIVERY_BOUND_S, every_s=5)
        batch_id = _submit(fleet, jobs_file)
        time.sleep(2)
        fleet.kill_worker("tier1")  # SIGKILL: its prefetched and buffered messages are held
        fleet.start_worker("tier1")
        time.sleep(2)
        for victim in victims[1:]:
            fleet.kill_worker(victim)
            fleet.start_worker(victim)
        _finish(db, fleet, batch_id)
        result = outcome(db, batch_id, fleet.env["TIERLINE_SIMULATOR_URL"])
    db.dispose()
    assert_promises_kept(result, JOBS)
    assert result.statuses.get("done", 0) > JOBS // 2
    republished = _republished(tmp_path / "janitor.log")
    assert republished == 0, (
        f"the janitor re-sent {republished} jobs: held messages did not come back from Redis")


def test_malformed_answers_and_429s_and_5xx_are_each_items_own_failures(
        migrated_pg_url: str, redis_url: str, tmp_path: Path) -> None:
    watch_for_reopening(migrated_pg_url)
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", JOBS, seed=22)
    with running_fleet(migrated_pg_url, redis_url, tmp_path, settings=SETTINGS) as fleet:
        simulator_url = fleet.env["TIERLINE_SIMULATOR_URL"]
        # 10% malformed 200s (four kinds), 30% 429 or 5xx, on every model.
        set_faults(simulator_url, {"*": {
            "empty_choices": 0.025, "empty_content": 0.025, "truncated_json": 0.025,
            "html_page": 0.025, "rate_limit": 0.15, "server_error": 0.15,
            "retry_after_s": 0.1}})
        batch_id = _submit(fleet, jobs_file)
        _finish(db, fleet, batch_id)
        result = outcome(db, batch_id, simulator_url)
    db.dispose()
    assert_promises_kept(result, JOBS)
    assert result.outcomes.get("MalformedResponse", 0) > 0
    assert result.outcomes.get("RateLimited", 0) + result.outcomes.get("ServerError", 0) > 0
    assert result.statuses.get("done", 0) > JOBS // 2


def test_slow_calls_re_sent_by_the_janitor_reopen_nothing(
        migrated_pg_url: str, redis_url: str, tmp_path: Path) -> None:
    """5% of calls hang (answering late); a janitor re-sending every job idle for 1 s makes
    every step's message arrive twice or more, while the slow calls are still running."""
    watch_for_reopening(migrated_pg_url)
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", JOBS, seed=23)
    with running_fleet(migrated_pg_url, redis_url, tmp_path, settings=SETTINGS) as fleet:
        simulator_url = fleet.env["TIERLINE_SIMULATOR_URL"]
        set_faults(simulator_url, {"*": {"hang": 0.05, "hang_s": 4}})
        fleet.start_janitor(idle_for_s=1, every_s=1)
        batch_id = _submit(fleet, jobs_file)
        _finish(db, fleet, batch_id)
        time.sleep(5)  # let the last slow calls answer and be ledgered
        result = outcome(db, batch_id, simulator_url)
    db.dispose()
    assert_promises_kept(result, JOBS)
    assert result.simulator_calls > JOBS, "the re-sends should have caused duplicate calls"


def test_a_redis_restarted_empty_loses_no_job_and_no_call(
        migrated_pg_url: str, tmp_path: Path) -> None:
    watch_for_reopening(migrated_pg_url)
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", JOBS, seed=24)
    with private_redis(tmp_path) as (broker_url, restart), \
            running_fleet(migrated_pg_url, broker_url, tmp_path, time_scale=0.3,
                          settings=SETTINGS) as fleet:
        fleet.start_janitor(idle_for_s=5, every_s=2)
        batch_id = _submit(fleet, jobs_file)
        time.sleep(3)
        restart()
        _finish(db, fleet, batch_id)
        result = outcome(db, batch_id, fleet.env["TIERLINE_SIMULATOR_URL"])
    db.dispose()
    assert_promises_kept(result, JOBS)


def test_postgresql_down_ten_seconds_is_waited_out(
        migrated_pg_url: str, redis_url: str, tmp_path: Path) -> None:
    """The fleet reaches PostgreSQL through a TCP proxy that the test cuts for 10 s: every open
    connection reset, every new one refused. No janitor: nothing may need one."""
    watch_for_reopening(migrated_pg_url)
    db = Database(migrated_pg_url)
    proxy = CuttableProxy(5432, free_port())
    proxy.start()
    host, name = migrated_pg_url.rsplit("/", 1)
    through_proxy = f"{host.rsplit(':', 1)[0]}:{proxy.listen_port}/{name}"
    jobs_file = write_sample(tmp_path / "jobs.jsonl", JOBS, seed=25)
    try:
        with running_fleet(through_proxy, redis_url, tmp_path, time_scale=0.3,
                           settings=SETTINGS) as fleet:
            batch_id = _submit(fleet, jobs_file)
            time.sleep(2)
            proxy.cut()
            time.sleep(10)
            proxy.start()
            _finish(db, fleet, batch_id)
            result = outcome(db, batch_id, fleet.env["TIERLINE_SIMULATOR_URL"])
    finally:
        proxy.cut()
    db.dispose()
    assert_promises_kept(result, JOBS)
    assert result.statuses.get("failed", 0) == 0, "an outage of 10 s fails no job"


def test_a_poison_message_is_quarantined_with_its_reason(
        migrated_pg_url: str, redis_url: str, tmp_path: Path) -> None:
    """Three jobs whose stored spec no longer parses: their route step crashes on every
    delivery. After `poison_deliveries` they fail with the reason; the others are untouched."""
    watch_for_reopening(migrated_pg_url)
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", 30, seed=26)
    with db.session() as session:
        receipt = store.insert_jobs(session, read_jobs(jobs_file))
        poisoned = receipt.job_ids[:3]
        session.execute(text("UPDATE jobs SET spec = CAST('{\"task\": \"bogus\"}' AS json) "
                             "WHERE id = ANY(:ids)"), {"ids": poisoned})
    with running_fleet(migrated_pg_url, redis_url, tmp_path, settings=SETTINGS) as fleet:
        sent = fleet.tierline("requeue", receipt.batch_id)
        assert sent.returncode == 0, sent.stderr
        _finish(db, fleet, receipt.batch_id)
        result = outcome(db, receipt.batch_id, fleet.env["TIERLINE_SIMULATOR_URL"])
    with db.session() as session:
        reasons = {job.id: (job.status, job.status_reason) for job in
                   session.query(Job).filter(Job.id.in_(poisoned))}
    db.dispose()
    assert_promises_kept(result, 30)
    for status, reason in reasons.values():
        assert status == "failed"
        assert (reason or "").startswith("quarantined: route crashed 5 times")
    assert result.statuses.get("failed", 0) == 3
