"""The route and validate steps over a flush of jobs, on the real PostgreSQL: each kind of job in
a flush (fresh, already past the step, missing, poison, unreadable) gets what it would get
alone, and a flush costs one transaction and a fixed number of statements, however many jobs
it holds."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from tests.integration.pipeline_helpers import (
    GOOD,
    INVENTED,
    Census,
    RecordingPublisher,
    job_row,
    make_runtime,
    submit_many,
    submit_one,
)
from tierline.config.settings import Settings
from tierline.jobs.models import JobSpec
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result, RoutingDecision
from tierline.prompts.completion import CompletionRequest
from tierline.simulator.stub import StubProvider
from tierline.tasks import pipeline
from tierline.tasks.deliveries import delivery_key
from tierline.tasks.guard import Again
from tierline.tasks.route_batch import run_route_batch
from tierline.tasks.runtime import Runtime
from tierline.tasks.step_flush import StepItem
from tierline.tasks.validate_batch import run_validate_batch

pytestmark = pytest.mark.integration

FLUSH = 6
MISSING = "00000000-0000-0000-0000-000000000000"


def decisions_of(db: Database, job_id: str) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(RoutingDecision)
                              .where(RoutingDecision.job_id == job_id)) or 0


def make_poison(rt: Runtime, step: str, job_id: str, at: int = 0) -> None:
    """Deliveries that started and never finished (their worker died), up to the limit."""
    for _ in range(rt.settings.poison_deliveries):
        rt.deliveries.begin([delivery_key(step, job_id, at)])


def test_a_route_flush_routes_fresh_jobs_republishes_routed_ones_and_quarantines_poison(
        db: Database) -> None:
    rt = make_runtime(db, {})
    publisher = RecordingPublisher()
    fresh_a, fresh_b, routed, poison = submit_many(db, 4)
    pipeline.route_job(rt, publisher, routed)
    tier = job_row(db, routed).current_tier
    publisher.sent.clear()
    make_poison(rt, "route", poison)

    again = run_route_batch(rt, publisher, [StepItem(j) for j in
                                            (fresh_a, routed, MISSING, poison, fresh_b)])

    assert again == []
    for job_id in (fresh_a, fresh_b):
        job = job_row(db, job_id)
        assert (job.status, decisions_of(db, job_id)) == ("routed", 1)
        assert ("infer", job_id, job.current_tier) in publisher.sent
    # Already routed: its tier message again, no second decision.
    assert ("infer", routed, tier) in publisher.sent and decisions_of(db, routed) == 1
    quarantined = job_row(db, poison)
    assert quarantined.status == "failed"
    assert (quarantined.status_reason or "").startswith("quarantined: route started")
    assert len(publisher.sent) == 3
    # Every delivery that ended is forgotten: the next flush starts each count again.
    assert rt.deliveries.begin([delivery_key("route", fresh_a, 0)]) == [1]


def test_one_unreadable_job_is_retried_alone_and_the_rest_of_its_flush_is_routed(
        db: Database) -> None:
    rt = make_runtime(db, {})
    publisher = RecordingPublisher()
    good_a, bad, good_b = submit_many(db, 3)
    with db.session() as session:
        session.execute(update(Job).where(Job.id == bad).values(spec={"task": "no such task"}))

    again = run_route_batch(rt, publisher, [StepItem(j) for j in (good_a, bad, good_b)])

    assert [(item.job_id, type(outcome)) for item, outcome in again] == [(bad, Again)]
    assert [job_row(db, j).status for j in (good_a, bad, good_b)] == ["routed", "queued",
                                                                        "routed"]
    assert {m[1] for m in publisher.sent} == {good_a, good_b}


def test_a_route_flush_is_one_transaction_of_three_statements(
        db: Database, census: Census) -> None:
    rt = make_runtime(db, {})
    publisher = RecordingPublisher()
    job_ids = submit_many(db, FLUSH)
    census.reset()

    assert run_route_batch(rt, publisher, [StepItem(j) for j in job_ids]) == []

    # Lock every job, insert every decision, update every job: one statement each.
    assert (census.transactions, census.total()) == (1, 3), census.statements
    assert census.statements["INSERT routing_decisions"] == 1
    assert len(publisher.sent) == FLUSH


def answered(db: Database, rt: Runtime, publisher: RecordingPublisher,
             job_ids: list[str]) -> None:
    """Route the jobs and have tier 1 answer each: an attempt awaits validation."""
    for job_id in job_ids:
        pipeline.route_job(rt, publisher, job_id)
        assert pipeline.infer_job(rt, publisher, job_id, 1) is None
    publisher.sent.clear()


def test_a_validate_flush_records_each_verdict_escalates_and_republishes(
        db: Database) -> None:
    rt = make_runtime(db, {1: [StubProvider(GOOD)]})
    publisher = RecordingPublisher()
    good, wrong, done, poison = submit_many(db, 4)
    answered(db, rt, publisher, [good, done, poison])
    inventing = make_runtime(db, {1: [StubProvider(INVENTED)]})
    answered(db, inventing, publisher, [wrong])
    pipeline.validate_attempt(rt, publisher, done, 1)
    assert job_row(db, done).status == "done"
    publisher.sent.clear()
    make_poison(rt, "validate", poison, 1)

    again = run_validate_batch(rt, publisher, [
        StepItem(good, 1), StepItem(wrong, 1), StepItem(done, 1), StepItem(MISSING, 1),
        StepItem(good, 7), StepItem(poison, 1)])

    assert again == []
    assert job_row(db, good).status == "done"
    escalated = job_row(db, wrong)
    assert (escalated.status, escalated.current_tier) == ("routed", 2)
    assert publisher.sent == [("infer", wrong, 2)]
    with db.session() as session:
        verdicts = {a.job_id: a.validated for a in session.scalars(select(Attempt))}
        results = set(session.scalars(select(Result.job_id)))
    assert (verdicts[good], verdicts[wrong], verdicts[poison]) == (True, False, None)
    assert results == {good, done}
    assert job_row(db, poison).status == "failed"


def test_a_validate_flush_is_one_transaction_of_five_statements(
        db: Database, census: Census) -> None:
    rt = make_runtime(db, {1: [StubProvider(GOOD)]})
    publisher = RecordingPublisher()
    job_ids = submit_many(db, FLUSH)
    answered(db, rt, publisher, job_ids)
    census.reset()

    assert run_validate_batch(rt, publisher, [StepItem(j, 1) for j in job_ids]) == []

    # Lock every job, read every ledger row, then one statement each for the verdicts, the
    # results and the jobs' states.
    assert (census.transactions, census.total()) == (1, 5), census.statements
    assert census.statements["INSERT results"] == 1
    assert all(job_row(db, j).status == "done" for j in job_ids)


def test_an_attempt_whose_tier_asks_a_judge_is_validated_alone_after_the_sets_commit(
        db: Database) -> None:
    def tier1(request: CompletionRequest) -> str:
        return ("UNSUPPORTED: the invoice number is not the one in the document"
                if "Task: judge" in request.system else GOOD)

    rt = make_runtime(db, {1: [StubProvider(tier1)]})
    publisher = RecordingPublisher()
    # Only the first job's feature asks the judge.
    judged, [plain] = submit_one(db, feature="judged"), submit_many(db, 1)
    answered(db, rt, publisher, [judged, plain])
    rt.settings = Settings(database_url=db.url, simulator=False,
                           judge_fraction_by_feature={"judged": 1.0})

    assert run_validate_batch(rt, publisher, [StepItem(judged, 1), StepItem(plain, 1)]) == []

    assert job_row(db, plain).status == "done"
    # The judge said no: the judged job escalates, and the judge's call is on its ledger.
    assert publisher.sent == [("infer", judged, 2)]
    with db.session() as session:
        outcomes = [a.outcome for a in store.attempts_of(session, judged)]
    assert outcomes == ["ok", "judge_ok"]


def test_a_route_flush_writes_a_budgets_cap_into_the_capped_jobs_spec_alone(
        db: Database) -> None:
    from tests.integration.test_budgets_pg import ACME_MONTH, budgeted, plant_spend

    plant_spend(db, "acme", "81.20")
    rt = budgeted(db, {}, ACME_MONTH)
    publisher = RecordingPublisher()
    capped, free = submit_one(db, tenant="acme", key="capped"), submit_one(db, key="free")

    assert run_route_batch(rt, publisher, [StepItem(capped), StepItem(free)]) == []

    ceilings = {j: JobSpec.model_validate(job_row(db, j).spec).context.max_tier
                for j in (capped, free)}
    assert ceilings == {capped: 2, free: 3}
    assert [job_row(db, j).status for j in (capped, free)] == ["routed", "routed"]


def test_a_validate_flush_ends_a_disagreement_and_keeps_it_on_the_attempts_findings(
        db: Database) -> None:
    rt = make_runtime(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(INVENTED, name="t2")]})
    rt.settings = Settings(database_url=db.url, simulator=False, disagreement_policy="review")
    publisher = RecordingPublisher()
    [job_id] = submit_many(db, 1)
    answered(db, rt, publisher, [job_id])
    assert run_validate_batch(rt, publisher, [StepItem(job_id, 1)]) == []
    assert publisher.sent == [("infer", job_id, 2)]
    assert pipeline.infer_job(rt, publisher, job_id, 2) is None

    assert run_validate_batch(rt, publisher, [StepItem(job_id, 2)]) == []

    job = job_row(db, job_id)
    assert job.status == "needs_review"
    assert (job.status_reason or "").startswith("validator disagreement: tiers 1 and 2")
    with db.session() as session:
        attempts = store.attempts_of(session, job_id)
        result = session.get(Result, job_id)
    assert [(a.tier, a.validated) for a in attempts] == [(1, False), (2, False)]
    assert any(f["check"] == "disagreement" for f in attempts[-1].findings or [])
    assert result is not None and (result.tier, result.validated) == (2, False)
