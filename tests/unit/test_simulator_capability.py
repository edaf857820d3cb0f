"""The simulator's pure parts: prompt reading, the solver, and the capability model."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tierline.jobs.models import JobSpec
from tierline.prompts.messages import build_prompt
from tierline.simulator import (
    SimulatedOutput,
    UnknownModel,
    count_tokens,
    profile_for,
    simulate_completion,
)
from tierline.simulator.prompt import find_amounts, find_dates, parse_prompt
from tierline.simulator.sample import matches_reference, with_answers
from tierline.simulator.tokens import truncate_to_tokens

WEAK, MIDDLE, STRONG = "llama-3.1-8b-instant", "claude-3-5-haiku-20241022", "claude-3-opus-20240229"
JOBS, ANSWERS = with_answers(300)


def _prompt(job: dict[str, Any], findings: tuple[str, ...] = ()) -> tuple[str, list[dict[str, str]]]:
    system, messages = build_prompt(JobSpec.model_validate(job), findings)
    return system, [m.model_dump() for m in messages]


def _right(job: dict[str, Any], text: str) -> bool:
    return matches_reference(job, ANSWERS[job["key"]], text)


@functools.cache
def _outputs(model: str) -> list[SimulatedOutput]:
    return [simulate_completion(model, *_prompt(job), max_tokens=1024) for job in JOBS]


def test_prompt_reading_recovers_the_job() -> None:
    job = next(j for j in JOBS if j["task"] == "classify")
    parsed = parse_prompt(*_prompt(job, ("wrong label",)))
    assert parsed.task == "classify"
    assert parsed.labels == job["labels"]
    assert parsed.document == job["document"]
    assert parsed.retry


def test_dates_and_amounts_in_every_written_form() -> None:
    text = "3 March 2025, March 4, 2025, 05.03.2025, 2025-03-06"
    assert [iso for iso, _ in find_dates(text)] == [
        "2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06"]
    assert find_amounts("EUR 1.234,56 and 1,234.56 and 9.99") == [1234.56, 1234.56, 9.99]


def test_the_strongest_model_is_right_on_a_clear_majority() -> None:
    outputs = _outputs(STRONG)
    right = sum(_right(j, o.text) for j, o in zip(JOBS, outputs, strict=True))
    assert right / len(JOBS) > 0.95


def test_weak_models_fail_more_than_strong_ones_and_most_on_hard_inputs() -> None:
    rates = {}
    for model in (WEAK, MIDDLE, STRONG):
        outputs = _outputs(model)
        wrong = [not _right(j, o.text) for j, o in zip(JOBS, outputs, strict=True)]
        rates[model] = sum(wrong) / len(JOBS)
        if model == WEAK:
            hard = [w for w, o in zip(wrong, outputs, strict=True) if o.difficulty >= 0.25]
            easy = [w for w, o in zip(wrong, outputs, strict=True) if o.difficulty < 0.1]
            assert sum(hard) / len(hard) > 3 * sum(easy) / len(easy)
    assert 0.12 < rates[WEAK] < 0.3
    assert 0.02 < rates[MIDDLE] < 0.1
    assert rates[STRONG] < 0.04
    assert rates[WEAK] > 2 * rates[MIDDLE] > 2 * rates[STRONG]


def test_a_stronger_model_usually_fixes_a_rejected_answer() -> None:
    failed = [j for j, o in zip(JOBS, _outputs(WEAK), strict=True) if not _right(j, o.text)]
    fixed = sum(_right(j, simulate_completion(
        MIDDLE, *_prompt(j, ("the total does not match the document",))).text) for j in failed)
    assert fixed / len(failed) > 0.85


def test_the_same_prompt_always_gets_the_same_answer() -> None:
    system, messages = _prompt(JOBS[0])
    assert simulate_completion(WEAK, system, messages) == simulate_completion(WEAK, system, messages)


def test_failures_include_broken_json_distractors_and_inventions() -> None:
    modes = {o.failure for o in _outputs(WEAK)}
    assert {"distractor", "invented", "broken_json"} <= modes


def test_math_answers_end_with_a_final_line() -> None:
    job = next(j for j in JOBS if j["task"] == "math")
    out = simulate_completion(STRONG, *_prompt(job))
    assert out.text.splitlines()[-1] == f"#### {ANSWERS[job['key']]}"


def test_max_tokens_cuts_the_answer_and_says_length() -> None:
    out = simulate_completion(STRONG, *_prompt(JOBS[0]), max_tokens=5)
    assert out.finish_reason == "length"
    assert out.output_tokens == 5
    assert count_tokens(out.text) <= 5


def test_token_counts_are_about_four_characters_a_token() -> None:
    text = " ".join(j["document"] for j in JOBS[:50])
    assert 2.5 < len(text) / count_tokens(text) < 5.5
    assert truncate_to_tokens("one two three", 2) == "one two"


def test_latency_grows_with_the_tier() -> None:
    system, messages = _prompt(JOBS[0])
    fast = simulate_completion(WEAK, system, messages).latency_s
    slow = simulate_completion(STRONG, system, messages).latency_s
    assert 0.1 < fast < 0.6 < 2.0 < slow < 8.0


def test_every_pinned_model_has_a_profile_and_nonsense_has_none() -> None:
    from tierline.config.tiers import load_tiers

    for endpoint in load_tiers().endpoints():
        profile = profile_for(endpoint.model)
        assert profile is not None
    assert profile_for("llama-3.1-405b-reasoning") is not None
    assert profile_for("my-own-model") is None
    with pytest.raises(UnknownModel):
        simulate_completion("my-own-model", "", [{"role": "user", "content": "hi"}])


def test_difficulty_reads_the_inputs_values_not_the_words_around_them() -> None:
    """Rewording a distractor's label (as the validator's vocabulary might) changes nothing but
    the length's small share; adding other amounts does."""
    from tierline.simulator.capability import difficulty
    from tierline.simulator.solver import solve

    def hardness(document: str) -> float:
        parsed = parse_prompt(*_prompt({**invoice, "document": document}))
        return difficulty(parsed, solve(parsed))

    invoice = next(j for j in JOBS if j["query_type"] == "invoice"
                   and any(w in j["document"] for w in ("Previous balance", "Arrears")))
    document = invoice["document"]
    for label in ("Previous balance", "Balance brought forward", "Arrears",
                  "Outstanding from last statement"):
        document = document.replace(label, "Carried over")
    base = hardness(document)
    assert abs(hardness(document.replace("Carried over", "Previous balance")) - base) < 0.002
    assert abs(hardness(document.replace("Carried over", "Supersedes the balance")) - base) < 0.002
    easy = min((j["document"] for j in JOBS if j["query_type"] == "invoice"), key=len)
    extra = "".join(f"\nCredit note {k}: {k}87.65" for k in range(1, 9))
    assert hardness(easy + extra) > hardness(easy) + 0.02
