"""Spend budgets through the pipeline on the real PostgreSQL, with scripted providers.

The route step's clock is driven (a fixed day in 2030): the ledger rows a test plants are dated in
that period, and the pipeline's own calls (dated today) are not, so every spend is the planted one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select

from tests.integration.pipeline_helpers import (
    GOOD,
    INVENTED,
    RecordingPublisher,
    drive,
    job_row,
    make_runtime,
    submit_one,
)
from tierline.cli.main import cli
from tierline.config.tiers import TiersConfig
from tierline.jobs.models import JobSpec
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, RoutingDecision, ShadowResult, utcnow
from tierline.providers import errors
from tierline.reports.budgets import ledger_spend
from tierline.routing.base import Decision
from tierline.routing.budget import Budget
from tierline.routing.policy import load_policy
from tierline.simulator.stub import StubProvider
from tierline.tasks.budgets import SpendCache
from tierline.tasks.feedback import give_feedback
from tierline.tasks.runtime import Runtime

pytestmark = pytest.mark.integration

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
ACME_MONTH = {"tenant": "acme", "period": "month", "limit_usd": 100}


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def plant_spend(db: Database, tenant: str, usd: str, feature: str = "default",
                at: datetime | None = None) -> None:
    """A ledger row of `usd` for `tenant` and `feature`, dated `at` (default: an hour before NOW)."""
    job_id = submit_one(db, tenant=tenant, feature=feature,
                        key=f"spend-{tenant}-{feature}-{usd}-{at}")
    with db.session() as session:
        session.add(Attempt(job_id=job_id, attempt_no=1, tier=3, provider="stub", model="stub-1",
                            tenant=tenant, user="anonymous", feature=feature, query_type="extract",
                            cost_usd=Decimal(usd), outcome="ok",
                            created_at=at or NOW - timedelta(hours=1)))


def budgeted(db: Database, scripts: dict[int, list[StubProvider]], *budgets: dict[str, Any],
             clock: Clock | None = None) -> Runtime:
    rt = make_runtime(db, scripts)
    rt.policy = load_policy().model_copy(update={
        "budgets": tuple(Budget.model_validate(b) for b in budgets)})
    rt.spend = SpendCache(refresh_s=10, clock=clock or Clock())
    return rt


def decisions(db: Database, job_id: str) -> list[RoutingDecision]:
    with db.session() as session:
        return list(session.scalars(select(RoutingDecision)
                                    .where(RoutingDecision.job_id == job_id)))


def attempts_count(db: Database, job_id: str) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Attempt)
                              .where(Attempt.job_id == job_id)) or 0


@pytest.fixture()
def spend_queries(db: Database) -> Iterator[list[str]]:
    """Every statement that sums the ledger for a budget, as the database receives it (a job's
    own total, summed for its result row, is not one)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "sum(attempts.cost_usd)" in statement and "attempts.job_id =" not in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


# Tier 2 wrong in another way than tier 1: the same wrong answer twice would end the job as a
# disagreement with the checks (validation.disagreement), not by the budget's cap.
OTHER_WRONG = INVENTED.replace("INV-9999", "INV-8888")
CAPPED_REASON = "budget acme/* month: $81.20 of $100.00 spent; tiers above 2 closed"


def test_job_over_a_soft_limit_is_capped_and_its_escalation_stops_at_the_cap(
        db: Database) -> None:
    plant_spend(db, "acme", "81.20")
    top = StubProvider(GOOD, name="t3")
    rt = budgeted(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(OTHER_WRONG, name="t2")],
                       3: [top]}, ACME_MONTH)
    job_id = submit_one(db, tenant="acme", key="capped")
    drive(rt, RecordingPublisher(), job_id)
    job = job_row(db, job_id)
    assert (job.status, job.current_tier) == ("needs_review", 2)
    assert (job.status_reason or "").startswith("tier 2 failed")
    assert top.requests == []
    assert JobSpec.model_validate(job.spec).context.max_tier == 2
    (decision,) = decisions(db, job_id)
    assert (decision.tier, decision.reasons[0]) == (1, CAPPED_REASON)


