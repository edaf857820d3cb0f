"""The GSM8K working check, on hand-made cases and on Mixtral's real answers from the replay data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierline.validation.arithmetic import (
    arithmetic_claims,
    asked_unit,
    check_math_working,
    concluded_answer,
    cut_off,
    final_answer,
    math_findings,
    unused_numbers,
)
from tierline.validation.math_exact import check_math_exact

REPLAY = Path(__file__).resolve().parents[2] / "data" / "replay" / "gsm8k.jsonl"


def _row(row_id: str) -> dict[str, object]:
    with REPLAY.open(encoding="utf-8") as handle:
        for line in handle:
            row: dict[str, object] = json.loads(line)
            if row["id"] == row_id:
                return row
    raise KeyError(row_id)


def _weak_answer(row_id: str) -> tuple[str, bool]:
    row = _row(row_id)
    return str(row["weak_response"]), bool(row["weak_correct"])


@pytest.mark.parametrize("row_id", ["94ff3611e184b3ba", "6e9d9c1d48eaa2d8", "3ee80dabaf97dbcf"])
def test_real_right_answers_pass(row_id: str) -> None:
    text, correct = _weak_answer(row_id)
    assert correct
    finding = check_math_working(text)
    assert finding.passed, finding.message
    assert finding.check == "arithmetic"


@pytest.mark.parametrize(
    ("row_id", "bad_claim"),
    [
        ("8aba72e5533aaf2c", "(12 / 20) x 100 = 55%"),
        ("ae51d9dfdc51a42d", "7 / 1/2 = 14"),
        ("2e203ecfb155ce3e", "= (80 + 55 + 100) / 3"),
    ],
)
def test_real_wrong_answers_with_a_bad_claim_fail(row_id: str, bad_claim: str) -> None:
    text, correct = _weak_answer(row_id)
    assert not correct
    finding = check_math_working(text)
    assert not finding.passed
    assert bad_claim in finding.message


def test_truncated_real_answer_fails_for_its_missing_final_line() -> None:
    text, correct = _weak_answer("d28df8f7b843b4df")
    assert not correct
    finding = check_math_working(text)
    assert not finding.passed
    assert "####" in finding.message


def test_calculator_annotation_is_checked_on_its_own() -> None:
    assert not check_math_working("He runs 3 x 60 = <<3*60=170>>170 m.\n#### 170").passed


def test_final_answer_must_be_the_last_computed_value() -> None:
    finding = check_math_working("So 4 + 5 = 9 apples.\n#### 10")
    assert not finding.passed
    assert "last computed value 9" in finding.message


def test_chained_equalities_are_checked_pairwise() -> None:
    assert check_math_working("22 + 4 x 12 = 22 + 48 = 70\n#### 70").passed
    assert not check_math_working("22 + 4 x 12 = 22 + 48 = 72\n#### 72").passed


def test_rounded_results_thousands_separators_and_markdown_escapes_pass() -> None:
    text = "10 / 3 = 3.33 each; 1,200 \\* 2 = 2,400 in all; $1,000 - $250 = $750.\n#### 750"
    finding = check_math_working(text)
    assert finding.passed, finding.message
    assert len(arithmetic_claims(text)) == 3


def test_percent_claims_accept_either_reading() -> None:
    assert check_math_working("20% of it: 50 * 20% = 10 cups.\n#### 10").passed


def test_whole_number_mode_rejects_fractional_answers() -> None:
    text = "82.5 / 3 = 27.5 years.\n#### 27.5"
    assert check_math_working(text).passed
    assert not check_math_working(text, whole_number=True).passed


def test_final_answer_helper() -> None:
    assert final_answer("work\n#### 1,234") == 1234
    assert final_answer("#### $5.50\n") == 5.5
    assert final_answer("no answer line") is None


def test_working_that_ignores_a_number_of_the_question_fails_given_the_question() -> None:
    # Real: "received $8 in change", and Mixtral answers 12 + 10 = 22 without the 8.
    row = _row("7c1ba632402e9dd4")
    text = str(row["weak_response"])
    assert check_math_working(text).passed
    finding = check_math_working(text, question=str(row["prompt"]))
    assert not finding.passed
    assert "never uses 8" in finding.message


def test_a_right_answer_uses_every_number_of_its_question() -> None:
    row = _row("94ff3611e184b3ba")
    assert check_math_working(str(row["weak_response"]), question=str(row["prompt"])).passed


def test_percentages_count_as_used_as_fractions() -> None:
    assert unused_numbers("30% of 120 apples", "120 * 0.3 = 36") == []
    assert unused_numbers("3 boxes of 12 and 8 more", "3 * 12 = 36") == [8.0]


def test_min_claims_flags_a_one_step_answer() -> None:
    text, correct = _weak_answer("56e4a8f390454742")  # real: "20 + 2 * (5) = 30", wrong
    assert not correct
    assert check_math_working(text).passed
    assert "only 1 computation" in check_math_working(text, min_claims=2).message


# --- findings by kind, on what the check used to miss or misread --------------------------------

def test_claims_are_read_in_the_order_they_are_written() -> None:
    text = ("Revenue: 20 * 2 = 40 dollars. Profit: 40 - 20 = <<40-20=20>>20 dollars.\n#### 20")
    claims = arithmetic_claims(text)
    # The prose step and its annotation are both read; the annotation no longer comes first.
    assert [c.stated for c in claims] == [40, 20, 20]
    assert [c.position for c in claims] == sorted(c.position for c in claims)
    assert check_math_working(text).passed


def test_a_final_answer_chosen_among_computed_values_is_not_a_contradiction() -> None:
    # As Mixtral does on a real question: both profits computed, the larger one answered.
    text = ("Jewelry: 5000 * 2.5/100 = $<<5000*2.5/100=125>>125.\n"
            "Gadgets: 8000 * 1.2/100 = $<<8000*1.2/100=96>>96.\n"
            "The jewelry gives more: $125.\n#### 125")
    assert check_math_working(text).passed
    assert check_math_exact(text).passed


def test_a_final_answer_the_working_never_reached_contradicts_it() -> None:
    found = math_findings("So 4 + 5 = 9 apples.\n#### 10")
    assert [f.kind for f in found] == ["contradicts_working"]


def test_an_answer_cut_off_mid_way_is_told_apart_from_one_without_a_final_line() -> None:
    cut = "First, 15 + 25 = <<15+2"
    complete = "If there are 12 blue, there are 22 + 4 x 12 = 22 + 48 = 70 pink gumballs."
    assert cut_off(cut) and not cut_off(complete)
    assert [f.kind for f in math_findings(cut, require_final_line=False)] == ["cut_off"]
    assert math_findings(complete, require_final_line=False) == []
    assert [f.kind for f in math_findings(complete)] == ["no_final_line"]
    assert concluded_answer(complete) == 70
    assert concluded_answer(cut) is None


def test_an_answer_in_another_unit_than_the_one_asked_is_found() -> None:
    question = "Tom reads for 2 hours a day for 3 days. How many minutes does he read?"
    assert asked_unit(question) == "minute"
    in_hours = "He reads 2 x 3 = 6 hours.\n#### 6"
    in_minutes = "He reads 2 x 3 = 6 hours, or 6 x 60 = 360 minutes.\n#### 360"
    assert "wrong_unit" in {f.kind for f in math_findings(in_hours, question=question)}
    assert "wrong_unit" not in {f.kind for f in math_findings(in_minutes, question=question)}


def test_escalating_kinds_on_mixtral_s_real_answers_rarely_flag_a_right_one() -> None:
    # The kinds the cascade escalates (precision >= 0.8 on the replay rows) flag under 5% of
    # the right answers, and catch over 40% of the wrong ones.
    strict = {"wrong_claim", "cut_off", "not_whole", "contradicts_working"}
    flagged_right = flagged_wrong = right = wrong = 0
    with REPLAY.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            kinds = {f.kind for f in math_findings(row["weak_response"], whole_number=True,
                                                   question=row["prompt"],
                                                   require_final_line=False)}
            if not check_math_exact(row["weak_response"]).passed:
                kinds.add("inexact")
            hit = bool(kinds & (strict | {"inexact"}))
            if row["weak_correct"]:
                right += 1
                flagged_right += hit
            else:
                wrong += 1
                flagged_wrong += hit
    assert flagged_right / right < 0.05
    assert flagged_wrong / wrong > 0.4
