"""Faults inside a step, on the real PostgreSQL: one tier-1 item's failure stays its own, an
outage is waited out before a job fails, and a step that crashes every time is quarantined."""

from __future__ import annotations

import time
from typing import NoReturn

import pytest
from sqlalchemy.exc import OperationalError

from tests.integration.pipeline_helpers import (
    GOOD,
    RecordingPublisher,
    job_row,
    make_runtime,
    submit_many,
)
from tierline.config.settings import Settings
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.prompts.completion import CompletionRequest
from tierline.simulator.stub import StubProvider
from tierline.tasks import batch, guard, pipeline

pytestmark = pytest.mark.integration


def test_one_item_that_raises_is_that_items_failure_not_the_flushs(db: Database) -> None:
    def explode(request: CompletionRequest) -> str:
        if "Ref 1" in request.messages[-1].content:
            raise RuntimeError("adapter bug")
        return GOOD

    rt = make_runtime(db, {1: [StubProvider(explode), StubProvider(explode, name="t")]})
    publisher = RecordingPublisher()
    job_ids = submit_many(db, 3)
    for job_id in job_ids:
        pipeline.route_job(rt, publisher, job_id)
    publisher.sent.clear()
    outcomes = batch.run_batch(rt, publisher, [batch.BatchItem(j, 1) for j in job_ids])

    assert [(item.job_id, type(o).__name__) for item, o in outcomes] == [
        (job_ids[1], "RetryLater")]
    assert "UnexpectedFailure" in str(outcomes[0][1]) or "adapter bug" in str(outcomes[0][1])
    assert sorted(m[1] for m in publisher.sent if m[0] == "validate") == sorted(
        [job_ids[0], job_ids[2]])
    with db.session() as session:
        crashed = store.attempts_of(session, job_ids[1])
    assert [a.outcome for a in crashed] == ["UnexpectedFailure", "UnexpectedFailure"]
    assert "adapter bug" in (crashed[0].error or "")


def _unreachable() -> NoReturn:
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))


def test_an_outage_is_waited_out_then_the_job_fails_with_the_reason(db: Database) -> None:
    rt = make_runtime(db, {})
    rt.settings = Settings(database_url=db.url, simulator=False, outage_window_s=60)
    [job_id] = submit_many(db, 1)
    first = guard.run_guarded(rt, "route", "route:x", job_id, _unreachable)
    assert isinstance(first, guard.Again) and first.outage_since > 0
    assert 0 < first.delay_s <= 5
    # Within the window: still waiting; an outage never counts towards quarantine.
    for _ in range(10):
        again = guard.run_guarded(rt, "route", "route:x", job_id, _unreachable,
                                  outage_since=first.outage_since)
        assert isinstance(again, guard.Again)
    assert job_row(db, job_id).status == "queued"
    over = guard.run_guarded(rt, "route", "route:x", job_id, _unreachable,
                             outage_since=time.time() - 61)
    assert over is None
    job = job_row(db, job_id)
    assert job.status == "failed" and "unreachable for 61 s" in (job.status_reason or "")


def test_failing_a_job_needs_the_database_so_without_it_the_message_goes_on(
        db: Database) -> None:
    rt = make_runtime(db, {})
    [job_id] = submit_many(db, 1)
    rt.db = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    outcome = guard.run_guarded(rt, "route", "route:y", job_id, _unreachable,
                                outage_since=time.time() - 1000)
    assert isinstance(outcome, guard.Again)
    rt.db.dispose()


def test_a_step_that_crashes_every_time_is_quarantined_with_its_reason(db: Database) -> None:
    rt = make_runtime(db, {})
    [job_id] = submit_many(db, 1)

    def bug() -> NoReturn:
        raise KeyError("no such field")

    limit = rt.settings.poison_deliveries
    for _ in range(limit - 1):
        assert isinstance(guard.run_guarded(rt, "route", "route:z", job_id, bug), guard.Again)
    assert job_row(db, job_id).status == "queued"
    assert guard.run_guarded(rt, "route", "route:z", job_id, bug) is None
    job = job_row(db, job_id)
    assert job.status == "failed"
    assert (job.status_reason or "").startswith(f"quarantined: route crashed {limit} times")
    assert "no such field" in (job.status_reason or "")


def test_a_step_whose_worker_dies_every_time_is_quarantined_on_the_next_delivery(
        db: Database) -> None:
    rt = make_runtime(db, {})
    [job_id] = submit_many(db, 1)
    limit = rt.settings.poison_deliveries
    # A worker killed mid-step never finishes it: its count stays (here: the step never ends).
    rt.deliveries.begin(["route:k"] * 1)
    for _ in range(limit - 1):
        rt.deliveries.begin(["route:k"])
    ran: list[bool] = []
    assert guard.run_guarded(rt, "route", "route:k", job_id, lambda: ran.append(True)) is None
    assert ran == []
    job = job_row(db, job_id)
    assert job.status == "failed" and "without finishing" in (job.status_reason or "")
