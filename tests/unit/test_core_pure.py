"""Pure parts of the pipeline: prompts, tiers file, rules router, pricing, errors, backoff."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import ModuleType

import anthropic
import httpx
import openai
import pytest

from tierline.config.tiers import TiersFileError, load_tiers
from tierline.jobs.models import JobContext, JobSpec, Level, Message, TaskType
from tierline.prompts.messages import build_prompt
from tierline.providers import errors
from tierline.providers.pricing import cost_usd
from tierline.providers.sdk_errors import translate
from tierline.routing.rules import RulesRouter
from tierline.tasks.backoff import MAX_DELAY_S, retry_delay

SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}}


def test_default_tiers_file_has_three_tiers_with_chains() -> None:
    tiers = load_tiers()
    assert tiers.top == 3
    assert all(len(t.endpoints) >= 2 for t in tiers.tiers)
    assert tiers.get(1).primary.provider == "groq"


def test_tiers_file_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "tiers.toml"
    bad.write_text("[[tiers]]\ntier = 2\nname = 'x'\n")
    with pytest.raises(TiersFileError, match="invalid"):
        load_tiers(bad)
    with pytest.raises(TiersFileError, match="not found"):
        load_tiers(tmp_path / "missing.toml")


def test_prompt_carries_schema_labels_and_rejection_reasons() -> None:
    job = JobSpec(task=TaskType.EXTRACT, document="Total: 5", schema=SCHEMA)
    system, messages = build_prompt(job, ["grounding: total 7 not in document"])
    assert "Task: extract" in system
    assert '"total"' in system
    assert "grounding: total 7 not in document" in system
    assert messages[0].content.startswith("Document:\n<<<\nTotal: 5\n>>>")


def test_prompt_keeps_roles_alternating_for_conversations() -> None:
    job = JobSpec(task=TaskType.ANSWER, document="Policy text",
                  messages=[Message(role="user", content="Q1"), Message(role="assistant", content="A1"),
                            Message(role="user", content="Q2")])
    _, messages = build_prompt(job)
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert "Q1" in messages[0].content


def test_cost_follows_reported_tokens_and_price() -> None:
    endpoint = load_tiers().get(3).primary
    expected = (Decimal("15") * 1000 + Decimal("75") * 200) / Decimal(1_000_000)
    assert cost_usd(endpoint, 1000, 200) == expected


def test_rules_router_raises_for_impact_and_respects_bounds() -> None:
    tiers = load_tiers()
    router = RulesRouter()
    plain = JobSpec(task=TaskType.EXTRACT, document="Total: 5", schema=SCHEMA)
    assert router.decide(plain, tiers).tier == 1
    risky = plain.model_copy(update={"context": JobContext(business_impact=Level.HIGH, error_tolerance=Level.LOW)})
    assert router.decide(risky, tiers).tier == 3
    capped = risky.model_copy(update={"context": JobContext(business_impact=Level.HIGH, max_tier=2)})
    assert router.decide(capped, tiers).tier == 2
    floored = plain.model_copy(update={"context": JobContext(min_tier=2)})
    decision = router.decide(floored, tiers)
    assert decision.tier == 2 and "job floor: tier 2" in decision.reasons


def _status_error(cls: type[Exception], status: int, headers: dict[str, str] | None = None) -> Exception:
    request = httpx.Request("POST", "http://sim/v1/x")
    response = httpx.Response(status, headers=headers or {}, request=request, json={"error": {}})
    error: Exception = cls("boom", response=response, body=None)  # type: ignore[call-arg]
    return error


@pytest.mark.parametrize("sdk", [openai, anthropic])
def test_sdk_errors_map_to_retryable_or_permanent(sdk: ModuleType) -> None:
    limited = translate(_status_error(sdk.RateLimitError, 429, {"retry-after": "3"}), sdk, "e")
    assert isinstance(limited, errors.RateLimited) and limited.retry_after == 3.0
    assert translate(_status_error(sdk.InternalServerError, 503), sdk, "e").retryable
    assert isinstance(translate(_status_error(sdk.AuthenticationError, 401), sdk, "e"),
                      errors.AuthenticationFailed)
    assert not translate(_status_error(sdk.BadRequestError, 400), sdk, "e").retryable
    timeout = sdk.APITimeoutError(request=httpx.Request("POST", "http://sim"))
    assert isinstance(translate(timeout, sdk, "e"), errors.ProviderTimeout)


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    assert all(retry_delay(0) <= 1.0 for _ in range(50))
    assert all(retry_delay(20) <= MAX_DELAY_S for _ in range(50))
    assert retry_delay(0, hinted_s=5.0) >= 5.0
