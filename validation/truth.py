"""Ground truth for benchmarks: is a model's answer actually right, given the job's `reference`?

This is deliberately independent of the checks: it reads the answer the way a careful reviewer
with the answer key would. What counts as right, per task:

- extract: every reference field present and equal after normalisation (case, spacing and
  punctuation of strings; number formats; date formats; lists element by element). The JSON is
  read after the same trivial repairs the validator makes, because the repaired value is what
  gets stored; an answer whose JSON cannot be recovered is wrong.
- classify: the label, up to case, spacing, quotes and a final period, is the reference label.
- math: the number on the final "#### N" line equals the reference (no final line: wrong).
- answer: every key fact of the reference is in the answer; a reference of "not stated" needs
  an answer that says the document does not give it.
- summarize: every key fact of the reference is in the summary.
- answer and summarize also: nothing added that the document does not say, i.e. no number and
  no capitalised name that neither the document nor the reference contains (the prompt asks for
  "only facts it states"; a reviewer rejects "a new office in Lisbon in Chicago").
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from jobs.models import JobSpec, TaskType
from validation.classify import normalize_label
from validation.dates import date_readings, find_dates
from validation.normalize import document_numbers, norm_text, value_readings
from validation.refusal import says_not_stated
from validation.repair import parse_json

_FINAL = re.compile(r"^\s*####\s*\$?\s*(-?[\d,]*\.?\d+)", re.MULTILINE)
_CENT = Decimal("0.005")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")
_NUM = re.compile(r"(?<![A-Za-z])\d+(?:[.,]\d+)*")


def same_value(got: Any, want: Any) -> bool:
    """Equal up to representation: numbers by value, dates by day, strings by normalised text."""
    if want is None or isinstance(want, bool):
        return got is want or got == want
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            same_value(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, dict):
        return isinstance(got, dict) and all(same_value(got.get(k), v) for k, v in want.items())
    if got is None or isinstance(got, bool):
        return False
    if isinstance(want, int | float):
        target = Decimal(repr(want)) if isinstance(want, float) else Decimal(want)
        return any(abs(r - target) < _CENT for r in value_readings(got))
    want_s, got_s = str(want), str(got)
    if norm_text(want_s) == norm_text(got_s):
        return True
    want_dates = date_readings(want_s)
    return bool(want_dates) and want_dates == date_readings(got_s)


def fact_present(fact: str, text: str) -> bool:
    """A key fact ("EUR 12.5 million", "A-12345", "3 March 2025") is stated in `text`."""
    if norm_text(fact) in norm_text(text):
        return True
    dates = date_readings(fact)
    if dates:
        return bool(dates & find_dates(text))
    numbers = value_readings(fact)
    if numbers and numbers & document_numbers(text):
        other = set(norm_text(re.sub(r"[\d.,]+", " ", fact)).split())
        return other <= set(norm_text(text).split())
    return False


def final_answer(text: str) -> Decimal | None:
    matches = _FINAL.findall(text)
    if not matches:
        return None
    readings = value_readings(matches[-1].replace(",", ""))
    return next(iter(readings)) if len(readings) == 1 else None


def is_correct(job: JobSpec, text: str) -> bool:
    """Whether `text` is a right answer to `job` according to `job.reference`."""
    ref = job.reference
    if job.task is TaskType.EXTRACT or job.output_schema is not None:
        parsed = parse_json(text)
        return parsed.ok and same_value(parsed.value, ref)
    if job.task is TaskType.CLASSIFY:
        return normalize_label(text) == normalize_label(str(ref))
    if job.task is TaskType.MATH:
        got = final_answer(text)
        return got is not None and same_value(float(got), ref)
    facts = [str(f) for f in ref] if isinstance(ref, list) else [str(ref)]
    if facts == ["not stated"]:
        return says_not_stated(text) and not _added(text, job.input_text(), facts)
    return all(fact_present(f, text) for f in facts) and not _added(text, job.input_text(), facts)


def _added(text: str, document: str, facts: list[str]) -> list[str]:
    """Numbers and capitalised names in `text` found in neither the document nor the facts."""
    known = document + "\n" + "\n".join(facts)
    words = set(norm_text(known).split())
    numbers = document_numbers(known)
    added = [w for w in _NAME.findall(text) if w.casefold() not in words]
    dates = find_dates(known)
    for token in _NUM.findall(text):
        token_dates = date_readings(token)
        if token_dates and token_dates & dates:
            continue
        if token_dates or not value_readings(token) & numbers:
            added.append(token)
    return added
