"""The stricter task checks: exact arithmetic, label evidence and summary key facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.jobs.models import JobSpec, TaskType
from tierline.validation.label_evidence import check_label_evidence, own_text
from tierline.validation.math_exact import check_math_exact
from tierline.validation.runner import check_math, validate
from tierline.validation.summary import check_key_facts, key_facts

LABELS = ["billing", "technical", "account", "cancellation", "other"]
REPORT = (
    "Quarterly report Q2 2024\n\n"
    "Management reviewed the risk register and found no new material risks. The board approved "
    "opening a new office in Austin.\n\n"
    "Revenue for Q2 2024 was GBP 15.1 million, up 40% year on year. A proposal to open an office "
    "in Toronto was rejected. Headcount reached 2258 employees.\n\n"
    "In the prior year revenue was GBP 10.8 million. Supplier negotiations are ongoing."
)
RIGHT_SUMMARY = ("Revenue for Q2 2024 was GBP 15.1 million, up 40% year on year. The board "
                 "approved opening a new office in Austin. Headcount reached 2258 employees.")
GSM8K = Path(__file__).resolve().parents[2] / "data/replay/gsm8k.jsonl"


# --- exact arithmetic ---------------------------------------------------------------------------

@pytest.mark.parametrize("working", [
    "First leg: 42 * 2 = 84\nSecond leg: 107 * 3 = 321\nTotal distance: 84 + 321 = 404\n#### 404",
    "Per week: 20 * 38 = 758\nEarned: 758 * 8 = 6064\n#### 6064",
    "2 + 2 = 4\n#### 5",
    "3 + 4 + 5 = 13\n#### 13",
])
def test_exact_check_fails_whole_number_slips_the_tolerant_check_lets_through(working: str) -> None:
    assert not check_math_exact(working).passed


@pytest.mark.parametrize("working", [
    "First leg: 42 * 2 = 84\nSecond leg: 107 * 3 = 321\nTotal distance: 84 + 321 = 405\n#### 405",
    "Each gets 10 / 3 = 3.33 pizzas\n#### 3.33",
    "7 / 2 = 3.5 boxes, so 4 trips\n#### 4",
    "She has 7 / 2 = 3 full pairs\n#### 3",
    "25% of 80 = 20\n#### 20",
    "3 + 4 + 5 = 12\n#### 12",
    "No arithmetic here at all.",
    "",
])
def test_exact_check_passes_right_or_rounded_working(working: str) -> None:
    assert check_math_exact(working).passed


def test_validate_runs_both_arithmetic_checks_on_math_jobs() -> None:
    job = JobSpec(task=TaskType.MATH, document="A train goes 42 km/h for 2 hours, then 107 km/h for 3.")
    verdict = validate(job, "42 * 2 = 84\n107 * 3 = 321\n84 + 321 = 404\n#### 404")
    assert check_math("84 + 321 = 404\n#### 404").passed  # the tolerant check alone misses it
    assert [f.check for f in verdict.failures] == ["arithmetic_exact"]


@pytest.mark.skipif(not GSM8K.exists(), reason="no GSM8K replay data")
def test_exact_check_on_real_mixtral_answers_adds_almost_no_false_flags() -> None:
    extra_right = extra_wrong = 0
    for line in GSM8K.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text = row.get("weak_response") or ""
        if check_math(text).passed and not check_math_exact(text).passed:
            if row["weak_correct"]:
                extra_right += 1
            else:
                extra_wrong += 1
    assert extra_right <= 2 and extra_wrong >= 1


# --- label evidence -----------------------------------------------------------------------------

def test_catch_all_label_for_a_named_request_fails_strictly_at_any_tolerance() -> None:
    doc = "Hi support,\n\nPlease change the email address on my account to a@b.org.\n\nThanks"
    finding = check_label_evidence("other", LABELS, doc, strict=False)
    assert not finding.passed and finding.strict and "account" in finding.message
    assert check_label_evidence("account", LABELS, doc).passed


def test_label_outweighed_by_the_messages_own_intent_fails() -> None:
    doc = ("Hi support,\n\nWe have decided not to renew and want to cancel the service. The app "
           "was a bit slow yesterday. Our finance team will look at the invoice later.\n\nSofia")
    assert not check_label_evidence("billing", LABELS, doc).passed
    assert not check_label_evidence("billing", LABELS, doc, strict=False).strict
    assert check_label_evidence("cancellation", LABELS, doc).passed


def test_quoted_thread_is_not_evidence() -> None:
    doc = ("Hi support,\n\nCan you explain the extra fee on my last bill?\n\nRaj\n\n"
           "On a previous date you wrote:\n> I want to cancel my subscription.\n> Support")
    assert "cancel" not in own_text(doc)
    assert check_label_evidence("billing", LABELS, doc).passed
    assert not check_label_evidence("cancellation", LABELS, doc).passed


@pytest.mark.parametrize(("label", "labels", "doc"), [
    ("other", LABELS, "Hi, do you have an office in Lisbon? Just wanted to say thanks."),
    ("technical", LABELS, "The app crashes when I open the invoice page."),
    ("positive", ["positive", "negative"], "I loved the service, thank you!"),
    ("billing", LABELS, ""),
])
def test_labels_with_their_evidence_or_no_contrary_evidence_pass(
        label: str, labels: list[str], doc: str) -> None:
    assert check_label_evidence(label, labels, doc).passed


# --- summary key facts --------------------------------------------------------------------------

def test_key_facts_skip_the_title_boilerplate_and_qualified_sentences() -> None:
    facts = [sentence for sentence, _, _ in key_facts(REPORT)]
    assert facts == ["The board approved opening a new office in Austin.",
                     "Revenue for Q2 2024 was GBP 15.1 million, up 40% year on year.",
                     "Headcount reached 2258 employees."]


@pytest.mark.parametrize("summary", [
    RIGHT_SUMMARY,
    "Q2 revenue rose 40% to GBP 15.1 million; staff numbered 2,258 and an Austin office opens.",
])
def test_summary_stating_every_key_fact_passes(summary: str) -> None:
    assert check_key_facts(summary, REPORT).passed


@pytest.mark.parametrize("summary", [
    "The board approved opening a new office in Austin. Headcount reached 2258 employees.",
    "In the prior year revenue was GBP 10.8 million. The board approved opening a new office in "
    "Austin. Headcount reached 2258 employees.",
    "A proposal to open an office in Toronto was rejected. Revenue for Q2 2024 was GBP 15.1 "
    "million, up 40% year on year. Headcount reached 2258 employees.",
])
def test_summary_that_drops_or_swaps_a_key_fact_fails_at_every_tolerance(summary: str) -> None:
    finding = check_key_facts(summary, REPORT, strict=False)
    assert not finding.passed and finding.strict
    for tolerance in ("low", "medium", "high"):
        job = JobSpec.model_validate({"task": "summarize", "document": REPORT,
                                      "context": {"error_tolerance": tolerance}})
        assert not validate(job, summary).passed
        assert validate(job, RIGHT_SUMMARY).passed


def test_document_without_specifics_has_no_key_facts() -> None:
    assert check_key_facts("Things went fine.", "Title\n\nThings went fine. Nothing else.").passed


# --- no output crashes the new checks ------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_new_checks_never_raise(text: str, document: str) -> None:
    check_math_exact(text)
    check_label_evidence(text, LABELS, document)
    check_key_facts(text, document)
