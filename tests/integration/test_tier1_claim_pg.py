"""The tier-1 drain claims its whole flush in one transaction on the real PostgreSQL: fresh,
stale, missing and repeated items each get what a lone message would, in a fixed number of
statements whatever the flush's size; a job that cannot be claimed fails alone. Answers that
arrive together are ledgered in one transaction, each keeping its own compare-and-set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from tests.integration.pipeline_helpers import (
    GOOD,
    INVENTED,
    Census,
    RecordingPublisher,
    job_row,
    make_runtime,
    submit_many,
)
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Job
from tierline.simulator.stub import StubProvider
from tierline.tasks import batch, ledger, pipeline
from tierline.tasks.calls import CallRecord, call_chain
from tierline.tasks.guard import Again
from tierline.tasks.runtime import Runtime

pytestmark = pytest.mark.integration


@pytest.fixture()
def rt(db: Database) -> Iterator[Runtime]:
    runtime = make_runtime(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(GOOD, name="t2")]})
    yield runtime
    runtime.close()


def routed(rt: Runtime, count: int) -> list[str]:
    publisher = RecordingPublisher()
    job_ids = submit_many(rt.db, count)
    for job_id in job_ids:
        pipeline.route_job(rt, publisher, job_id)
    return job_ids


def test_a_mixed_flush_gets_what_each_message_alone_would(rt: Runtime) -> None:
    fresh, validating, other_tier = routed(rt, 3)
    publisher = RecordingPublisher()
    pipeline.infer_job(rt, publisher, validating, 1)
    publisher.sent.clear()

    calls = pipeline.prepare_infers(rt, publisher, [
        (fresh, 1), ("no-such-job", 1), (validating, 1), (other_tier, 2), (fresh, 1)])

    first, missing, stale, wrong_tier, again = calls
    assert (missing, stale, wrong_tier) == (None, None, None)
    assert first is not None and again is not None
    # A job twice is claimed twice: two rows written ahead, numbered in turn.
    assert (first.job_id, first.reserved, again.reserved) == (fresh, 1, 2)
    assert first.request == again.request and "Ref 0" in first.request.messages[-1].content
    # The stale message re-sends what its job's state calls for; the others send nothing.
    assert publisher.sent == [("validate", validating, 1)]
    with rt.db.session() as session:
        rows = store.attempts_of(session, fresh)
        assert [(a.attempt_no, a.outcome, a.tier) for a in rows] == [
            (1, ledger.IN_FLIGHT, 1), (2, ledger.IN_FLIGHT, 1)]
        assert rows[0].tenant == job_row(rt.db, fresh).tenant
        assert store.attempts_of(session, other_tier) == []
    assert job_row(rt.db, fresh).status == "running"
    assert job_row(rt.db, other_tier).status == "routed"
    assert job_row(rt.db, validating).status == "validating"


def test_an_escalated_job_is_prompted_with_its_rejections_as_alone(rt: Runtime) -> None:
    (job_id,) = routed(rt, 1)
    publisher = RecordingPublisher()
    pipeline.infer_job(rt, publisher, job_id, 1)
    pipeline.validate_attempt(rt, publisher, job_id, 1)
    assert publisher.sent[-1] == ("infer", job_id, 2)

    (together,) = pipeline.prepare_infers(rt, publisher, [(job_id, 2)])
    alone = pipeline.prepare_infer(rt, publisher, job_id, 2)

    assert together is not None and alone is not None
    assert together.request == alone.request
    with rt.db.session() as session:
        reasons = store.rejection_reasons(store.attempts_of(session, job_id))
    prompt = together.request.system + "".join(m.content for m in together.request.messages)
    assert reasons and all(reason in prompt for reason in reasons)
    assert (together.reserved, alone.reserved) == (2, 3)


@pytest.mark.parametrize("size", [2, 6])
def test_a_flush_is_claimed_in_one_transaction_of_four_statements(
        rt: Runtime, census: Census, size: int) -> None:
    job_ids = routed(rt, size)
    census.reset()

    calls = pipeline.prepare_infers(rt, RecordingPublisher(), [(j, 1) for j in job_ids])

    assert all(call is not None for call in calls)
    # Lock the jobs, read their ledger rows, write the reserved rows, set them running; no
    # feedback read for jobs that have no row yet.
    assert census.transactions == 1, census.statements
    assert dict(census.statements) == {"SELECT jobs": 1, "SELECT attempts": 1,
                                       "INSERT attempts": 1, "UPDATE jobs": 1}


def test_a_job_that_cannot_be_claimed_fails_alone(rt: Runtime, db: Database) -> None:
    good_first, poison, good_last = routed(rt, 3)
    with db.session() as session:
        session.execute(update(Job).where(Job.id == poison).values(spec={"task": "no such"}))
    publisher = RecordingPublisher()

    outcomes = batch.run_batch(rt, publisher, [batch.BatchItem(j, 1)
                                               for j in (good_first, poison, good_last)])

    assert [(item.job_id, type(outcome)) for item, outcome in outcomes] == [(poison, Again)]
    assert sorted(m[1] for m in publisher.sent if m[0] == "validate") == sorted(
        [good_first, good_last])
    assert job_row(db, poison).status == "routed"
    with db.session() as session:
        assert store.attempts_of(session, poison) == []
        assert [a.outcome for a in store.attempts_of(session, good_first)] == ["ok"]


def answered_together(rt: Runtime, job_ids: list[str]
                      ) -> list[tuple[int, pipeline.PreparedCall, list[CallRecord]]]:
    """The flush's calls, claimed together and answered (by the stubs), as one group."""
    calls = pipeline.prepare_infers(rt, RecordingPublisher(), [(j, 1) for j in job_ids])
    return [(index, call, call_chain(call.chain, call.request))
            for index, call in enumerate(calls) if call is not None]