def test_job_the_router_sends_above_the_cap_is_routed_at_the_cap_naming_the_budget(
        db: Database) -> None:
    plant_spend(db, "acme", "81.20")
    top = StubProvider(GOOD, name="t3")
    rt = budgeted(db, {2: [StubProvider(GOOD, name="t2")], 3: [top]}, ACME_MONTH)
    # High impact and low tolerance: the rules router wants tier 3.
    job_id = submit_one(db, tenant="acme", key="wants-3",
                        context={"business_impact": "high", "error_tolerance": "low"})
    drive(rt, RecordingPublisher(), job_id)
    (decision,) = decisions(db, job_id)
    assert decision.tier == 2
    assert decision.reasons[0] == CAPPED_REASON
    assert "job ceiling: tier 2" in decision.reasons
    assert (job_row(db, job_id).status, top.requests) == ("done", [])


def test_tier_give_up_and_feedback_rerun_stop_at_the_cap(db: Database) -> None:
    plant_spend(db, "acme", "81.20")
    refused = StubProvider(errors.BadRequest("400 model not found"), name="t2")
    top = StubProvider(GOOD, name="t3")
    rt = budgeted(db, {1: [StubProvider(INVENTED)], 2: [refused, refused], 3: [top]},
                  ACME_MONTH)
    given_up = submit_one(db, tenant="acme", key="given-up")
    drive(rt, RecordingPublisher(), given_up)
    job = job_row(db, given_up)
    assert (job.status, job.current_tier) == ("failed", 2)
    assert "tier 2 cannot serve this job" in (job.status_reason or "")

    done = submit_one(db, tenant="acme", key="done-at-2",
                      context={"business_impact": "high"})  # the rules router: tier 2
    rt = budgeted(db, {2: [StubProvider(GOOD, name="t2")], 3: [top]}, ACME_MONTH)
    drive(rt, RecordingPublisher(), done)
    assert (job_row(db, done).status, job_row(db, done).current_tier) == ("done", 2)
    publisher = RecordingPublisher()
    outcome = give_feedback(db, rt.tiers, publisher, done, bad=True, reason="wrong total")
    assert outcome.rerun_tier is None and publisher.sent == []
    assert job_row(db, done).status == "needs_review"
    assert top.requests == []


def test_job_over_the_limit_fails_with_the_reason_and_calls_nothing(db: Database) -> None:
    plant_spend(db, "acme", "60.40")
    plant_spend(db, "acme", "40.00", feature="search")  # every feature counts: feature "*"
    stub = StubProvider(GOOD)
    rt = budgeted(db, {1: [stub], 2: [stub], 3: [stub]}, ACME_MONTH)
    job_id = submit_one(db, tenant="acme", key="over")
    publisher = RecordingPublisher()
    drive(rt, publisher, job_id)
    job = job_row(db, job_id)
    assert job.status == "failed"
    assert job.status_reason == "budget acme/* month exhausted: $100.40 of $100.00"
    assert job.finished_at is not None
    assert (attempts_count(db, job_id), decisions(db, job_id), stub.requests) == (0, [], [])
    assert publisher.sent == []


def test_job_whose_own_floor_is_above_the_cap_fails_with_the_reason(db: Database) -> None:
    plant_spend(db, "acme", "81.20")
    stub = StubProvider(GOOD)
    rt = budgeted(db, {1: [stub], 2: [stub], 3: [stub]}, ACME_MONTH)
    job_id = submit_one(db, tenant="acme", key="floor-3", context={"min_tier": 3})
    drive(rt, RecordingPublisher(), job_id)
    job = job_row(db, job_id)
    assert (job.status, job.status_reason) == (
        "failed", f"{CAPPED_REASON}; this job's own floor is tier 3")
    assert (attempts_count(db, job_id), stub.requests) == (0, [])


