"""The command against the real PostgreSQL and Redis: the database created by `db upgrade`,
unknown batches, one JSON document per `--json`, resubmissions, and `status --watch`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from sqlalchemy import create_engine, text, update

from tests.e2e.fleet import free_port, wait_http
from tests.integration.pipeline_helpers import (
    GOOD,
    INVENTED,
    RecordingPublisher,
    drive,
    make_runtime,
    submit_one,
)
from tests.integration.test_costs_pg import batch_of
from tierline.cli.dbcmd import autovacuum_setting
from tierline.cli.main import cli
from tierline.persistence.db import Database
from tierline.persistence.tables import Job
from tierline.simulator.stub import StubProvider

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def tierline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TIERLINE_")}
    return subprocess.run([sys.executable, "-m", "tierline.cli", *args], cwd=ROOT, env={**clean,
                                                                                        **env},
                          capture_output=True, text=True, timeout=120, check=False)


def finished_batch(db: Database) -> str:
    """A batch of two jobs: one passes at tier 1, one escalates to tier 2."""
    rt = make_runtime(db, {1: [StubProvider(GOOD)]})
    first = submit_one(db, key="first")
    drive(rt, RecordingPublisher(), first)
    rt = make_runtime(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(GOOD)]})
    second = submit_one(db, key="second")
    with db.session() as session:
        session.execute(update(Job).where(Job.id == second).values(batch_id=batch_of(db, first)))
    drive(rt, RecordingPublisher(), second)
    return batch_of(db, first)


def test_db_upgrade_creates_a_missing_database_and_never_prints_the_password(
        pg_admin_url: str) -> None:
    name = f"tierline_cli_{uuid.uuid4().hex[:8]}"
    server = pg_admin_url.rsplit("/", 1)[0].replace("postgres@", "postgres:hunter2@")
    try:
        done = tierline({"TIERLINE_DATABASE_URL": f"{server}/{name}"}, "db", "upgrade")
        assert done.returncode == 0, done.stderr
        assert f"created database postgresql+psycopg://postgres:***@127.0.0.1:5432/{name}" \
            in done.stdout
        assert "hunter2" not in done.stdout + done.stderr
        again = tierline({"TIERLINE_DATABASE_URL": f"{server}/{name}"}, "db", "upgrade")
        assert again.returncode == 0 and "created" not in again.stdout
        assert "database at head" in again.stdout
        # The server's autovacuum setting is said when it is off, and only then.
        setting = autovacuum_setting(pg_admin_url)
        assert ("autovacuum is off" in again.stderr) == (setting == "off"), again.stderr
    finally:
        admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_unknown_batch_is_an_error_for_every_batch_command(db: Database) -> None:
    env = {"TIERLINE_DATABASE_URL": db.url}
    for args in (["status", "nope"], ["status", "nope", "--json"], ["results", "nope"],
                 ["report", "nope"], ["report", "nope", "--out", "/tmp/never.html"]):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        assert "no batch nope" in result.output or "no jobs in batch nope" in result.output


def test_json_outputs_are_one_document_each(db: Database) -> None:
    batch = finished_batch(db)
    env = {"TIERLINE_DATABASE_URL": db.url}
    runner = CliRunner()
    status = json.loads(runner.invoke(cli, ["status", batch, "--json"], env=env).output)
    assert (status["jobs"], status["done"], status["complete"]) == (2, 2, True)
    costs = json.loads(runner.invoke(cli, ["costs", "--by", "tier", "--json", "--batch", batch],
                                     env=env).output)
    assert [r["tier"] for r in costs["rows"]] == [2, 1] and costs["totals"]["calls"] == 3
    report = json.loads(runner.invoke(cli, ["report", batch, "--json"], env=env).output)
    assert report["validated_per_tier"] == {"1": 2, "2": 1}


def test_results_csv_writes_costs_as_decimals(db: Database) -> None:
    batch = finished_batch(db)
    result = CliRunner().invoke(cli, ["results", batch, "--format", "csv"],
                                env={"TIERLINE_DATABASE_URL": db.url})
    assert result.exit_code == 0, result.output
    header, *rows = result.output.strip().splitlines()
    cost_column = header.split(",").index("total_cost_usd")
    costs = [row.split(",")[cost_column] for row in rows]
    assert len(costs) == 2 and all(c.startswith("0.") and "e" not in c for c in costs), costs


def test_resubmitting_a_file_says_no_new_job_and_prints_no_batch(
        db: Database, redis_url: str, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"task": "summarize", "document": "A note.", "key": "k1"}\n')
    env = {"TIERLINE_DATABASE_URL": db.url, "TIERLINE_BROKER_URL": redis_url}
    first = tierline(env, "submit", str(jobs))
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.split()) == 1
    again = tierline(env, "submit", str(jobs))
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert "no new job" in again.stderr and "no batch was made" in again.stderr


def test_status_watch_redraws_until_the_batch_is_finished(db: Database) -> None:
    batch = finished_batch(db)
    with db.session() as session:
        session.execute(update(Job).where(Job.batch_id == batch).values(status="running"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TIERLINE_")}
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tierline.cli", "status", batch, "--watch", "--every",
         "0.2"], cwd=ROOT,
        env={**clean, "TIERLINE_DATABASE_URL": db.url}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        # A watcher that did not wait for the batch to finish would have ended by now.
        time.sleep(6)
        assert watcher.poll() is None, watcher.communicate()
        with db.session() as session:
            session.execute(update(Job).where(Job.batch_id == batch).values(status="done"))
        out, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, err
    assert re.search(r"done\s+2\s+100%", out) and "Traceback" not in err


def test_report_page_of_a_batch_and_since_a_date(db: Database, tmp_path: Path) -> None:
    batch = finished_batch(db)
    env = {"TIERLINE_DATABASE_URL": db.url}
    page = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", batch, "--out", str(page)], env=env)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "Escalation funnel" in html and html.count("<svg") >= 4
    since = tmp_path / "since.html"
    result = CliRunner().invoke(cli, ["report", "--since", "2000-01-01", "--out", str(since)],
                                env=env)
    assert result.exit_code == 0, result.output
    assert "jobs since 2000-01-01" in since.read_text()


def test_metrics_serve_exports_jobs_queues_and_breakers(db: Database, redis_url: str) -> None:
    finished_batch(db)
    client = redis.Redis.from_url(redis_url)
    client.lpush("tier2", "a", "b", "c")
    client.close()
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TIERLINE_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "tierline.cli", "metrics", "serve", "--port", str(port)], cwd=ROOT,
        env={**clean, "TIERLINE_DATABASE_URL": db.url, "TIERLINE_BROKER_URL": redis_url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    finally:
        server.terminate()
        server.wait(10)
    assert 'tierline_jobs{status="done",tier="2"} 1.0' in text
    assert 'tierline_jobs{status="done",tier="1"} 1.0' in text
    assert 'tierline_queue_depth{queue="tier2"} 3.0' in text
    assert re.search(r'tierline_breaker_state\{endpoint="[^"]+",tier="1"\} 0\.0', text)
    assert all(f'tierline_fleet_source_up{{source="{s}"}} 1.0' in text
               for s in ("database", "broker", "breakers"))
