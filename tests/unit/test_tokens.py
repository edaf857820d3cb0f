"""One token estimate, read by every count made before a provider reports its usage."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tierline.config.tiers import load_tiers
from tierline.jobs.models import JobSpec, TaskType
from tierline.routing.features import extract
from tierline.routing.limiter import estimated_tokens
from tierline.routing.tokens import count_tokens, truncate_to_tokens
from tierline.simulator import tokens as simulator_tokens
from tierline.tasks.submit import fits_some_tier

PROSE = ("The supplier shall deliver 1,200 units by 31 March 2026; late deliveries cost 2% of "
         "the order's value per week (capped at 10%). Questions: who pays for freight?")


def test_the_router_the_limiter_and_the_simulator_count_alike() -> None:
    job = JobSpec(task=TaskType.SUMMARIZE, document=PROSE)
    tokens = count_tokens(PROSE)
    assert extract(job).input_tokens == tokens
    assert estimated_tokens([PROSE, PROSE], 100) == 2 * tokens + 100
    assert simulator_tokens.count_tokens(PROSE) == tokens
    assert simulator_tokens.count_message_tokens("", [{"role": "user", "content": PROSE}]) == (
        tokens + 4 + 3)


def test_submit_refuses_with_the_same_count() -> None:
    tiers = load_tiers()
    largest = max(t.context_window for t in tiers.tiers)
    document = PROSE * (1 + 4 * largest // len(PROSE))
    reason = fits_some_tier(tiers)(JobSpec(task=TaskType.SUMMARIZE, document=document))
    assert reason is not None and f"about {count_tokens(document)} tokens" in reason


def test_about_four_characters_a_token_for_prose() -> None:
    assert 3.0 < len(PROSE) / count_tokens(PROSE) < 5.0
    assert count_tokens("") == 1


@given(st.text(alphabet=st.sampled_from("ab ,.\n1"), max_size=300), st.integers(1, 60))
def test_truncation_fits_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    cut = truncate_to_tokens(text, limit)
    assert text.startswith(cut)
    assert cut == text or count_tokens(cut) <= limit


def test_truncation_ends_between_words() -> None:
    assert truncate_to_tokens("one two three", 2) == "one two"