def test_answers_that_arrive_together_are_ledgered_in_one_transaction(
        rt: Runtime, census: Census) -> None:
    job_ids = routed(rt, 3)
    group = answered_together(rt, job_ids)
    publisher = RecordingPublisher()
    census.reset()

    outcomes = batch._finish_group(rt, publisher, [batch.BatchItem(j, 1) for j in job_ids],
                                   [1, 1, 1], group)

    assert outcomes == {0: None, 1: None, 2: None}
    assert [m for m in publisher.sent if m[0] == "validate"] == [
        ("validate", j, 1) for j in job_ids]
    # Lock the jobs together, fill each reserved row in place, set them validating.
    assert census.transactions == 1, census.statements
    assert dict(census.statements) == {"SELECT jobs": 1, "UPDATE attempts": 3,
                                       "UPDATE jobs": 1}
    for job_id in job_ids:
        assert job_row(rt.db, job_id).status == "validating"


def test_a_group_keeps_each_answers_compare_and_set(rt: Runtime) -> None:
    moved_on, twice = routed(rt, 2)
    calls = pipeline.prepare_infers(rt, RecordingPublisher(),
                                    [(moved_on, 1), (twice, 1), (twice, 1)])
    pipeline.fail_job(rt, moved_on, "cancelled")
    answered = [(call, call_chain(call.chain, call.request)) for call in calls if call]

    recorded = pipeline.record_infers(rt, answered)

    # The job that moved on and the second answer of a job are ledgered, superseded.
    assert [(r.answered, r.current) for r in recorded] == [(1, False), (1, True), (2, False)]
    with rt.db.session() as session:
        rows = store.attempts_of(session, twice)
    assert [(a.outcome, a.error) for a in rows] == [("ok", None), ("ok", ledger.SUPERSEDED)]
    assert job_row(rt.db, moved_on).status == "failed"


def test_a_group_whose_ledger_raises_is_ledgered_item_by_item(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    job_ids = routed(rt, 3)
    group = answered_together(rt, job_ids)
    publisher = RecordingPublisher()

    def broken(*_: object) -> None:
        raise RuntimeError("the group's transaction failed")

    monkeypatch.setattr(batch, "record_infers", broken)
    outcomes = batch._finish_group(rt, publisher, [batch.BatchItem(j, 1) for j in job_ids],
                                   [1, 1, 1], group)

    assert outcomes == {0: None, 1: None, 2: None}
    assert sorted(m[1] for m in publisher.sent if m[0] == "validate") == sorted(job_ids)
    with rt.db.session() as session:
        for job_id in job_ids:
            assert [a.outcome for a in store.attempts_of(session, job_id)] == ["ok"]
