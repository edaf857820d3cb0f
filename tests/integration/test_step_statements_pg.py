"""Each step's round trips to PostgreSQL: what one statement can say is not said by several,
and a step is one transaction where one will do (a step's cost is mostly these)."""

from __future__ import annotations

from tests.integration.pipeline_helpers import (
    GOOD,
    INVENTED,
    Census,
    RecordingPublisher,
    job_row,
    make_runtime,
    submit_one,
)
from tierline.persistence.db import Database
from tierline.simulator.stub import StubProvider
from tierline.tasks import pipeline


def test_a_first_attempt_costs_two_transactions_and_its_validation_one(
        db: Database, census: Census) -> None:
    rt = make_runtime(db, {1: [StubProvider(GOOD)]})
    publisher = RecordingPublisher()
    job_id = submit_one(db)
    pipeline.route_job(rt, publisher, job_id)
    census.reset()

    assert pipeline.infer_job(rt, publisher, job_id, 1) is None
    # Claim: lock, the ledger rows, the reserved row, the status; no feedback read for a job
    # that has no result yet. Record: lock, fill the reserved row in place, the status.
    assert (census.transactions, census.total()) == (2, 7), census.statements
    assert census.statements["SELECT attempts"] == 1
    assert census.statements["SELECT feedback"] == 0

    census.reset()
    (_, _, attempt_no) = publisher.sent[-1]
    pipeline.validate_attempt(rt, publisher, job_id, attempt_no)
    # Lock, the ledger rows, the verdict, the result (its totals from the rows read), status.
    assert (census.transactions, census.total()) == (1, 5), census.statements
    job = job_row(db, job_id)
    assert job.status == "done"


def test_an_escalated_attempt_reads_its_feedback_and_numbers_after_the_first(
        db: Database, census: Census) -> None:
    rt = make_runtime(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(GOOD, name="t2")]})
    publisher = RecordingPublisher()
    job_id = submit_one(db)
    pipeline.route_job(rt, publisher, job_id)
    pipeline.infer_job(rt, publisher, job_id, 1)
    pipeline.validate_attempt(rt, publisher, job_id, 1)
    assert publisher.sent[-1] == ("infer", job_id, 2)
    census.reset()
    pipeline.infer_job(rt, publisher, job_id, 2)
    assert census.statements["SELECT feedback"] == 1
    assert publisher.sent[-1] == ("validate", job_id, 2)
    pipeline.validate_attempt(rt, publisher, job_id, 2)
    assert job_row(db, job_id).status == "done"