class WindowBoundRouter:
    """Routes every job to tier 3, as the policy does when tiers 1-2 are too small for it."""

    version = "window-bound"

    def decide(self, job: JobSpec, tiers: TiersConfig) -> Decision:
        return Decision(tier=3, reasons=("input does not fit tier 2's context window",))


def test_job_only_a_tier_above_the_cap_can_take_fails_with_the_reason(db: Database) -> None:
    plant_spend(db, "acme", "81.20")
    stub = StubProvider(GOOD)
    rt = budgeted(db, {1: [stub], 2: [stub], 3: [stub]}, ACME_MONTH)
    rt.router = WindowBoundRouter()
    job_id = submit_one(db, tenant="acme", key="too-long")
    drive(rt, RecordingPublisher(), job_id)
    job = job_row(db, job_id)
    assert (job.status, job.status_reason) == (
        "failed", f"{CAPPED_REASON}; tier 3 is the lowest that may take this job")
    assert (attempts_count(db, job_id), decisions(db, job_id), stub.requests) == (0, [], [])


def test_job_of_another_tenant_is_untouched(db: Database) -> None:
    plant_spend(db, "acme", "100.40")
    rt = budgeted(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(OTHER_WRONG, name="t2")],
                       3: [StubProvider(GOOD, name="t3")]}, ACME_MONTH)
    job_id = submit_one(db, tenant="globex", key="globex")
    drive(rt, RecordingPublisher(), job_id)
    job = job_row(db, job_id)
    assert (job.status, job.current_tier) == ("done", 3)
    assert JobSpec.model_validate(job.spec).context.max_tier == 3
    assert not any("budget" in r for r in decisions(db, job_id)[0].reasons)


def test_spend_is_summed_once_per_refresh_interval_not_once_per_job(
        db: Database, spend_queries: list[str]) -> None:
    clock = Clock()
    rt = budgeted(db, {1: [StubProvider(GOOD)]},
                  {"tenant": "acme", "period": "day", "limit_usd": 1}, clock=clock)
    publisher = RecordingPublisher()
    first = submit_one(db, tenant="acme", key="first")
    drive(rt, publisher, first)
    assert job_row(db, first).status == "done" and len(spend_queries) == 1

    plant_spend(db, "acme", "1.50", at=NOW)  # the budget is now spent, but not yet seen
    clock.advance(9.9)
    batch = [submit_one(db, tenant="acme", key=f"bulk-{i}") for i in range(20)]
    for job_id in batch:
        drive(rt, publisher, job_id)
    assert {job_row(db, j).status for j in batch} == {"done"}
    assert len(spend_queries) == 1

    clock.advance(0.1)  # ten seconds since the reading: read again
    late = submit_one(db, tenant="acme", key="late")
    drive(rt, publisher, late)
    assert job_row(db, late).status_reason == "budget acme/* day exhausted: $1.50 of $1.00"
    assert len(spend_queries) == 2


def test_a_new_period_is_read_at_once_and_starts_from_its_own_spend(db: Database) -> None:
    clock = Clock(NOW.replace(hour=23, minute=59, second=58))
    plant_spend(db, "acme", "2", at=clock.now - timedelta(minutes=1))
    rt = budgeted(db, {1: [StubProvider(GOOD)]},
                  {"tenant": "acme", "period": "day", "limit_usd": 1}, clock=clock)
    today = submit_one(db, tenant="acme", key="today")
    drive(rt, RecordingPublisher(), today)
    assert job_row(db, today).status == "failed"
    clock.advance(3)  # past midnight UTC, well inside the refresh interval
    tomorrow = submit_one(db, tenant="acme", key="tomorrow")
    drive(rt, RecordingPublisher(), tomorrow)
    assert job_row(db, tomorrow).status == "done"


