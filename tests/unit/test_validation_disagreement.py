"""The disagreement rule as a pure function: agreeing tiers against the same checks."""

from __future__ import annotations

import json

from tierline.jobs.models import JobSpec
from tierline.validation.disagreement import Earlier, repeated_rejection
from tierline.validation.runner import validate

SCHEMA = {"type": "object", "properties": {"invoice_number": {"type": "string"},
                                           "total": {"type": "number"}}}
DOCUMENT = "ACME Ltd\nInvoice INV-2041\nTotal due: 1,250.00 EUR"
JOB = JobSpec.model_validate({"task": "extract", "document": DOCUMENT, "schema": SCHEMA})
WRONG = json.dumps({"invoice_number": "INV-9999", "total": 1250.0})


def earlier(tier: int, text: str) -> Earlier:
    verdict = validate(JOB, text)
    return Earlier(tier, text, [f.as_dict() for f in verdict.findings])


def test_same_parsed_answer_rejected_by_the_same_check_is_a_disagreement() -> None:
    # Same values, other spelling of the JSON: the canonical forms agree.
    again = '{"total": 1250, "invoice_number": "INV-9999"}'
    found = repeated_rejection(JOB, 2, again, validate(JOB, again), [earlier(1, WRONG)])
    assert found is not None and found.checks == ("grounding",) and found.tiers == (1, 2)
    assert found.reason.startswith("validator disagreement: tiers 1 and 2")
    finding = found.finding()
    assert not finding.passed and not finding.strict


def test_no_disagreement_for_another_answer_a_passing_one_or_a_same_tier_retry() -> None:
    other = WRONG.replace("9999", "8888")
    assert repeated_rejection(JOB, 2, other, validate(JOB, other), [earlier(1, WRONG)]) is None
    right = WRONG.replace("9999", "2041")
    assert repeated_rejection(JOB, 2, right, validate(JOB, right), [earlier(1, WRONG)]) is None
    assert repeated_rejection(JOB, 1, WRONG, validate(JOB, WRONG), [earlier(1, WRONG)]) is None


def test_a_new_check_failing_on_the_higher_tier_is_not_a_disagreement() -> None:
    # The earlier rejection was for something else: the higher tier's answer meets new evidence.
    stale = Earlier(1, WRONG, [{"check": "provenance", "passed": False, "strict": True}])
    assert repeated_rejection(JOB, 2, WRONG, validate(JOB, WRONG), [stale]) is None


def test_prose_answers_never_agree() -> None:
    job = JobSpec.model_validate({"task": "answer", "document": DOCUMENT,
                                  "instructions": "What is the total?"})
    text = "The total is 9,999.00 EUR."
    prior = Earlier(1, text, [f.as_dict() for f in validate(job, text).findings])
    assert not validate(job, text).passed
    assert repeated_rejection(job, 2, text, validate(job, text), [prior]) is None
