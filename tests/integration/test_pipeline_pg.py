"""The pipeline's steps on the real PostgreSQL, with scripted providers and a recording publisher.

These pin the state machine: route → infer → validate → done, escalation with findings, the top
tier ending in needs_review, provider failures, and every step being safe to run twice.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.pipeline_helpers import (
    GOOD,
    INVENTED,
    RecordingPublisher,
    drive,
    job_row,
    make_runtime,
    submit_one,
)
from tierline.config.settings import Settings
from tierline.jobs.models import JobSpec, TaskType
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result, RoutingDecision
from tierline.prompts.completion import CompletionRequest
from tierline.providers import errors
from tierline.routing.breaker import BreakerPolicy, MemoryBreakers
from tierline.simulator.stub import StubProvider
from tierline.tasks import pipeline

pytestmark = pytest.mark.integration


def test_good_tier1_answer_is_done_with_one_result_and_ledger_row(db: Database) -> None:
    rt = make_runtime(db, {1: [StubProvider(GOOD)]})
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)
    job = job_row(db, job_id)
    assert (job.status, job.current_tier) == ("done", 1)
    with db.session() as session:
        result = session.get(Result, job_id)
        attempts = store.attempts_of(session, job_id)
        decisions = session.scalars(select(RoutingDecision)).all()
    assert result is not None and result.validated and result.output["invoice_number"] == "INV-2041"
    assert [a.outcome for a in attempts] == ["ok"]
    assert Decimal(result.total_cost_usd) == Decimal(attempts[0].cost_usd) > 0
    assert decisions[0].router_version == "rules-1"


def test_invented_value_escalates_with_findings_in_next_prompt(db: Database) -> None:
    tier1, tier2 = StubProvider(INVENTED), StubProvider(GOOD, name="t2")
    rt = make_runtime(db, {1: [tier1], 2: [tier2]})
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)
    job = job_row(db, job_id)
    assert (job.status, job.current_tier) == ("done", 2)
    assert "INV-9999" in tier2.requests[0].system  # the reason travels to the next tier
    with db.session() as session:
        attempts = store.attempts_of(session, job_id)
        result = session.get(Result, job_id)
    assert [(a.tier, a.validated) for a in attempts] == [(1, False), (2, True)]
    assert result is not None and result.tier == 2
    assert Decimal(result.total_cost_usd) == sum(Decimal(a.cost_usd) for a in attempts)


def test_top_tier_failure_needs_review_and_keeps_best_output(db: Database) -> None:
    # Different wrong answers: the same one twice would be a disagreement with the checks.
    other = INVENTED.replace("INV-9999", "INV-8888")
    rt = make_runtime(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(other)],
                           3: [StubProvider("I don't know.")]})
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)
    job = job_row(db, job_id)
    assert job.status == "needs_review" and "tier 3 failed" in (job.status_reason or "")
    with db.session() as session:
        result = session.get(Result, job_id)
        count = session.scalar(select(func.count()).select_from(Attempt))
    assert count == 3
    assert result is not None and result.validated is False and result.output is not None


def test_ceiling_tier_stops_escalation(db: Database) -> None:
    rt = make_runtime(db, {1: [StubProvider(INVENTED)]})
    job_id = submit_one(db, context={"max_tier": 1})
    drive(rt, RecordingPublisher(), job_id)
    assert job_row(db, job_id).status == "needs_review"


def test_fallback_chain_uses_second_endpoint_and_ledgers_both_calls(db: Database) -> None:
    down = StubProvider(errors.ServerError("503 overloaded"))
    rt = make_runtime(db, {1: [down, StubProvider(GOOD, name="together")]})
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)
    with db.session() as session:
        attempts = store.attempts_of(session, job_id)
    assert [(a.provider, a.outcome) for a in attempts] == [("groq", "ServerError"), ("together", "ok")]
    assert Decimal(attempts[0].cost_usd) == 0
    assert job_row(db, job_id).status == "done"


def test_all_endpoints_rate_limited_asks_to_retry_later(db: Database) -> None:
    limited = StubProvider(errors.RateLimited("429", retry_after=7))
    rt = make_runtime(db, {1: [limited, limited]})
    job_id = submit_one(db)
    publisher = RecordingPublisher()
    pipeline.route_job(rt, publisher, job_id)
    outcome = pipeline.infer_job(rt, publisher, job_id, 1)
    assert isinstance(outcome, pipeline.RetryLater) and outcome.delay_s == 7
    assert job_row(db, job_id).status == "running"
    delay = pipeline.retry_or_give_up(rt, publisher, job_id, 1, 0, outcome)
    assert delay is not None and delay >= 7  # never sooner than the server's Retry-After
    tries = rt.settings.max_provider_retries
    assert pipeline.retry_or_give_up(rt, publisher, job_id, 1, tries, outcome) is None
    assert publisher.sent[-1] == ("infer", job_id, 2)
    assert job_row(db, job_id).current_tier == 2


def test_open_breakers_hold_the_job_back_without_calls_or_ledger_rows(db: Database) -> None:
    down = StubProvider(errors.ServerError("503 overloaded"))
    rt = make_runtime(db, {1: [down, down]})
    rt.breakers = MemoryBreakers(BreakerPolicy(failures_to_open=1, open_for_s=30))
    job_id = submit_one(db)
    publisher = RecordingPublisher()
    pipeline.route_job(rt, publisher, job_id)
    first = pipeline.infer_job(rt, publisher, job_id, 1)
    assert isinstance(first, pipeline.RetryLater) and len(down.requests) == 2
    second = pipeline.infer_job(rt, publisher, job_id, 1)
    assert isinstance(second, pipeline.RetryLater) and len(down.requests) == 2
    assert 29 < second.delay_s <= 30 and "circuit open" in second.reason
    with db.session() as session:
        attempts = store.attempts_of(session, job_id)
    assert [a.outcome for a in attempts] == ["ServerError", "ServerError"]


def test_permanent_errors_everywhere_fail_the_job_with_reason(db: Database) -> None:
    refused = StubProvider(errors.BadRequest("400 model not found"))
    rt = make_runtime(db, {t: [refused, refused] for t in (1, 2, 3)})
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)
    job = job_row(db, job_id)
    assert job.status == "failed" and "model not found" in (job.status_reason or "")


def test_every_step_is_safe_to_run_twice(db: Database) -> None:
    stub = StubProvider(GOOD)
    rt = make_runtime(db, {1: [stub]})
    job_id = submit_one(db)
    publisher = RecordingPublisher()
    pipeline.route_job(rt, publisher, job_id)
    pipeline.route_job(rt, publisher, job_id)  # redelivered route: no second decision
    assert publisher.sent == [("infer", job_id, 1), ("infer", job_id, 1)]
    pipeline.infer_job(rt, publisher, job_id, 1)
    pipeline.infer_job(rt, publisher, job_id, 1)  # duplicate: re-publishes validate, no new call
    assert len(stub.requests) == 1
    pipeline.validate_attempt(rt, publisher, job_id, 1)
    pipeline.validate_attempt(rt, publisher, job_id, 1)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(RoutingDecision)) == 1
        assert session.scalar(select(func.count()).select_from(Result)) == 1
    assert job_row(db, job_id).status == "done"


def test_resubmitting_the_same_jobs_is_a_no_op(db: Database) -> None:
    specs = [JobSpec(task=TaskType.SUMMARIZE, document=f"doc {i}") for i in range(3)]
    with db.session() as session:
        first = store.insert_jobs(session, specs)
    with db.session() as session:
        second = store.insert_jobs(session, [*specs, JobSpec(task=TaskType.SUMMARIZE, document="new")])
    assert len(first.job_ids) == 3 and first.duplicates == 0
    assert len(second.job_ids) == 1 and second.duplicates == 3


def test_bad_feedback_reruns_one_tier_up_and_keeps_both_results(db: Database) -> None:
    from tierline.persistence.tables import Feedback, ResultHistory
    from tierline.tasks.feedback import FeedbackError, give_feedback

    tier2 = StubProvider(GOOD, name="t2")
    rt = make_runtime(db, {1: [StubProvider(GOOD)], 2: [tier2]})
    job_id = submit_one(db)
    publisher = RecordingPublisher()
    drive(rt, publisher, job_id)
    outcome = give_feedback(db, rt.tiers, publisher, job_id, bad=True, reason="wrong vendor")
    assert outcome.rerun_tier == 2 and publisher.sent == [("infer", job_id, 2)]
    assert job_row(db, job_id).status == "routed"
    _, jid, tier = publisher.sent.pop(0)
    pipeline.infer_job(rt, publisher, jid, tier)
    _, jid, attempt_no = publisher.sent.pop(0)
    pipeline.validate_attempt(rt, publisher, jid, attempt_no)
    assert "wrong vendor" in tier2.requests[0].system
    with db.session() as session:
        current = session.get(Result, job_id)
        history = session.scalars(select(ResultHistory)).all()
        feedback = session.scalars(select(Feedback)).all()
    assert current is not None and current.tier == 2 and current.attempt_no == 2
    assert [h.tier for h in history] == [1]
    assert [(f.verdict, f.attempt_no) for f in feedback] == [("bad", 1)]
    assert job_row(db, job_id).status == "done"
    with pytest.raises(FeedbackError, match="no job"):
        give_feedback(db, rt.tiers, publisher, "missing", bad=True)


def test_bad_feedback_at_the_ceiling_sends_job_to_review(db: Database) -> None:
    from tierline.tasks.feedback import give_feedback

    rt = make_runtime(db, {1: [StubProvider(GOOD)]})
    job_id = submit_one(db, context={"max_tier": 1})
    publisher = RecordingPublisher()
    drive(rt, publisher, job_id)
    outcome = give_feedback(db, rt.tiers, publisher, job_id, bad=True, reason="nope")
    assert outcome.rerun_tier is None and publisher.sent == []
    assert job_row(db, job_id).status == "needs_review"


def test_quality_report_counts_pass_rates_and_rejections(db: Database) -> None:
    from tierline.reports.quality import quality_report

    rt = make_runtime(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(GOOD, name="t2")]})
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)
    with db.session() as session:
        batch_id = session.get(Job, job_id).batch_id  # type: ignore[union-attr]
        report = quality_report(session, batch_id).as_dict()
    assert report["pass_rate_per_tier"] == {"1": 0.0, "2": 1.0}
    assert report["escalations_per_reason"]
    assert report["needs_review"] == []


def test_sensitive_job_only_reaches_hosts_its_tenant_allows(db: Database) -> None:
    """Tier 1's hosts (groq, together) may not read it: the job moves up to an allowed host."""
    groq = StubProvider(GOOD, name="groq")
    anthropic = StubProvider(GOOD, name="anthropic")
    rt = make_runtime(db, {1: [groq, groq], 2: [anthropic]})
    job_id = submit_one(db, context={"sensitive": True})
    drive(rt, RecordingPublisher(), job_id)
    assert groq.requests == [] and len(anthropic.requests) == 1
    job = job_row(db, job_id)
    assert (job.status, job.current_tier) == ("done", 2)


