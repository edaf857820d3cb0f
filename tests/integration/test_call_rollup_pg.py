"""Reports by a call's tier, provider or model, and since a date, read from the call and hour
rollups give
exactly what summing the whole ledger gives, whatever share of it has been counted, on the real
PostgreSQL."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, text

from tierline import migrations
from tierline.persistence.db import Database
from tierline.persistence.ledger_rollup import refresh
from tierline.persistence.tables import Attempt, Job, LedgerCallRollup, LedgerHourRollup
from tierline.reports import costs

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
GROUPINGS = [["tier"], ["provider"], ["model"], ["tier", "model"], ["model", "provider", "tier"],
             ["feature"], ["user"], ["tenant"], ["query_type"], ["user", "tier"]]
SINCE = [None, START - timedelta(days=1), START + timedelta(hours=1),
         START + timedelta(minutes=97, seconds=13), START + timedelta(hours=3, minutes=59),
         START + timedelta(days=2)]
ENDPOINTS = {1: [("groq", "llama-8b"), ("together", "llama-8b")],
             2: [("anthropic", "haiku"), ("openai", "mini")], 3: [("openai", "gpt-4o")]}


def fill_ledger(db: Database, seed: int) -> list[str]:
    """Jobs in three batches, each with 1-5 calls minutes apart (some spanning hours, some out
    of order): failures, answers passed, rejected and not yet judged, judge calls, calls
    reserved and not recorded yet; retries on the same endpoint, tiers climbing or not."""
    r = random.Random(seed)
    batches = [str(uuid.uuid4()) for _ in range(3)]
    with db.session() as session:
        for n in range(80):
            job = Job(id=str(uuid.uuid4()), idempotency_key=f"k{seed}-{n}",
                      batch_id=r.choice(batches), tenant=r.choice(["acme", "globex"]),
                      user=r.choice(["ann", "bob"]), feature=r.choice(["inv", "nda"]),
                      query_type=r.choice(["q1", "q2"]), task="summarize", spec={}, status="done", current_tier=1)
            session.add(job)
            session.flush()
            tier, at = 1, START + timedelta(minutes=r.randint(0, 300), seconds=r.randint(0, 59))
            for number in range(1, r.randint(1, 5) + 1):
                outcome = r.choice(["ok", "ok", "ok", "RateLimited", "judge_ok", "in_flight"])
                validated = None if outcome != "ok" else r.choice([True, False, None])
                provider, model = r.choice(ENDPOINTS[tier])
                at += timedelta(minutes=r.randint(-5, 40))
                session.add(Attempt(
                    job_id=job.id, attempt_no=number, tier=tier, provider=provider, model=model,
                    tenant=job.tenant, user=job.user, feature=job.feature,
                    query_type=job.query_type, input_tokens=r.randint(1, 900),
                    output_tokens=r.randint(1, 90), cost_usd=Decimal(r.randint(1, 999)) / 10**6,
                    latency_ms=1.0, outcome=outcome, validated=validated, created_at=at))
                tier = min(3, tier + r.choice([0, 0, 1]))
    return batches


def figures(db: Database, batches: list[str]) -> dict[str, object]:
    with db.session() as session:
        return {f"{by} {batch} {since}": costs.cost_ledger(session, by, batch, since)
                for by in GROUPINGS for batch in [None, *batches] for since in SINCE}


def from_ledger(db: Database, batches: list[str], monkeypatch: pytest.MonkeyPatch
                ) -> dict[str, object]:
    with monkeypatch.context() as patch:
        patch.setattr(costs, "uses_rollup", lambda session: False)
        return figures(db, batches)


@pytest.mark.parametrize("counted", [0, 9, 60, None])
def test_call_rollup_and_tail_sum_to_the_whole_ledger(db: Database,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      counted: int | None) -> None:
    batches = fill_ledger(db, seed=counted or 1)
    refresh(db, chunk=7, max_rows=counted) if counted != 0 else None
    assert figures(db, batches) == from_ledger(db, batches, monkeypatch)
    with db.session() as session:
        in_rollups = [session.query(func.coalesce(func.sum(table.calls), 0)).scalar()
                      for table in (LedgerCallRollup, LedgerHourRollup)]
    # The figures came from the rollups: they hold the rows counted so far.
    assert all((calls > 0) == (counted != 0) for calls in in_rollups)


def test_calls_judged_and_recorded_after_a_sweep_are_counted_by_the_next(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    batches = fill_ledger(db, seed=5)
    refresh(db)
    with db.session() as session:
        waiting = session.query(Attempt).filter(
            (Attempt.outcome == "in_flight")
            | ((Attempt.outcome == "ok") & Attempt.validated.is_(None))).all()
        assert waiting
        for attempt in waiting:  # recorded on another endpoint, then judged
            if attempt.outcome == "in_flight":
                attempt.outcome, attempt.provider, attempt.model = "ok", "openai", "gpt-4o"
            attempt.validated = False
    refresh(db)
    assert figures(db, batches) == from_ledger(db, batches, monkeypatch)


def test_the_migration_back_fills_what_the_rollup_has_counted(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations.upgrade(pg_url)
    db = Database(pg_url)
    try:
        batches = fill_ledger(db, seed=11)
        refresh(db)
        migrations.downgrade(pg_url, "0006")
        migrations.upgrade(pg_url)
        with db.session() as session:
            assert session.scalar(text("SELECT count(*) FROM ledger_call_rollup")) > 0
            assert session.scalar(text("SELECT count(*) FROM ledger_hour_rollup")) > 0
        assert figures(db, batches) == from_ledger(db, batches, monkeypatch)
    finally:
        db.dispose()
