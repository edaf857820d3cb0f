"""The cost-aware start pinned: the expected-cost arithmetic, and where it overrides the bar."""

from __future__ import annotations

import pytest

from tierline.config.tiers import load_tiers
from tierline.jobs.models import JobContext, JobSpec, Level, TaskType
from tierline.routing.features import extract
from tierline.routing.policy import (
    CostAware,
    PolicyConfig,
    apply_policy,
    expected_cost,
    load_policy,
)

# A contract-sized job: about 1,500 tokens in.
CONTRACT = "The Receiving Party shall hold the Confidential Information in confidence. " * 120
# What the retrained router estimates for contracts: tier 2 a coin flip, tier 3 very likely.
CONTRACT_P = {1: 0.3, 2: 0.5, 3: 0.9}
# Misses priced higher than the shipped policy does, so that tier 1's misses weigh.
PRICED = CostAware(miss_cost_usd={Level.MEDIUM: 0.1, Level.HIGH: 0.02})


def _job(**context: object) -> JobSpec:
    return JobSpec(task=TaskType.ANSWER, document=CONTRACT,
                   instructions="Who are the parties to this agreement?",
                   context=JobContext.model_validate(context))


def _route(job: JobSpec, probabilities: dict[int, float],
           policy: PolicyConfig | None = None) -> tuple[int, tuple[str, ...]]:
    result = apply_policy(job, extract(job), probabilities, load_tiers(),
                          policy or load_policy())
    return result.tier, result.reasons


def test_expected_cost_with_a_perfect_validator_is_the_calls_alone() -> None:
    p, costs = {1: 0.5, 2: 0.8, 3: 0.95}, {1: 1.0, 2: 10.0, 3: 100.0}
    # Start at 1: tier 2 on half the jobs; tier 3 on those tier 2 fails too (0.2 of all).
    assert expected_cost(1, 3, p, costs, recall=1.0, miss_cost=0.0) == pytest.approx(26.0)
    assert expected_cost(2, 3, p, costs, recall=1.0, miss_cost=0.0) == pytest.approx(30.0)
    assert expected_cost(3, 3, p, costs, recall=1.0, miss_cost=0.0) == pytest.approx(100.0)


def test_expected_cost_charges_misses_and_the_last_tiers_failures() -> None:
    p, costs = {1: 0.5, 2: 0.8, 3: 0.95}, {1: 1.0, 2: 10.0, 3: 100.0}
    # Recall 0.5: tier 1 fails 0.5, half caught (0.25 reach tier 2), half wrong (0.25).
    # Tier 2 fails 0.2 / 0.5 = 0.4 of those: 0.05 reach tier 3, 0.05 wrong; tier 3 fails
    # 0.05 / 0.2 = 0.25 of the jobs that reach it.
    calls = 1.0 + 0.25 * 10.0 + 0.05 * 100.0
    wrong = 0.25 + 0.05 + 0.05 * 0.25
    assert expected_cost(1, 3, p, costs, recall=0.5, miss_cost=1000.0) == pytest.approx(
        calls + 1000.0 * wrong)
    assert expected_cost(3, 3, p, costs, recall=0.5, miss_cost=1000.0) == pytest.approx(
        100.0 + 1000.0 * 0.05)


def test_contract_at_a_coin_flip_on_tier_two_starts_there_not_on_the_top() -> None:
    # The bar (0.7 at medium tolerance) sends it to tier 3; tier 2 first costs less, since
    # validation sends its failures up.
    bar_only = load_policy().model_copy(update={"cost_aware": None})
    assert _route(_job(error_tolerance=Level.MEDIUM), CONTRACT_P, bar_only)[0] == 3
    tier, reasons = _route(_job(error_tolerance=Level.MEDIUM), CONTRACT_P)
    assert tier == 2
    assert "least expected cost" in reasons[0]
    assert "a missed failure $0.02 and its redo" in reasons[0]
    assert "band" not in " ".join(reasons)


def test_low_tolerance_and_high_impact_keep_the_bar() -> None:
    assert _route(_job(error_tolerance=Level.LOW), CONTRACT_P)[0] == 3
    tier, reasons = _route(_job(error_tolerance=Level.MEDIUM, business_impact=Level.HIGH),
                           CONTRACT_P)
    assert tier == 3
    assert "bar" in reasons[0]
    priced = load_policy().model_copy(update={"cost_aware": CostAware(
        miss_cost_usd={Level.MEDIUM: 0.1}, high_impact=True)})
    assert _route(_job(error_tolerance=Level.MEDIUM, business_impact=Level.HIGH),
                  CONTRACT_P, priced)[0] == 2


def test_a_costly_miss_or_a_weak_validator_moves_the_start_up() -> None:
    dear = PolicyConfig(cost_aware=CostAware(miss_cost_usd={Level.MEDIUM: 100.0}))
    assert _route(_job(error_tolerance=Level.MEDIUM), CONTRACT_P, dear)[0] == 3
    # The same $0.02 a miss, priced with validation that catches every failure or none.
    catching = CostAware(miss_cost_usd={Level.MEDIUM: 0.02}, validator_recall=1.0)
    blind = catching.model_copy(update={"validator_recall": 0.0})
    assert _route(_job(error_tolerance=Level.MEDIUM), CONTRACT_P,
                  PolicyConfig(cost_aware=catching))[0] == 1
    assert _route(_job(error_tolerance=Level.MEDIUM), CONTRACT_P,
                  PolicyConfig(cost_aware=blind))[0] == 2


def test_a_miss_is_never_cheaper_than_escalating() -> None:
    # Even at no price of its own, a miss costs its redo on the top tier: with a blind
    # validator, tier 1's 70% failures would all be delivered and redone, so it starts higher.
    free_blind = CostAware(miss_cost_usd={Level.MEDIUM: 0.0}, validator_recall=0.0)
    assert _route(_job(error_tolerance=Level.MEDIUM), CONTRACT_P,
                  PolicyConfig(cost_aware=free_blind))[0] == 2


def test_band_gives_way_to_expected_cost() -> None:
    # High tolerance: P(tier 1) 0.52 is inside the band, which would send it to tier 2.
    p = {1: 0.52, 2: 0.7, 3: 0.9}
    bar_only = load_policy().model_copy(update={"cost_aware": None})
    assert _route(_job(error_tolerance=Level.HIGH), p, bar_only)[0] == 2
    assert _route(_job(error_tolerance=Level.HIGH), p)[0] == 1


def test_floor_ceiling_and_business_rules_still_bound_the_cost_choice() -> None:
    assert _route(_job(error_tolerance=Level.MEDIUM, min_tier=3), CONTRACT_P)[0] == 3
    # A ceiling at 2 also ends the chain there: starting at 2 risks no tier 3 call.
    priced = load_policy().model_copy(update={"cost_aware": PRICED})
    assert _route(_job(error_tolerance=Level.MEDIUM, max_tier=2), CONTRACT_P, priced)[0] == 2
    executive = JobSpec(task=TaskType.ANSWER, document="Q3 revenue and cash flow against budget.",
                        context=JobContext(role="CFO", error_tolerance=Level.HIGH))
    assert _route(executive, {1: 0.9, 2: 0.95, 3: 0.97})[0] == 3
