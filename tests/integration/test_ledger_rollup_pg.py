"""The ledger's rollup gives the reports exactly what summing the whole ledger gives, whatever
share of it has been counted so far, on the real PostgreSQL."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func

from tierline.persistence.db import Database
from tierline.persistence.ledger_rollup import refresh
from tierline.persistence.tables import Attempt, Job, LedgerPending, LedgerRollupState, utcnow
from tierline.reports import batch as reports
from tierline.reports import costs

pytestmark = pytest.mark.integration

GROUPINGS = [["feature"], ["user", "feature"], ["tenant"], ["query_type", "tenant", "user"]]


def fill_ledger(db: Database, seed: int) -> list[str]:
    """Jobs in three batches, each with 1-4 calls: failures, answers passed, rejected and not
    yet judged, judge calls, calls reserved and not recorded yet; tiers climbing or not."""
    r = random.Random(seed)
    batches = [str(uuid.uuid4()) for _ in range(3)]
    with db.session() as session:
        for n in range(60):
            job = Job(id=str(uuid.uuid4()), idempotency_key=f"k{seed}-{n}",
                      batch_id=r.choice(batches), tenant=r.choice(["acme", "globex"]),
                      user=r.choice(["ann", "bob", "cy"]), feature=r.choice(["inv", "nda"]),
                      query_type=r.choice(["q1", "q2"]), task="summarize", spec={},
                      status="done", current_tier=1)
            session.add(job)
            session.flush()
            tier = 1
            for number in range(1, r.randint(1, 4) + 1):
                outcome = r.choice(["ok", "ok", "ok", "RateLimited", "judge_ok", "in_flight"])
                validated = None if outcome != "ok" else r.choice([True, False, None])
                session.add(Attempt(
                    job_id=job.id, attempt_no=number, tier=tier, provider="p", model="m",
                    tenant=job.tenant, user=job.user, feature=job.feature,
                    query_type=job.query_type, input_tokens=r.randint(1, 900),
                    output_tokens=r.randint(1, 90), cost_usd=Decimal(r.randint(1, 999)) / 10**6,
                    latency_ms=1.0, outcome=outcome, validated=validated, created_at=utcnow()))
                tier = min(3, tier + r.choice([0, 1]))
    return batches


def live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(costs, "uses_rollup", lambda session: False)
    monkeypatch.setattr(reports, "uses_rollup", lambda session: False)


def figures(db: Database, batches: list[str]) -> dict[str, object]:
    with db.session() as session:
        out: dict[str, object] = {}
        for by in GROUPINGS:
            for batch in [None, *batches]:
                out[f"{by} {batch}"] = costs.cost_ledger(session, by, batch)
        for batch in [None, *batches]:
            out[f"status {batch}"] = reports.batch_status(session, batch).as_dict()
    return out


@pytest.mark.parametrize("counted", [0, 7, 40, None])
def test_rollup_and_tail_sum_to_the_whole_ledger(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                 counted: int | None) -> None:
    batches = fill_ledger(db, seed=counted or 1)
    refresh(db, chunk=5, max_rows=counted) if counted != 0 else None
    from_rollup = figures(db, batches)
    with monkeypatch.context() as patch:
        live(patch)
        from_ledger = figures(db, batches)
    assert from_rollup == from_ledger
    with db.session() as session:
        watermark = session.get(LedgerRollupState, 1).watermark  # type: ignore[union-attr]
        pending = [session.get(Attempt, p.attempt_id) for p in session.query(LedgerPending)]
        top = session.query(func.max(Attempt.id)).scalar()
    # Every row up to the mark is counted, or waits for its validation or its record.
    assert all(a is not None for a in pending)
    if counted == 0:
        assert watermark == 0 and not pending
    elif counted is None:
        assert watermark == top and pending


def test_answers_judged_and_calls_recorded_after_a_sweep_are_counted_by_the_next(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    batches = fill_ledger(db, seed=9)
    refresh(db)
    with db.session() as session:
        waiting = [session.get(Attempt, p.attempt_id) for p in session.query(LedgerPending)]
        assert any(a is not None and a.outcome == "in_flight" for a in waiting)
        assert any(a is not None and a.outcome == "ok" for a in waiting)
        for attempt in waiting:
            assert attempt is not None
            if attempt.outcome == "in_flight":  # recorded: an answer, its tokens and cost
                attempt.outcome, attempt.input_tokens = "ok", 500
                attempt.cost_usd = Decimal("0.000123")
            attempt.validated = False
    before = figures(db, batches)
    assert refresh(db) == len(waiting)
    after = figures(db, batches)
    with monkeypatch.context() as patch:
        live(patch)
        assert before == after == figures(db, batches)


def test_a_sweep_does_not_queue_behind_a_long_ledger_transaction(db: Database) -> None:
    fill_ledger(db, seed=3)
    with db.session() as writer:  # a step's transaction, still open, holding the ledger
        job = writer.query(Job).first()
        assert job is not None
        writer.add(Attempt(job_id=job.id, attempt_no=99, tier=1, provider="p", model="m",
                           tenant=job.tenant, user=job.user, feature=job.feature,
                           query_type=job.query_type, outcome="RateLimited"))
        writer.flush()
        assert refresh(db) == 0
    assert refresh(db) > 0
