"""Agreeing tiers against a check, through the real fleet: Celery worker processes, Redis,
PostgreSQL and the simulator over HTTP. Every model is scripted (the simulator's answer book) to
give the same answer, one the grounding check rejects; the job ends as the configured policy says
after the second tier, and no model above it is called."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.e2e.fleet import running_fleet
from tierline.jobs.models import TERMINAL_STATUSES
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result
from tierline.simulator.answer_book import ENV

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DOCUMENT = ("MUTUAL NONDISCLOSURE AGREEMENT\nThis Agreement is made as of March 21, 2014 by and "
            "between Intel Corporation and Cloudera, Inc.\nThis Agreement is governed by the laws "
            "of the State of Delaware.")
SCHEMA = {"type": "object", "properties": {"parties": {"type": "array",
                                                        "items": {"type": "string"}},
                                           "jurisdiction": {"type": "string"}},
          "required": ["parties", "jurisdiction"]}
# What every tier answers: a state the document never names, so grounding rejects it each time.
ANSWER = {"parties": ["Intel Corporation", "Cloudera, Inc."], "jurisdiction": "Nevada"}
TIER3_MODELS = ("claude-3-opus-20240229", "gpt-4-turbo-2024-04-09")


def test_three_agreeing_tiers_end_the_job_as_configured_without_a_third_call(
        migrated_pg_url: str, redis_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    book = tmp_path / "answers.jsonl"
    book.write_text(json.dumps({"document": DOCUMENT, "answer": ANSWER, "scripted": True}) + "\n")
    monkeypatch.setenv(ENV, str(book))
    monkeypatch.setenv("TIERLINE_DISAGREEMENT_POLICY", "review")
    jobs_file = tmp_path / "jobs.jsonl"
    jobs_file.write_text(json.dumps({"task": "extract", "document": DOCUMENT, "schema": SCHEMA,
                                     "key": "agreeing-tiers"}) + "\n")
    db = Database(migrated_pg_url)
    with running_fleet(migrated_pg_url, redis_url, tmp_path) as fleet:
        submitted = fleet.tierline("submit", str(jobs_file))
        assert submitted.returncode == 0, submitted.stderr
        deadline, job = time.monotonic() + 120, None
        while time.monotonic() < deadline:
            with db.session() as session:
                job = session.scalars(select(Job)).one()
                if job.status in {s.value for s in TERMINAL_STATUSES}:
                    break
            time.sleep(0.5)
        assert job is not None and job.status == "needs_review", fleet.logs()
        report = json.loads(fleet.tierline("report", job.batch_id, "--json").stdout)
        stats = simulator_stats(fleet.env["TIERLINE_SIMULATOR_URL"])
        called = {model: row.get("calls", 0) for model, row in stats.items()}

    assert (job.status_reason or "").startswith("validator disagreement: tiers 1 and 2")
    assert "grounding" in (job.status_reason or "")
    with db.session() as session:
        attempts = session.scalars(select(Attempt).where(Attempt.job_id == job.id)
                                   .order_by(Attempt.attempt_no)).all()
        result = session.get(Result, job.id)
    # Two paid calls, both with the agreed answer; tier 3 never asked.
    assert [(a.tier, a.validated) for a in attempts] == [(1, False), (2, False)]
    assert all(json.loads(a.output_text or "") == ANSWER for a in attempts)
    assert not any(called.get(model) for model in TIER3_MODELS), called
    assert result is not None and result.validated is False and result.output == ANSWER
    assert report["disagreements_per_check"] == {"grounding": 1}
    db.dispose()


def simulator_stats(url: str) -> dict[str, dict[str, int]]:
    with urllib.request.urlopen(f"{url}/_sim/stats", timeout=5) as response:
        data: dict[str, dict[str, int]] = json.loads(response.read())
    return data
