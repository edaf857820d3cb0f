"""Spend budgets as pure logic: the policy file's entries, periods, and a job's effect and gate."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tierline.jobs.models import JobContext, JobSpec, TaskType
from tierline.routing.budget import (
    NO_EFFECT,
    Budget,
    BudgetState,
    BudgetStatus,
    budget_effect,
    gate_job,
    matching,
    period_start,
    usd,
)
from tierline.routing.policy import DEFAULT_POLICY_FILE, PolicyConfig, load_policy


def _budget(**fields: Any) -> Budget:
    return Budget.model_validate({"period": "month", "limit_usd": 100, **fields})


def _status(spent: str, **fields: Any) -> BudgetStatus:
    return BudgetStatus(_budget(**fields), Decimal(spent))


def _job(**context: Any) -> JobSpec:
    return JobSpec(task=TaskType.ANSWER, document="What is 2 + 2?", tenant="acme",
                   feature="chat", context=JobContext.model_validate(context))


# --- configuration ---------------------------------------------------------------------------

def test_budget_defaults_cover_every_tenant_and_feature() -> None:
    budget = _budget()
    assert (budget.tenant, budget.feature) == ("*", "*")
    assert (budget.soft_fraction, budget.soft_max_tier) == (Decimal("0.8"), 2)
    assert budget.soft_limit_usd == Decimal("80.0")
    assert budget.name == "*/* month"


@pytest.mark.parametrize(("fields", "message"), [
    ({"period": "week"}, "period"),
    ({"limit_usd": 0}, "limit_usd"),
    ({"limit_usd": -5}, "limit_usd"),
    ({"soft_fraction": 0}, "soft_fraction"),
    ({"soft_fraction": 1.2}, "soft_fraction"),
    ({"soft_max_tier": 4}, "soft_max_tier"),
    ({"soft_max_tier": 0}, "soft_max_tier"),
    ({"tenant": ""}, "tenant"),
    ({"limits_usd": 5}, "limits_usd"),
])
def test_invalid_budget_is_rejected_naming_the_field(fields: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PolicyConfig.model_validate({"budgets": [{"period": "month", "limit_usd": 100,
                                                  **fields}]})


def test_budget_needs_a_period_and_a_limit() -> None:
    with pytest.raises(ValidationError, match="period\n  Field required"):
        PolicyConfig.model_validate({"budgets": [{"limit_usd": 100}]})
    with pytest.raises(ValidationError, match="limit_usd\n  Field required"):
        PolicyConfig.model_validate({"budgets": [{"period": "day"}]})


def test_a_soft_fraction_of_one_is_allowed() -> None:
    assert _budget(soft_fraction=1).soft_limit_usd == _budget().limit_usd


def test_the_same_budget_twice_is_rejected() -> None:
    entry = {"tenant": "acme", "period": "day", "limit_usd": 5}
    with pytest.raises(ValidationError, match="budget acme/\\* day is declared more than once"):
        PolicyConfig.model_validate({"budgets": [entry, {**entry, "limit_usd": 9}]})
    # The same scope over another period is another budget.
    PolicyConfig.model_validate({"budgets": [entry, {**entry, "period": "month"}]})


def test_shipped_policy_has_no_active_budget_and_its_example_parses() -> None:
    assert load_policy().budgets == ()
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    start = text.index("# [[budgets]]")
    example = []
    for line in text[start:].splitlines():
        if not line.startswith("# "):
            break
        example.append(line[2:])
    policy = PolicyConfig.model_validate(tomllib.loads("\n".join(example)))
    assert [b.name for b in policy.budgets] == ["acme/* month"]
    assert policy.budgets[0].limit_usd == Decimal("100.0")


def test_budgets_load_from_a_policy_file(tmp_path: Any) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[[budgets]]\ntenant = "acme"\nperiod = "day"\nlimit_usd = 12.5\n'
                    'soft_max_tier = 1\n', encoding="utf-8")
    (budget,) = load_policy(path).budgets
    assert (budget.name, budget.limit_usd, budget.soft_max_tier) == ("acme/* day",
                                                                    Decimal("12.5"), 1)


# --- matching and periods ---------------------------------------------------------------------

def test_budgets_match_tenant_and_feature_as_case_sensitive_globs() -> None:
    every = _budget()
    acme = _budget(tenant="acme*")
    bulk = _budget(feature="bulk-?")
    classed = _budget(tenant="[ab]cme", feature="chat")
    budgets = [every, acme, bulk, classed]
    assert matching(budgets, "acme-eu", "chat") == [every, acme]
    assert matching(budgets, "globex", "bulk-1") == [every, bulk]
    assert matching(budgets, "bcme", "chat") == [every, classed]
    assert matching(budgets, "ACME", "bulk-12") == [every]


def test_a_period_starts_at_midnight_utc_of_the_day_or_the_first_of_the_month() -> None:
    now = datetime(2030, 6, 15, 13, 45, 7, 123, tzinfo=UTC)
    assert period_start("day", now) == datetime(2030, 6, 15, tzinfo=UTC)
    assert period_start("month", now) == datetime(2030, 6, 1, tzinfo=UTC)
    # 01:30 on the 1st in UTC+2 is still the last day of the month before in UTC.
    local = datetime(2030, 7, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert period_start("month", local) == datetime(2030, 6, 1, tzinfo=UTC)
    assert period_start("day", local) == datetime(2030, 6, 30, tzinfo=UTC)


# --- the decision -----------------------------------------------------------------------------

def test_spend_below_the_soft_fraction_has_no_effect() -> None:
    status = _status("79.99", tenant="acme")
    assert status.state is BudgetState.OK
    assert budget_effect([status]) == NO_EFFECT
    assert budget_effect([]) == NO_EFFECT


def test_spend_at_the_soft_fraction_caps_the_job_at_the_soft_max_tier() -> None:
    assert _status("80.00", tenant="acme").state is BudgetState.CAPPED
    effect = budget_effect([_status("81.20", tenant="acme")])
    assert (effect.state, effect.max_tier) == (BudgetState.CAPPED, 2)
    assert effect.reason == ("budget acme/* month: $81.20 of $100.00 spent; "
                             "tiers above 2 closed")


def test_spend_at_the_limit_exhausts_the_budget() -> None:
    assert _status("100", tenant="acme").state is BudgetState.EXHAUSTED
    effect = budget_effect([_status("100.40", tenant="acme")])
    assert (effect.state, effect.max_tier) == (BudgetState.EXHAUSTED, None)
    assert effect.reason == "budget acme/* month exhausted: $100.40 of $100.00"


def test_any_exhausted_budget_stops_the_job_and_names_every_exhausted_one() -> None:
    effect = budget_effect([_status("90", tenant="acme"),
                            _status("5", feature="chat", limit_usd=5, period="day"),
                            _status("1", feature="*", limit_usd=1000)])
    assert effect.state is BudgetState.EXHAUSTED
    assert effect.reasons == ("budget */chat day exhausted: $5.00 of $5.00",)


def test_the_lowest_cap_among_several_budgets_wins() -> None:
    effect = budget_effect([_status("85", tenant="acme", soft_max_tier=2),
                            _status("9", feature="chat", limit_usd=10, soft_max_tier=1),
                            _status("1", soft_max_tier=1)])  # not over its soft limit
    assert (effect.state, effect.max_tier) == (BudgetState.CAPPED, 1)
    assert effect.reasons == ("budget */chat month: $9.00 of $10.00 spent; tiers above 1 closed",)


def test_budgets_capping_at_the_same_tier_are_all_named() -> None:
    effect = budget_effect([_status("85", tenant="acme"), _status("95", feature="chat")])
    assert effect.max_tier == 2 and len(effect.reasons) == 2


def test_share_and_small_amounts_read_right() -> None:
    assert _status("25", tenant="acme").share == 0.25
    assert usd(Decimal("1234.5")) == "$1,234.50"
    assert usd(Decimal("0.000425")) == "$0.000425"
    assert usd(Decimal(0)) == "$0.00"


# --- the gate a job passes --------------------------------------------------------------------

def test_cap_below_the_jobs_own_ceiling_becomes_its_ceiling() -> None:
    effect = budget_effect([_status("81.20", tenant="acme")])
    gate = gate_job(effect, _job(), top=3)
    assert gate.refusal is None and gate.max_tier == 2
    assert gate.spec.context.max_tier == 2
    assert gate.reasons == effect.reasons


def test_cap_at_or_above_the_jobs_own_ceiling_changes_nothing() -> None:
    effect = budget_effect([_status("81.20", tenant="acme", soft_max_tier=2)])
    job = _job(max_tier=2)
    assert gate_job(effect, job, top=3).spec is job
    assert gate_job(effect, job, top=3).max_tier is None
    # Nor does a cap at the top of a fleet with fewer tiers than the cap.
    assert gate_job(effect, _job(), top=2).max_tier is None


def test_job_whose_own_floor_is_above_the_cap_is_refused() -> None:
    effect = budget_effect([_status("81.20", tenant="acme")])
    gate = gate_job(effect, _job(min_tier=3), top=3)
    assert gate.refusal == ("budget acme/* month: $81.20 of $100.00 spent; tiers above 2 "
                            "closed; this job's own floor is tier 3")


def test_exhausted_budget_refuses_the_job() -> None:
    effect = budget_effect([_status("100.40", tenant="acme")])
    gate = gate_job(effect, _job(), top=3)
    assert gate.refusal == "budget acme/* month exhausted: $100.40 of $100.00"


def test_no_budget_leaves_the_job_as_it_is() -> None:
    job = _job()
    gate = gate_job(NO_EFFECT, job, top=3)
    assert (gate.spec, gate.max_tier, gate.reasons, gate.refusal) == (job, None, (), None)
