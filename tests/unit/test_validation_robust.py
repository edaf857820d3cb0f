"""No output, however malformed, makes the validator raise; real Mixtral answers for math."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierline.jobs.models import JobSpec, TaskType
from tierline.validation.runner import validate

SCHEMA = {"type": "object", "properties": {
    "vendor": {"type": "string"}, "date": {"type": "string", "format": "date"},
    "total": {"type": "number"}, "items": {"type": "array", "items": {"type": "string"}},
    "kind": {"enum": ["a", "b"]}}, "required": ["vendor"]}
DOC = ("Acme Ltd, invoice INV-1 of 3 March 2025.\nItem | Qty | Price\nPaper | 2 | 1.234,50\n"
       "Subtotal: 2.469,00\nVAT 19%: 469,11\nTotal due: EUR 2.938,11\nninety days, Section 4.2")
JOBS = [
    JobSpec.model_validate({"task": "extract", "document": DOC, "schema": SCHEMA,
                            "context": {"error_tolerance": t}, "key": f"k-{t}"})
    for t in ("low", "medium", "high")
] + [
    JobSpec.model_validate({"task": "classify", "document": DOC, "labels": ["billing", "other"]}),
    JobSpec.model_validate({"task": "summarize", "document": DOC,
                            "context": {"error_tolerance": "low"}}),
    JobSpec.model_validate({"task": "answer", "document": DOC, "instructions": "When? How much?"}),
    JobSpec.model_validate({"task": "math", "document": "What is 2 + 2?"}),
    JobSpec.model_validate({"task": "code", "document": "Write a function."}),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["vendor", "date", "total", "tax", "subtotal", "items", "kind",
                         "due_date", "x"]) | st.text(max_size=8), inner, max_size=6),
    max_leaves=25,
)
fragments = st.sampled_from(["{", "}", "[", "]", ",", "'", '"', "```json\n", "```", "#### ",
                             "= ", " + ", "1,234.56", "3 March 2025", "I don't know", "\n",
                             "Section 4.2", "ninety", "null", "True", "\\", "\x00", "é", "漢"])
texts = st.text(max_size=300) | st.lists(fragments | st.text(max_size=10), max_size=40).map(
    "".join)


def _check(job: JobSpec, text: str, reason: str) -> None:
    verdict = validate(job, text, reason, judge=lambda s, u: text, judge_fraction=0.5)
    assert isinstance(verdict.passed, bool)
    # A crashed check says so at the start of its message; a JSON key "crashed" that a schema
    # message quotes back is not one.
    assert not [f for f in verdict.findings if f.message.startswith("check crashed")], \
        verdict.findings
    json.dumps([f.as_dict() for f in verdict.findings])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(JOBS), texts, st.sampled_from(["stop", "length", "", "weird"]))
def test_arbitrary_text_never_crashes_the_validator(job: JobSpec, text: str, reason: str) -> None:
    _check(job, text, reason)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(JOBS), json_values, st.booleans())
def test_arbitrary_json_never_crashes_the_validator(job: JobSpec, value: Any, fence: bool) -> None:
    text = json.dumps(value)
    _check(job, f"```json\n{text}\n```" if fence else text, "stop")


def test_pathological_outputs_do_not_crash() -> None:
    for text in ["[" * 5000, "{\"a\":" * 3000, "9" * 5000, '{"total": 1e999}', "\ud800",
                 '{"total": NaN, "vendor": "Acme"}', "x" * 200_000]:
        for job in JOBS:
            _check(job, text, "stop")


# --- real Mixtral answers from the GSM8K replay ---------------------------------------------

REPLAY = [Path(__file__).resolve().parents[2] / "data/replay/gsm8k.jsonl"]


def _replay(row_id: str) -> dict[str, Any]:
    path = next((p for p in REPLAY if p.exists()), None)
    if path is None:
        pytest.skip("GSM8K replay data not present")
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["id"] == row_id:
            return dict(row)
    pytest.skip(f"replay row {row_id} not present")


@pytest.mark.parametrize(("row_id", "caught"), [
    ("94ff3611e184b3ba", False),  # right: 3 x 60 = 180, 180 x 3 = 540
    ("6e9d9c1d48eaa2d8", False),  # right: sheep, 20 + 80 + 160 = 260
    ("2e203ecfb155ce3e", True),   # wrong: (20 + 80/2) written as 55
    ("d28df8f7b843b4df", True),   # wrong: stops without a final answer line
])
def test_real_mixtral_gsm8k_answers(row_id: str, caught: bool) -> None:
    row = _replay(row_id)
    assert row["weak_correct"] is not caught
    job = JobSpec(task=TaskType.MATH, document=row["prompt"])
    verdict = validate(job, row["weak_response"])
    assert verdict.passed is not caught, verdict.reasons
