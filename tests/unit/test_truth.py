"""The benchmarks' answer key (simulator.truth): whether an answer is right given the job's
reference, which the job itself does not carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tierline.jobs.models import JobSpec
from tierline.simulator.truth import is_correct as answer_key_says_right

SCHEMA = {"type": "object", "properties": {"date": {"type": "string"},
                                           "total": {"type": "number"},
                                           "parties": {"type": "array"}}}


@dataclass(frozen=True)
class Keyed:
    """A job with its right answer from the answer key."""

    spec: JobSpec
    reference: Any


def job(task: str, reference: Any, **extra: Any) -> Keyed:
    return Keyed(JobSpec.model_validate({"task": task, "document": "Revenue was EUR 12.5 million "
                                         "in Lisbon; order A-1 placed 3 March 2025.", **extra}),
                 reference)


def is_correct(keyed: Keyed, text: str) -> bool:
    return answer_key_says_right(keyed.spec, keyed.reference, text)


@pytest.mark.parametrize(("text", "right"), [
    ('{"date": "2025-03-03", "total": 1234.5, "parties": ["A", "B"]}', True),
    ('```json\n{"date": "3 March 2025", "total": "1,234.50", "parties": ["a", "b"],}\n```', True),
    ('{"date": "2025-03-04", "total": 1234.5, "parties": ["A", "B"]}', False),
    ('{"date": "2025-03-03", "total": 1234.5, "parties": ["B", "A"]}', False),
    ('{"date": "2025-03-03", "total": null, "parties": ["A", "B"]}', False),
    ('{"date": "2025-03-03", "total": 1234.5', False),
])
def test_extract_truth(text: str, right: bool) -> None:
    ref = {"date": "2025-03-03", "total": 1234.5, "parties": ["A", "B"]}
    assert is_correct(job("extract", ref, schema=SCHEMA), text) is right


def test_classify_truth() -> None:
    j = job("classify", "billing", labels=["billing", "other"])
    assert is_correct(j, " Billing.") and not is_correct(j, "It is billing.")


def test_math_truth() -> None:
    j = job("math", 42)
    assert is_correct(j, "6 * 7 = 42\n#### 42") and not is_correct(j, "6 * 7 = 42")
    assert not is_correct(j, "#### 41")


def test_answer_and_summary_truth() -> None:
    summary = job("summarize", ["EUR 12.5 million", "Lisbon"])
    assert is_correct(summary, "Revenue reached EUR 12.5 million; a Lisbon office opens.")
    assert not is_correct(summary, "Revenue reached EUR 12.5 million.")
    assert not is_correct(summary, "Revenue reached EUR 12.5 million in Lisbon and Chicago.")
    answer = job("answer", ["3 March 2025"])
    assert is_correct(answer, "It was placed on 2025-03-03.")
    absent = job("answer", ["not stated"])
    assert is_correct(absent, "The document does not say.")
    assert not is_correct(absent, "It is +1 555 0134.")
