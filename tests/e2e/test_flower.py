"""Flower tells the truth: after a real fleet has finished a batch, Flower (on the same broker,
behind a login) shows every message of it in a final state, the tier-1 drain's included, with
the job visible in each task's arguments, and worker counts that add up. Each worker serves its
own Prometheus metrics."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e.fleet import free_port, running_fleet
from tests.e2e.test_fleet import wait_until_finished, write_sample
from tierline.persistence.db import Database
from tierline.persistence.tables import Job

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

JOBS = 120
LOGIN = "admin:not-the-default"
UNFINISHED = {"PENDING", "RECEIVED", "STARTED"}


def get(url: str, auth: str | None = LOGIN, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def wait_for(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


def settled_tasks(flower: str, timeout_s: float = 60) -> dict[str, dict[str, Any]]:
    """Flower's task list once no task is left unfinished (events still in flight are given
    time to arrive), or as it stands at the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        tasks: dict[str, dict[str, Any]] = json.loads(get(f"{flower}/api/tasks")[1])
        if not any(t["state"] in UNFINISHED for t in tasks.values()):
            return tasks
        if time.monotonic() > deadline:
            return tasks
        time.sleep(1)


def metric_total(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_flower_shows_every_message_of_a_finished_batch_in_a_final_state(
    migrated_pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    db = Database(migrated_pg_url)
    jobs_file = write_sample(tmp_path / "jobs.jsonl", JOBS, seed=5)
    port = free_port()
    flower = f"http://127.0.0.1:{port}"
    with running_fleet(migrated_pg_url, redis_url, tmp_path, metrics=True) as fleet:
        fleet.start_flower(port, LOGIN)
        wait_for(f"{flower}/healthcheck")
        submitted = fleet.tierline("submit", str(jobs_file))
        assert submitted.returncode == 0, submitted.stderr
        batch_id = submitted.stdout.strip().splitlines()[-1]
        wait_until_finished(db, fleet, batch_id, timeout_s=240)
        tasks = settled_tasks(flower)
        workers = json.loads(get(f"{flower}/workers?json=1")[1])["data"]
        anonymous = {path: get(f"{flower}{path}", auth=None)[0]
                     for path in ("/metrics", "/healthcheck", "/api/tasks")}
        flower_metrics = get(f"{flower}/metrics")
        scraped = {name: get(f"http://127.0.0.1:{p}/metrics", auth=None)
                   for name, p in fleet.metrics_ports.items()}
        logs = fleet.logs()

    with db.session() as session:
        job_ids = set(session.scalars(select(Job.id).where(Job.batch_id == batch_id)))
    states = Counter(t["state"] for t in tasks.values())
    stuck = {i: (t["name"], t["state"], t["args"]) for i, t in tasks.items()
             if t["state"] in UNFINISHED}
    assert not stuck, f"{len(stuck)} unfinished in Flower: {list(stuck.items())[:5]}\n{logs}"
    names = Counter(t["name"] for t in tasks.values())
    # Every job was routed, inferred and validated, and Flower saw each of those messages.
    assert names["tierline.route"] >= JOBS and names["tierline.validate"] >= JOBS, names
    batch_tasks = [t for t in tasks.values() if t["name"] == "tierline.infer_batch"]
    assert batch_tasks and all(t["state"] == "SUCCESS" for t in batch_tasks), states
    # Every tier is drained by the same task, each on its own tier's worker.
    assert all(t["worker"] and t["worker"].startswith(f"tier{t['args'].split('tier=')[1][0]}@")
               for t in batch_tasks), [(t["worker"], t["args"]) for t in batch_tasks[:5]]
    tier1_messages = [t for t in batch_tasks if t["worker"].startswith("tier1@")]
    # A job is found from the task list: its id is in the arguments Flower shows.
    shown = {m for t in tasks.values() for m in re.findall(r"job=([0-9a-f-]{36})", t["args"] or "")}
    assert job_ids <= shown
    # Each worker's counts add up: every message it received ended one way or another.
    by_worker = {w["hostname"].split("@")[0]: w for w in workers}
    assert by_worker["tier1"].get("task-received", 0) >= len(tier1_messages)
    for name, counts in by_worker.items():
        ended = sum(counts.get(f"task-{kind}", 0) for kind in ("succeeded", "failed", "retried"))
        assert counts.get("task-received", 0) == ended, (name, counts)
    # Flower's own endpoints want the login, all of them.
    assert anonymous == {"/metrics": 401, "/healthcheck": 401, "/api/tasks": 401}
    assert flower_metrics[0] == 200 and b"flower_events_total" in flower_metrics[1]
    # Each worker serves its metrics.
    assert all(status == 200 for status, _ in scraped.values()), scraped.keys()
    tier1 = scraped["tier1"][1].decode()
    assert metric_total(tier1, "tierline_flush_size_count", drain="tier1") >= 1
    assert metric_total(tier1, "tierline_flush_size_sum", drain="tier1") == len(tier1_messages)
    assert metric_total(tier1, "tierline_provider_calls_total", tier="1") >= 1
    assert metric_total(tier1, "tierline_cost_usd_total", tier="1") > 0
    route = scraped["route"][1].decode()
    # Route works in sets: each flush of its messages is one timed step.
    assert metric_total(route, "tierline_step_seconds_count", step="route") >= 1
    # ... and its flushes' sizes add up to the messages it was sent (one per job).
    assert metric_total(route, "tierline_flush_size_sum", drain="route") >= len(job_ids)
    validate = scraped["validate"][1].decode()
    assert metric_total(validate, "tierline_escalations_total") >= 1
    db.dispose()
