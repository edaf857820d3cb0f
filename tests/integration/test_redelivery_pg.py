"""Every step delivered twice, out of order, at every point of a job's life, on the real
PostgreSQL: a late or repeated delivery changes nothing of a job that has moved on, calls no
provider, and a finished job is never reopened (except by feedback)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.integration.pipeline_helpers import (
    GOOD,
    INVENTED,
    RecordingPublisher,
    job_row,
    make_runtime,
    submit_one,
)
from tierline.jobs.models import IllegalTransition, JobStatus
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result
from tierline.simulator.stub import StubProvider
from tierline.tasks import batch, ledger, pipeline
from tierline.tasks.calls import call_chain
from tierline.tasks.feedback import give_feedback
from tierline.tasks.runtime import Runtime

pytestmark = pytest.mark.integration
Message = tuple[str, str, int]


def deliver(rt: Runtime, publisher: RecordingPublisher, message: Message) -> None:
    kind, job_id, arg = message
    if kind == "route":
        pipeline.route_job(rt, publisher, job_id)
    elif kind == "infer" and arg == 1:
        batch.run_batch(rt, publisher, [batch.BatchItem(job_id, arg)])  # the tier-1 drain
    elif kind == "infer":
        assert pipeline.infer_job(rt, publisher, job_id, arg) is None
    else:
        pipeline.validate_attempt(rt, publisher, job_id, arg)


def snapshot(db: Database, job_id: str) -> tuple[str, int | None, int, object]:
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        calls = session.scalar(select(func.count()).select_from(Attempt)) or 0
        result = session.get(Result, job_id)
        return job.status, job.current_tier, calls, result and (result.attempt_no, result.output)


def test_every_step_delivered_again_at_every_point_changes_nothing(db: Database) -> None:
    tier1, tier2 = StubProvider(INVENTED), StubProvider(GOOD, name="t2")
    rt = make_runtime(db, {1: [tier1], 2: [tier2]})
    publisher = RecordingPublisher()
    job_id = submit_one(db)
    history: list[Message] = []
    queue: list[Message] = [("route", job_id, 0)]
    while queue:
        message = queue.pop(0)
        deliver(rt, publisher, message)
        if message not in history:
            history.append(message)
        before = snapshot(db, job_id)
        # Every step delivered so far, again, newest first: a redelivery, a janitor's re-send.
        for old in reversed(history):
            deliver(rt, publisher, old)
            assert snapshot(db, job_id) == before, f"{old} changed the job after {message}"
        queue.extend(m for m in publisher.sent if m not in history and m not in queue)
        publisher.sent.clear()
        assert len(history) < 10

    status, tier, calls, _result = snapshot(db, job_id)
    assert (status, tier, calls) == ("done", 2, 2)
    assert [m[0] for m in history] == ["route", "infer", "validate", "infer", "validate"]
    assert len(tier1.requests) == len(tier2.requests) == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 1


def test_a_second_claim_of_a_running_job_is_ledgered_but_moves_nothing(db: Database) -> None:
    rt = make_runtime(db, {1: [StubProvider(GOOD)]})
    publisher = RecordingPublisher()
    job_id = submit_one(db)
    pipeline.route_job(rt, publisher, job_id)
    # A slow call's message is re-sent while the call runs: two deliveries claim the job.
    first = pipeline.prepare_infer(rt, publisher, job_id, 1)
    second = pipeline.prepare_infer(rt, publisher, job_id, 1)
    assert first is not None and second is not None
    pipeline.finish_infer(rt, publisher, second, call_chain(second.chain, second.request))
    validate = publisher.sent[-1]
    assert validate[0] == "validate"
    pipeline.validate_attempt(rt, publisher, job_id, validate[2])
    done = snapshot(db, job_id)
    assert done[0] == "done"

    # The slow call answers last: paid for, so ledgered, but the finished job stays finished.
    publisher.sent.clear()
    pipeline.finish_infer(rt, publisher, first, call_chain(first.chain, first.request))
    status, tier, calls, result = snapshot(db, job_id)
    assert (status, tier, result) == (done[0], done[1], done[3]) and calls == 2
    assert publisher.sent == []
    with db.session() as session:
        attempts = {a.attempt_no: a for a in store.attempts_of(session, job_id)}
    # Each claim reserved its call's row before calling; both rows now hold their answers.
    assert first.reserved is not None and second.reserved is not None
    assert sorted(attempts) == sorted([first.reserved, second.reserved])
    late = attempts[first.reserved]
    assert late.outcome == "ok" and late.error == ledger.SUPERSEDED


def test_a_finished_job_is_reopened_only_by_feedback(db: Database) -> None:
    rt = make_runtime(db, {1: [StubProvider(GOOD)], 2: [StubProvider(GOOD, name="t2")]})
    publisher = RecordingPublisher()
    job_id = submit_one(db)
    deliver(rt, publisher, ("route", job_id, 0))
    deliver(rt, publisher, publisher.sent.pop(0))
    deliver(rt, publisher, publisher.sent.pop(0))
    assert job_row(db, job_id).status == "done"
    with db.session() as session:
        job = store.lock_job(session, job_id)
        assert job is not None
        for illegal in (JobStatus.VALIDATING, JobStatus.RUNNING, JobStatus.ROUTED):
            with pytest.raises(IllegalTransition):
                store.set_status(job, illegal)
    outcome = give_feedback(rt.db, rt.tiers, publisher, job_id, bad=True, reason="wrong total")
    assert outcome.rerun_tier == 2
    assert job_row(db, job_id).status == "routed"


def test_a_call_whose_worker_dies_before_recording_stays_in_the_ledger(db: Database) -> None:
    rt = make_runtime(db, {1: [StubProvider(GOOD)]})
    publisher = RecordingPublisher()
    job_id = submit_one(db)
    pipeline.route_job(rt, publisher, job_id)
    publisher.sent.clear()
    dead = pipeline.prepare_infer(rt, publisher, job_id, 1)
    assert dead is not None and dead.reserved is not None
    call_chain(dead.chain, dead.request)  # answered; then SIGKILL: nothing recorded
    # The message comes back and runs to the end.
    assert pipeline.infer_job(rt, publisher, job_id, 1) is None
    pipeline.validate_attempt(rt, publisher, job_id, publisher.sent[-1][2])
    with db.session() as session:
        attempts = store.attempts_of(session, job_id)
    assert job_row(db, job_id).status == "done"
    assert [(a.attempt_no, a.outcome) for a in attempts] == [(1, ledger.IN_FLIGHT), (2, "ok")]
    assert attempts[0].error == ledger.IN_FLIGHT_NOTE