def test_ledger_labels_are_exact_and_train_a_router(db: Database) -> None:
    from tierline.persistence.ledger import lowest_good_tier, training_outcomes
    from tierline.routing.training import train

    assert lowest_good_tier({1: False, 2: True}) == (True, 2)
    assert lowest_good_tier({2: True}) == (False, 2)  # tier 1 never asked: no label
    assert lowest_good_tier({1: False, 2: False, 3: False}) == (True, None)
    # Stopped at tier 2 by a ceiling: whether tier 3 would do is unknown.
    assert lowest_good_tier({1: False, 2: False}) == (False, None)
    rt = make_runtime(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(GOOD, name="t2")]})
    escalated = submit_one(db)
    direct = submit_one(db, context={"min_tier": 2}, key="direct")
    for job_id in (escalated, direct):
        drive(rt, RecordingPublisher(), job_id)
    with db.session() as session:
        outcomes = list(training_outcomes(session))
    assert [(spec.key, label) for spec, label in outcomes] == [(None, 2)]
    model = train(ledger=outcomes * 20, version="ledger-test")
    assert model.metadata["trained_on"]


def test_sampled_judge_rejects_and_its_calls_are_on_the_ledger(db: Database) -> None:
    """The judge (a tier-1 model) says UNSUPPORTED: the output escalates, and the judge's
    call is a ledger row counted in the job's total cost."""
    verdicts = iter(["UNSUPPORTED: the invoice number is not the one in the document",
                     "SUPPORTED: every value is in the document"])

    def tier1(request: CompletionRequest) -> str:
        return next(verdicts) if "Task: judge" in request.system else GOOD

    rt = make_runtime(db, {1: [StubProvider(tier1)], 2: [StubProvider(GOOD, name="t2")]})
    rt.settings = Settings(database_url=db.url, simulator=False, judge_fraction=1.0)
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)
    with db.session() as session:
        attempts = store.attempts_of(session, job_id)
        result = session.get(Result, job_id)
    # The tier-2 answer is judged too (tiers 1 and 2 are), and passes.
    assert [(a.tier, a.outcome) for a in attempts] == [(1, "ok"), (1, "judge_ok"), (2, "ok"), (1, "judge_ok")]
    assert any(f["check"] == "judge" and not f["passed"] for f in attempts[0].findings or [])
    assert result is not None and Decimal(result.total_cost_usd) == sum(Decimal(a.cost_usd) for a in attempts)
