"""Each policy rule pinned: the bar, the band, business rules, floor/ceiling, windows, sensitivity."""

from __future__ import annotations

import pytest

from tierline.config.tiers import Endpoint, Tier, TiersConfig
from tierline.jobs.models import JobContext, JobSpec, Level, TaskType
from tierline.routing.features import extract
from tierline.routing.policy import (
    BusinessRule,
    NoEligibleTier,
    PolicyConfig,
    allowed_endpoints,
    apply_policy,
    load_policy,
)
from tierline.routing.tokens import count_tokens

SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}}


def _tiers(windows: tuple[int, int, int] = (8000, 100_000, 200_000)) -> TiersConfig:
    hosts = ("groq", "anthropic", "openai")
    return TiersConfig(tiers=tuple(
        Tier(tier=i + 1, name=f"t{i + 1}", endpoints=(Endpoint(
            provider="openai_compatible" if i == 0 else "openai", host=hosts[i],
            model=f"m{i + 1}", price_in=1, price_out=1, context_window=w),))
        for i, w in enumerate(windows)))


def _job(text: str = "What is the capital of France?", **context: object) -> JobSpec:
    return JobSpec(task=TaskType.ANSWER, document=text,
                   context=JobContext.model_validate(context))


def _route(job: JobSpec, probabilities: dict[int, float],
           policy: PolicyConfig | None = None, tiers: TiersConfig | None = None) -> tuple[int,
                                                                                     tuple[str, ...]]:
    result = apply_policy(job, extract(job), probabilities, tiers or _tiers(),
                          policy or PolicyConfig())
    return result.tier, result.reasons


def test_cheapest_tier_that_clears_the_bar() -> None:
    tier, reasons = _route(_job(), {1: 0.6, 2: 0.8, 3: 0.95})
    assert tier == 2
    assert "cheapest" in reasons[0]


def test_low_error_tolerance_raises_the_bar() -> None:
    assert _route(_job(error_tolerance=Level.LOW), {1: 0.6, 2: 0.8, 3: 0.95})[0] == 3
    assert _route(_job(error_tolerance=Level.HIGH), {1: 0.6, 2: 0.8, 3: 0.95})[0] == 1


def test_no_tier_clearing_the_bar_goes_to_the_top() -> None:
    assert _route(_job(), {1: 0.1, 2: 0.2, 3: 0.3})[0] == 3


def test_decision_inside_the_band_escalates_one_tier() -> None:
    # High tolerance: bar 0.5; tier 1 clears it at 0.52, a coin flip inside 0.45-0.55.
    tier, reasons = _route(_job(error_tolerance=Level.HIGH), {1: 0.52, 2: 0.7, 3: 0.9})
    assert tier == 2
    assert any("band" in r for r in reasons)


def test_band_is_configurable() -> None:
    policy = PolicyConfig(confidence_band=(0.40, 0.50))
    assert _route(_job(error_tolerance=Level.HIGH), {1: 0.52, 2: 0.7, 3: 0.9}, policy)[0] == 1


def test_executive_asking_about_finances_gets_the_top_tier() -> None:
    job = _job("Summarise Q3 revenue and cash flow against budget.", role="CFO")
    # On these equally priced tiers expected cost alone would start at the top; the bar does not.
    by_bar = load_policy().model_copy(update={"cost_aware": None})
    tier, reasons = _route(job, {1: 0.9, 2: 0.95, 3: 0.97}, by_bar)
    assert tier == 3
    assert any("executive finance" in r for r in reasons)
    # The same question from an analyst is routed on its probabilities.
    analyst = _job("Summarise Q3 revenue and cash flow against budget.", role="analyst")
    assert _route(analyst, {1: 0.9, 2: 0.95, 3: 0.97}, by_bar)[0] == 1


def test_bulk_extraction_with_a_schema_stays_on_tier_one() -> None:
    job = JobSpec(task=TaskType.EXTRACT, document="Invoice total: 12.50", schema=SCHEMA,
                  feature="bulk-invoices")
    tier, reasons = _route(job, {1: 0.3, 2: 0.6, 3: 0.9}, load_policy())
    assert tier == 1
    assert any("bulk extraction" in r for r in reasons)


def test_business_rule_needs_every_condition() -> None:
    rule = BusinessRule(name="legal to 2", signals=("legal",), tasks=(TaskType.ANSWER,),
                        min_tier=2)
    policy = PolicyConfig(business_rules=(rule,))
    assert _route(_job("Is this clause enforceable in court?"), {1: 0.9}, policy)[0] == 2
    assert _route(_job("Is this soup hot?"), {1: 0.9}, policy)[0] == 1


def test_business_rule_without_bounds_is_rejected() -> None:
    with pytest.raises(ValueError, match="neither"):
        BusinessRule(name="empty")


def test_job_floor_and_ceiling() -> None:
    assert _route(_job(min_tier=2), {1: 0.9, 2: 0.9, 3: 0.9})[0] == 2
    tier, reasons = _route(_job(max_tier=2), {1: 0.1, 2: 0.2, 3: 0.9})
    assert tier == 2
    assert reasons[-1] == "job ceiling: tier 2"


