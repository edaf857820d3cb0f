"""Shadow tests on the real PostgreSQL, against the in-process simulator over HTTP.

These pin what an experiment may and may not do: a sampled live answer of the pinned model is
shadowed once per candidate, the candidate's answer (or failure) becomes one row, a redelivery
does nothing, and the job's status, result and ledger never change.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.pipeline_helpers import RecordingPublisher, submit_one
from tierline.config.settings import Settings
from tierline.config.tiers import DEFAULT_TIERS_FILE, TiersConfig
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result, ShadowResult
from tierline.providers.pricing import cost_usd
from tierline.reports.shadow import shadow_report
from tierline.routing.rules import RulesRouter
from tierline.simulator import FaultSpec, SimulatorConfig, start_in_thread
from tierline.simulator.stub import StubProvider
from tierline.tasks import pipeline
from tierline.tasks.runtime import Runtime
from tierline.tasks.shadow import run_shadow

pytestmark = pytest.mark.integration

PINNED = "llama-3.1-8b-instant"
GOOD_CANDIDATE = "groq:llama-3.3-70b-versatile"
FAILING_CANDIDATE = "groq:mixtral-8x7b-32768"
TIER2_CANDIDATE = "groq:llama3-70b-8192"


def _candidate(model: str) -> dict[str, Any]:
    return {"provider": "groq", "model": model, "price_in": 0.59, "price_out": 0.79,
            "context_window": 131072, "timeout_s": 5, "fraction": 1.0}


def shadowed_tiers() -> TiersConfig:
    """The shipped tiers, with every answer of tier 1 shadowed by two candidates (one of which
    the simulator always fails) and of tier 2 by one."""
    raw = tomllib.loads(DEFAULT_TIERS_FILE.read_text(encoding="utf-8"))
    raw["tiers"][0]["shadows"] = [_candidate("llama-3.3-70b-versatile"),
                                  _candidate("mixtral-8x7b-32768")]
    raw["tiers"][1]["shadows"] = [_candidate("llama3-70b-8192")]
    return TiersConfig.model_validate(raw)


@contextmanager
def simulated_runtime(db: Database, faults: dict[str, FaultSpec]) -> Iterator[Runtime]:
    config = SimulatorConfig(time_scale=0, faults=faults)
    with start_in_thread(config) as simulator:
        settings = Settings(database_url=db.url, simulator=True, simulator_url=simulator.url)
        yield Runtime(settings=settings, db=db, tiers=shadowed_tiers(), router=RulesRouter(),
                      simulator_url=simulator.url)


ALWAYS_500 = FaultSpec(server_error=1.0)


def infer(rt: Runtime, publisher: RecordingPublisher, job_id: str) -> int:
    """Route the job and run its first attempt; the attempt number of the answer."""
    pipeline.route_job(rt, publisher, job_id)
    kind, _, tier = publisher.sent.pop(0)
    assert kind == "infer"
    assert pipeline.infer_job(rt, publisher, job_id, tier) is None
    kind, _, attempt_no = publisher.sent.pop(0)
    assert kind == "validate"
    return attempt_no


def job_state(db: Database, job_id: str) -> tuple[Any, ...]:
    """Everything a shadow test must leave alone: the job row, its ledger and its result."""
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        result = session.get(Result, job_id)
        ledger = [(a.attempt_no, a.model, a.outcome, Decimal(a.cost_usd), a.validated,
                   json.dumps(a.findings)) for a in store.attempts_of(session, job_id)]
        kept = None if result is None else (result.attempt_no, json.dumps(result.output),
                                            Decimal(result.total_cost_usd), result.validated)
        return (job.status, job.status_reason, job.current_tier, job.updated_at), ledger, kept


def shadow_rows(db: Database, job_id: str) -> dict[str, ShadowResult]:
    with db.session() as session:
        rows = session.scalars(select(ShadowResult).where(ShadowResult.job_id == job_id))
        return {r.candidate: r for r in rows}


def test_pinned_answer_is_shadowed_once_per_candidate_and_the_job_is_untouched(
        db: Database) -> None:
    with simulated_runtime(db, {"mixtral-8x7b-32768": ALWAYS_500}) as rt:
        publisher = RecordingPublisher()
        job_id = submit_one(db)
        attempt_no = infer(rt, publisher, job_id)
        assert publisher.shadows == [(job_id, attempt_no, GOOD_CANDIDATE),
                                     (job_id, attempt_no, FAILING_CANDIDATE)]
        before = job_state(db, job_id)
        for _, number, label in publisher.shadows:
            assert run_shadow(rt, job_id, number, label) is True
        # A redelivery finds its row and does nothing, not even a call.
        assert run_shadow(rt, job_id, attempt_no, GOOD_CANDIDATE) is False
        assert job_state(db, job_id) == before

        rows = shadow_rows(db, job_id)
        good, failed = rows[GOOD_CANDIDATE], rows[FAILING_CANDIDATE]
        with db.session() as session:
            live = session.scalars(select(Attempt).where(Attempt.job_id == job_id)).one()
        assert (good.attempt_no, good.tier, good.pinned_model, good.candidate_model) == (
            attempt_no, 1, PINNED, "llama-3.3-70b-versatile")
        assert good.outcome == "ok" and good.error is None and good.output_text
        assert good.input_tokens > 0 and good.output_tokens > 0 and good.latency_ms >= 0
        candidate = rt.tiers.get(1).shadow(GOOD_CANDIDATE)
        assert candidate is not None
        assert Decimal(good.cost_usd) == cost_usd(candidate, good.input_tokens,
                                                  good.output_tokens) > 0
        assert good.validated is not None and good.findings
        assert good.agrees is (json.loads(good.output_text) == json.loads(live.output_text or ""))
        # The provider's failure is the experiment's data: a row with the error, no cost.
        assert failed.outcome == "ServerError" and failed.error
        assert (failed.output_text, failed.validated, failed.agrees) == (None, None, None)
        assert Decimal(failed.cost_usd) == 0

        # The job goes on as if nothing had happened, and the report pairs both sides.
        pipeline.validate_attempt(rt, publisher, job_id, attempt_no)
        assert job_state(db, job_id)[0][0] in ("done", "routed")
        with db.session() as session:
            assert len(store.attempts_of(session, job_id)) == 1
            report = {s.candidate: s for s in shadow_report(session)}
        assert report[GOOD_CANDIDATE].compared == 1 and report[FAILING_CANDIDATE].errors == 1
        assert report[FAILING_CANDIDATE].candidate_pass_rate == 0.0
        assert report[GOOD_CANDIDATE].verdict.startswith("too few samples")


def test_a_crash_in_the_candidate_call_is_recorded_and_the_job_is_untouched(
        db: Database) -> None:
    with simulated_runtime(db, {}) as rt:
        publisher = RecordingPublisher()
        job_id = submit_one(db)
        attempt_no = infer(rt, publisher, job_id)
        before = job_state(db, job_id)

        def broken(_request: object) -> str:
            raise RuntimeError("adapter bug")

        candidate = rt.tiers.get(1).shadow(GOOD_CANDIDATE)
        assert candidate is not None
        rt._providers[candidate.label] = StubProvider(broken)
        assert run_shadow(rt, job_id, attempt_no, GOOD_CANDIDATE) is True
        row = shadow_rows(db, job_id)[GOOD_CANDIDATE]
        assert row.outcome == "RuntimeError" and "adapter bug" in (row.error or "")
        assert job_state(db, job_id) == before


def test_an_answer_from_a_fallback_endpoint_is_not_shadowed(db: Database) -> None:
    with simulated_runtime(db, {PINNED: ALWAYS_500}) as rt:
        publisher = RecordingPublisher()
        job_id = submit_one(db)
        infer(rt, publisher, job_id)
        with db.session() as session:
            models = [a.model for a in store.attempts_of(session, job_id)]
        assert models[0] == PINNED and len(models) == 2  # the fallback answered
        assert publisher.shadows == []


def test_a_sensitive_document_reaches_no_candidate_its_tenant_does_not_allow(
        db: Database) -> None:
    with simulated_runtime(db, {}) as rt:
        publisher = RecordingPublisher()
        job_id = submit_one(db, context={"sensitive": True, "min_tier": 2})
        attempt_no = infer(rt, publisher, job_id)
        assert publisher.shadows == [(job_id, attempt_no, TIER2_CANDIDATE)]
        # The default policy allows only anthropic and openai hosts for sensitive documents.
        assert run_shadow(rt, job_id, attempt_no, TIER2_CANDIDATE) is False
        assert shadow_rows(db, job_id) == {}


def test_a_message_for_an_unknown_attempt_or_candidate_is_dropped(db: Database) -> None:
    with simulated_runtime(db, {}) as rt:
        publisher = RecordingPublisher()
        job_id = submit_one(db)
        attempt_no = infer(rt, publisher, job_id)
        assert run_shadow(rt, job_id, attempt_no + 5, GOOD_CANDIDATE) is False
        assert run_shadow(rt, job_id, attempt_no, "groq:not-in-the-tiers-file") is False
        assert shadow_rows(db, job_id) == {}


def test_shadow_command_reports_each_candidate(db: Database) -> None:
    from click.testing import CliRunner

    from tierline.cli.main import cli

    with simulated_runtime(db, {"mixtral-8x7b-32768": ALWAYS_500}) as rt:
        publisher = RecordingPublisher()
        job_id = submit_one(db)
        attempt_no = infer(rt, publisher, job_id)
        for _, number, label in publisher.shadows:
            run_shadow(rt, job_id, number, label)
        pipeline.validate_attempt(rt, publisher, job_id, attempt_no)
    env = {"TIERLINE_DATABASE_URL": db.url, "TIERLINE_BROKER_URL": "redis://127.0.0.1:1/0"}
    runner = CliRunner()
    as_json = runner.invoke(cli, ["shadow", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    figures = json.loads(as_json.output)
    by_candidate = {c["candidate"]: c for c in figures["candidates"]}
    assert set(by_candidate) == {GOOD_CANDIDATE, FAILING_CANDIDATE}
    assert by_candidate[FAILING_CANDIDATE]["errors"] == 1
    assert by_candidate[GOOD_CANDIDATE]["jobs"] == 1
    assert figures["experiment_cost_usd"] == by_candidate[GOOD_CANDIDATE]["candidate_cost_usd"] > 0
    shown = runner.invoke(cli, ["shadow"], env={**env, "COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "too few samples" in shown.output and "experiment cost" in shown.output