def test_ledger_spend_matches_globs_and_counts_only_the_period(db: Database) -> None:
    for tenant, usd in [("acme-eu", "1"), ("acme-us", "2"), ("acme_x", "4"), ("acmeXx", "8"),
                        ("globex", "16"), ("ACME-EU", "256")]:
        plant_spend(db, tenant, usd, feature="bulk-1")
    plant_spend(db, "acme-eu", "32", feature="chat")
    plant_spend(db, "acme-eu", "64", feature="chat", at=NOW - timedelta(days=40))
    with db.session() as session:
        # Shadow tests spend from their own account, never the ledger.
        job_id = session.scalars(select(Attempt.job_id)).first()
        session.add(ShadowResult(job_id=job_id, attempt_no=1, tier=1, candidate="x:y",
                                 pinned_model="a", candidate_model="y", provider="x",
                                 cost_usd=Decimal(128), outcome="ok", created_at=NOW))
    since = NOW - timedelta(days=1)

    def spent(tenant: str, feature: str = "*") -> Decimal:
        with db.session() as session:
            return ledger_spend(session, tenant, feature, since)

    assert spent("*") == 1 + 2 + 4 + 8 + 16 + 256 + 32
    assert spent("acme-*") == 1 + 2 + 32  # case matters: not ACME-EU
    assert spent("acme_*") == 4  # "_" is a character here, not LIKE's wildcard
    assert spent("acme?x") == 4 + 8  # "?" is any one character
    assert spent("[ag]*", "bulk-?") == 1 + 2 + 4 + 8 + 16
    assert spent("acme-eu", "chat") == 32
    assert spent("acme-eu", "c%") == 0
    assert spent("nobody") == 0


def test_budgets_command_prints_each_budget_with_its_state(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = utcnow()
    plant_spend(db, "acme", "81.20", at=now)
    plant_spend(db, "initech", "30", at=now)
    policy = tmp_path / "policy.toml"
    policy.write_text("\n".join([
        '[[budgets]]', 'tenant = "acme"', 'period = "month"', 'limit_usd = 100',
        '[[budgets]]', 'tenant = "globex"', 'period = "day"', 'limit_usd = 10',
        '[[budgets]]', 'period = "month"', 'limit_usd = 50', 'soft_max_tier = 1',
    ]) + "\n", encoding="utf-8")
    monkeypatch.setenv("TIERLINE_DATABASE_URL", db.url)
    monkeypatch.setenv("TIERLINE_ROUTING_POLICY_FILE", str(policy))
    result = CliRunner().invoke(cli, ["budgets", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["budgets"]
    assert [(r["tenant"], r["feature"], r["period"], r["state"]) for r in rows] == [
        ("acme", "*", "month", "capped"), ("globex", "*", "day", "ok"),
        ("*", "*", "month", "exhausted")]
    assert (rows[0]["spent_usd"], rows[0]["limit_usd"], rows[0]["share"]) == (81.2, 100, 0.812)
    assert rows[2]["spent_usd"] == 111.2 and rows[2]["soft_max_tier"] == 1
    assert rows[1]["period_start"] == now.replace(hour=0, minute=0, second=0,
                                                  microsecond=0).isoformat()
    table = CliRunner().invoke(cli, ["budgets"], env={"COLUMNS": "120"})
    assert table.exit_code == 0, table.output
    assert "capped at tier 2" in table.output and "exhausted" in table.output


def test_budgets_command_reports_an_invalid_budget(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[budgets]]\ntenant = "[ab]cme"\nperiod = "week"\nlimit_usd = 0\n',
                      encoding="utf-8")
    monkeypatch.setenv("TIERLINE_DATABASE_URL", db.url)
    monkeypatch.setenv("TIERLINE_ROUTING_POLICY_FILE", str(policy))
    result = CliRunner().invoke(cli, ["budgets"])
    assert result.exit_code == 1
    assert "budgets.0.period" in result.output and "budgets.0.limit_usd" in result.output
    policy.write_text('[[budgets]]\ntenant = "[ab]cme"\nperiod = "day"\nlimit_usd = 1\n',
                      encoding="utf-8")
    table = CliRunner().invoke(cli, ["budgets"], env={"COLUMNS": "120"})
    assert table.exit_code == 0 and "[ab]cme" in table.output
