"""The GSM8K working check, on hand-made cases and on Mixtral's real answers from the replay data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validation.arithmetic import (
    arithmetic_claims,
    check_math_working,
    final_answer,
    unused_numbers,
)

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