def test_job_bounds_win_over_business_rules() -> None:
    job = _job("Summarise Q3 revenue against budget.", role="ceo", max_tier=2)
    assert _route(job, {1: 0.9, 2: 0.95, 3: 0.97}, load_policy())[0] == 2


def test_input_beyond_a_context_window_moves_the_job_up() -> None:
    long_text = "word " * 9000  # about 9,000 tokens: over tier 1's 8,000
    tier, reasons = _route(_job(long_text), {1: 0.9, 2: 0.9, 3: 0.9})
    assert tier == 2
    assert "context window" in reasons[-1]


def test_expected_output_counts_toward_the_window() -> None:
    # The longest text that fits tier 1's 8,000 alone, not with the answer's expected 300.
    words = 1000
    while count_tokens("word " * (words + 10)) < 8000:
        words += 10
    text = "word " * words
    assert 7700 < extract(_job(text)).input_tokens < 8000
    assert _route(_job(text), {1: 0.9, 2: 0.9, 3: 0.9})[0] == 2


def test_context_window_overrides_the_ceiling_and_fails_past_the_top() -> None:
    assert _route(_job("word " * 9000, max_tier=1), {1: 0.9})[0] == 2
    with pytest.raises(NoEligibleTier):
        _route(_job("word " * 9000), {1: 0.9}, tiers=_tiers((1000, 2000, 3000)))


def test_sensitive_job_only_reaches_hosts_its_tenant_allows() -> None:
    policy = PolicyConfig(tenant_hosts={"acme": ("anthropic",), "*": ("openai",)})
    job = _job(sensitive=True).model_copy(update={"tenant": "acme"})
    tier, reasons = _route(job, {1: 0.9, 2: 0.9, 3: 0.9}, policy)
    assert tier == 2
    assert "no host of tier 1" in reasons[-1]
    other = _job(sensitive=True).model_copy(update={"tenant": "other"})
    assert _route(other, {1: 0.9, 2: 0.9, 3: 0.9}, policy)[0] == 3
    # Not sensitive: every host is fine.
    assert _route(_job().model_copy(update={"tenant": "acme"}), {1: 0.9}, policy)[0] == 1


def test_sensitive_job_of_a_tenant_without_hosts_is_refused() -> None:
    with pytest.raises(NoEligibleTier, match="allowed"):
        _route(_job(sensitive=True), {1: 0.9}, PolicyConfig())


def test_allowed_endpoints_filters_a_chain() -> None:
    policy = PolicyConfig(tenant_hosts={"*": ("anthropic",)})
    tier = Tier(tier=1, name="t", endpoints=(
        Endpoint(provider="groq", model="a", price_in=0, price_out=0, context_window=10),
        Endpoint(provider="anthropic", model="b", price_in=0, price_out=0, context_window=10)))
    assert [e.model for e in allowed_endpoints(tier, _job(sensitive=True), policy)] == ["b"]
    assert len(allowed_endpoints(tier, _job(), policy)) == 2


def test_no_tier_reaching_the_bar_takes_the_cheapest_near_the_best() -> None:
    # Every tier is about as unlikely to be right: paying for the top buys nothing.
    tier, reasons = _route(_job(), {1: 0.37, 2: 0.38, 3: 0.39})
    assert tier == 1
    assert "within 0.05 of the best" in reasons[0]
    assert _route(_job(), {1: 0.2, 2: 0.3, 3: 0.6}, PolicyConfig(no_bar_margin=0.0))[0] == 3


def test_default_policy_file_has_task_priors_for_untrained_tasks() -> None:
    policy = load_policy()
    assert policy.task_priors[TaskType.EXTRACT][1] == 0.8
    assert policy.confidence_band == (0.45, 0.55)


def test_exploration_sends_a_deterministic_share_of_jobs_sent_up_to_tier_one_first() -> None:
    policy = PolicyConfig(explore_fraction=0.25)
    jobs = [_job(f"Question number {i}: what is the capital of country {i}?") for i in range(400)]
    routed = [_route(job, {1: 0.3, 2: 0.5, 3: 0.9}, policy) for job in jobs]
    explored = [reasons for tier, reasons in routed if tier == 1]
    assert 60 <= len(explored) <= 140
    assert all("exploring" in reasons[-1] for reasons in explored)
    assert [t for t, _ in routed] == [_route(job, {1: 0.3, 2: 0.5, 3: 0.9}, policy)[0]
                                      for job in jobs]
    # Without it, or for a job tier 1 already takes, nothing changes; floors still hold.
    assert all(_route(job, {1: 0.3, 2: 0.5, 3: 0.9})[0] == 3 for job in jobs[:50])
    assert all(_route(job, {1: 0.9, 2: 0.9, 3: 0.9}, policy)[1][-1].startswith("tier 1")
               for job in jobs[:50])
    floored = [_route(_job(job.document or "", min_tier=2), {1: 0.3, 2: 0.5, 3: 0.9}, policy)[0]
               for job in jobs]
    assert min(floored) == 2


def test_exploration_share_is_bounded() -> None:
    with pytest.raises(ValueError):
        PolicyConfig(explore_fraction=0.8)
