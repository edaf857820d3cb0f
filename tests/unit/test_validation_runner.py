"""`validate`: the checks each task gets, strictness by error tolerance, the judge, the output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tierline.jobs.models import JobSpec, TaskType
from tierline.validation.judge import JUDGE_SYSTEM, judge_check, parse_verdict, should_judge
from tierline.validation.runner import validate

DOC = ("Invoice number: INV-7\nInvoice date: 2025-03-03\nSubtotal: 100.00\nVAT 19%: 19.00\n"
       "Total due: USD 119.00\n")
SCHEMA = {"type": "object", "properties": {
    "invoice_number": {"type": "string"}, "date": {"type": "string", "format": "date"},
    "subtotal": {"type": "number"}, "tax": {"type": "number"}, "total": {"type": "number"}},
    "required": ["invoice_number", "date", "total"]}
RIGHT = {"invoice_number": "INV-7", "date": "2025-03-03", "subtotal": 100.0, "tax": 19.0,
         "total": 119.0}
REPORT = ("Revenue for Q3 2025 was EUR 12.5 million, up 8% year on year. The board approved "
          "opening a new office in Lisbon. Headcount reached 420 employees.")


def job(task: str, tolerance: str = "medium", **extra: Any) -> JobSpec:
    spec: dict[str, Any] = {"task": task, "document": DOC,
                            "context": {"error_tolerance": tolerance}, "key": "job-1", **extra}
    if task == "extract":
        spec.setdefault("schema", SCHEMA)
    return JobSpec.model_validate(spec)


def test_extract_right_answer_passes_and_output_is_parsed() -> None:
    verdict = validate(job("extract"), json.dumps(RIGHT))
    assert verdict.passed, verdict.reasons
    assert verdict.output == RIGHT
    assert {f.check for f in verdict.findings} >= {"schema", "grounding", "provenance",
                                                    "consistency", "truncated", "empty"}


def test_extract_repaired_answer_passes_with_the_repair_recorded() -> None:
    verdict = validate(job("extract"), "Here you go:\n```json\n" + json.dumps(RIGHT) + "\n```")
    assert verdict.passed and verdict.output == RIGHT
    assert any(f.check == "repair" and f.passed and not f.strict for f in verdict.findings)


@pytest.mark.parametrize(("change", "check"), [
    ({"invoice_number": "INV-8"}, "grounding"),
    ({"total": 129.0}, "grounding"),
    ({"date": "3 March 2025"}, "schema"),
    ({"total": None}, "schema"),
])
def test_extract_wrong_answers_fail(change: dict[str, Any], check: str) -> None:
    verdict = validate(job("extract"), json.dumps(RIGHT | change))
    assert not verdict.passed
    assert check in {f.check for f in verdict.failures}


def test_extract_not_json_fails_and_names_a_refusal() -> None:
    verdict = validate(job("extract"), "I'm sorry, but I don't know.")
    assert not verdict.passed
    assert {f.check for f in verdict.failures} == {"schema", "refusal"}
    assert verdict.output == "I'm sorry, but I don't know."


def test_truncated_answer_fails_even_when_it_parses() -> None:
    verdict = validate(job("extract"), json.dumps(RIGHT), finish_reason="length")
    assert not verdict.passed and "truncated" in {f.check for f in verdict.failures}


def test_classify_output_is_the_normalised_label() -> None:
    verdict = validate(job("classify", labels=["billing", "technical"]), " Billing.\n")
    assert verdict.passed and verdict.output == "billing"
    assert not validate(job("classify", labels=["billing", "technical"]), "refund").passed


def test_math_uses_the_arithmetic_check() -> None:
    math = JobSpec(task=TaskType.MATH, document="A train goes 60 km/h for 2 hours. How far?")
    assert validate(math, "60 * 2 = 120\n#### 120").passed
    verdict = validate(math, "60 * 2 = 130\n#### 130")
    assert not verdict.passed
    assert [f.check for f in verdict.failures] == ["arithmetic", "arithmetic_exact"]


def test_summary_with_an_invented_number_fails_at_every_tolerance() -> None:
    for tolerance in ("low", "medium", "high"):
        summary = job("summarize", tolerance, document=REPORT)
        assert validate(summary, "Revenue was EUR 12.5 million, up 8%, with 420 staff and a "
                                 "new office in Lisbon.").passed
        assert not validate(summary, "Revenue was EUR 14.5 million, up 8%, with 420 staff and "
                                     "a new office in Lisbon.").passed


def test_invented_names_in_prose_are_lenient_only_at_high_tolerance() -> None:
    text = ("Revenue was EUR 12.5 million, 420 employees, and the office opens in Lisbon and "
            "in Chicago.")
    for tolerance, passed in (("low", False), ("medium", False), ("high", True)):
        verdict = validate(job("summarize", tolerance, document=REPORT), text)
        assert verdict.passed is passed, tolerance
        assert any(f.check == "grounding_free_text" and not f.passed for f in verdict.findings)


def test_low_tolerance_makes_word_coverage_strict() -> None:
    text = ("Quarterly momentum stayed robust at EUR 12.5 million; leadership celebrated "
            "sustained expansion to 420 staff, with Lisbon chosen.")
    assert validate(job("summarize", "medium", document=REPORT), text).passed
    assert not validate(job("summarize", "low", document=REPORT), text).passed


def test_answer_not_stated_is_accepted_only_when_plausible() -> None:
    doc = "I ordered a lamp on 3 March 2025 (order A-12345) and paid 20.00 USD."
    phone = job("answer", document=doc, instructions="What is the customer's phone number?")
    when = job("answer", document=doc, instructions="On what date was the order placed?")
    assert validate(phone, "The document does not say what the phone number is.").passed
    assert not validate(when, "The document does not say.").passed
    assert validate(when, "The order was placed on March 3, 2025.").passed
    assert not validate(when, "I don't know.").passed


def test_answer_quoting_a_value_from_the_wrong_place_fails() -> None:
    doc = ("Hello, I ordered a lamp on 3 March 2025 (order A-12345) and paid 20.00 USD. It has "
           "not arrived.\nMy previous order A-67890 for 35.50 USD arrived fine.\n"
           "The shipping fee was 9.99 USD.")
    order = job("answer", document=doc, instructions="Which order has not arrived?")
    paid = job("answer", document=doc, instructions="How much did the customer pay?")
    assert validate(order, "The order that has not arrived is A-12345.").passed
    assert not validate(order, "The order that has not arrived is A-67890.").passed
    assert validate(paid, "The customer paid 20.00 USD.").passed
    for wrong in ("The customer paid 35.50 USD.", "The customer paid 9.99 USD."):
        verdict = validate(paid, wrong)
        assert not verdict.passed and verdict.failures[0].check == "provenance", wrong


def test_code_needs_a_compiling_block() -> None:
    code = JobSpec(task=TaskType.CODE, document="Write f(x) returning x + 1.")
    assert validate(code, "```python\ndef f(x):\n    return x + 1\n```").passed
    assert not validate(code, "def f(x): return x + 1").passed


def test_empty_answer_fails_without_running_task_checks() -> None:
    verdict = validate(job("extract"), "  ")
    assert not verdict.passed and [f.check for f in verdict.failures] == ["empty"]


# --- the judge -------------------------------------------------------------------------------

def test_should_judge_is_deterministic_and_samples_the_fraction() -> None:
    keys = [f"job-{i}" for i in range(4000)]
    picked = [k for k in keys if should_judge(k, 0.25)]
    assert picked == [k for k in keys if should_judge(k, 0.25)]
    assert 0.22 < len(picked) / len(keys) < 0.28
    assert not should_judge("x", 0.0) and should_judge("x", 1.0)
    assert set(picked) <= {k for k in keys if should_judge(k, 0.5)}


@pytest.mark.parametrize(("reply", "verdict"), [
    ("SUPPORTED\nAll facts are in the input.", True),
    ("UNSUPPORTED\nThe total is not in the input.", False),
    ("The answer is not supported by the document.", False),
    ('{"verdict": "supported"}', True), ('{"supported": false}', False),
    ("Yes, every fact is grounded.", True), ("No.", False),
    ("**Unsupported** - hallucinated vendor", False), ("I like turtles", None), ("", None),
])
def test_parse_verdict(reply: str, verdict: bool | None) -> None:
    assert parse_verdict(reply) is verdict


def test_judge_check_asks_with_the_input_and_output() -> None:
    asked: list[tuple[str, str]] = []

    def ask(system: str, user: str) -> str:
        asked.append((system, user))
        return "UNSUPPORTED: the total is invented"

    finding = judge_check(job("extract"), RIGHT, ask)
    assert not finding.passed and finding.strict
    assert asked[0][0] == JUDGE_SYSTEM and DOC.strip() in asked[0][1] and "INV-7" in asked[0][1]


def test_judge_outage_or_nonsense_never_rejects() -> None:
    def broken(system: str, user: str) -> str:
        raise TimeoutError

    assert judge_check(job("extract"), RIGHT, broken).passed
    assert judge_check(job("extract"), RIGHT, lambda s, u: "hmm").passed


def test_validate_consults_the_judge_on_the_sampled_fraction_only() -> None:
    calls: list[str] = []

    def ask(system: str, user: str) -> str:
        calls.append(user)
        return "UNSUPPORTED"

    text = json.dumps(RIGHT)
    assert validate(job("extract"), text, judge=ask, judge_fraction=0.0).passed
    verdict = validate(job("extract"), text, judge=ask, judge_fraction=1.0)
    assert not verdict.passed and verdict.failures[-1].check == "judge"
    lenient = validate(job("extract", "high"), text, judge=ask, judge_fraction=1.0)
    assert lenient.passed and any(f.check == "judge" and not f.passed for f in lenient.findings)
    validate(job("extract"), json.dumps(RIGHT | {"total": 1.0}), judge=ask, judge_fraction=1.0)
    assert len(calls) == 2  # not asked when a strict check already failed
