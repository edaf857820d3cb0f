"""Property: a right value is accepted in whichever supported form the document and the answer
write it, numbers, dates and durations alike."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.jobs.models import JobSpec
from tierline.validation.runner import validate

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven",
         8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 18: "eighteen",
         24: "twenty-four", 30: "thirty", 36: "thirty-six", 60: "sixty", 90: "ninety"}


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def date_forms(d: dt.date) -> list[str]:
    month = MONTHS[d.month - 1]
    return [d.isoformat(), f"{d.day} {month} {d.year}", f"{month} {d.day}, {d.year}",
            f"{ordinal(d.day)} of {month} {d.year}", f"the {ordinal(d.day)} day of {month}, "
            f"{d.year}", f"{d.day:02d}.{d.month:02d}.{d.year}", f"{d.month}/{d.day}/{d.year}",
            f"{month.upper()} {d.day}, {d.year}", f"{month[:3]} {d.day}, {d.year}",
            f"{month} {ordinal(d.day)},{d.year}"]


def amount_forms(cents: int) -> list[str]:
    whole, frac = divmod(cents, 100)
    grouped = f"{whole:,}"
    return [f"{whole}.{frac:02d}", f"{grouped}.{frac:02d}",
            f"{grouped.replace(',', '.')},{frac:02d}", f"{grouped.replace(',', chr(39))}.{frac:02d}",
            f"{grouped.replace(',', ' ')},{frac:02d}", f"€{grouped}.{frac:02d}",
            f"{grouped.replace(',', chr(39))}.{frac:02d} CHF", f"{grouped.replace(',', '.')},{frac:02d} €"]


def duration_forms(n: int, unit: str) -> list[str]:
    word = WORDS[n]
    plural = unit + ("s" if n != 1 else "")
    return [f"{n} {plural}", f"{word} ({n}) {plural}", f"{word} {plural}", f"{word}-{unit}",
            f"{word.capitalize()} ({n}) {plural}", f"{n} calendar {plural}"]


def job(document: str, field: str, kind: str) -> JobSpec:
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return JobSpec.model_validate({"task": "extract", "document": document, "schema": schema})


@settings(max_examples=150, deadline=None)
@given(st.dates(dt.date(1990, 1, 1), dt.date(2035, 12, 31)), st.data())
def test_a_date_in_any_supported_form_is_accepted(day: dt.date, data: st.DataObject) -> None:
    forms = date_forms(day)
    stated, answered = data.draw(st.sampled_from(forms)), data.draw(st.sampled_from(forms))
    document = f"AGREEMENT\nThis Agreement is made as of {stated} by the parties below."
    verdict = validate(job(document, "effective_date", "string"),
                       json.dumps({"effective_date": answered}))
    assert verdict.passed, (stated, answered, verdict.reasons)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 99_999_999), st.data())
def test_an_amount_in_any_supported_form_is_accepted(cents: int, data: st.DataObject) -> None:
    forms = amount_forms(cents)
    stated = data.draw(st.sampled_from(forms))
    as_number = data.draw(st.booleans())
    # A currency the document does not give would be an addition: the answer carries the
    # document's own currency sign, or none.
    bare = [f for f in forms if not any(c in f for c in "€CHF")]
    answered: object = (float(Decimal(cents) / 100) if as_number
                        else data.draw(st.sampled_from([*bare, stated])))
    document = f"INVOICE 7731\nConsulting services\nTotal due: {stated}\nThank you."
    verdict = validate(job(document, "total", "number" if as_number else "string"),
                       json.dumps({"total": answered}))
    assert verdict.passed, (stated, answered, verdict.reasons)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(WORDS)), st.sampled_from(["year", "month", "day"]), st.data())
def test_a_term_in_any_supported_wording_is_accepted(n: int, unit: str,
                                                     data: st.DataObject) -> None:
    forms = duration_forms(n, unit)
    stated, answered = data.draw(st.sampled_from(forms)), data.draw(st.sampled_from(forms))
    document = f"The obligations of this Agreement continue for {stated} after its termination."
    verdict = validate(job(document, "term", "string"), json.dumps({"term": answered}))
    assert verdict.passed, (stated, answered, verdict.reasons)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(WORDS)), st.sampled_from(["year", "month"]), st.data())
def test_another_duration_is_rejected_in_any_wording(n: int, unit: str,
                                                     data: st.DataObject) -> None:
    other = data.draw(st.sampled_from([k for k in WORDS if k != n and k != n * 12
                                       and k * 12 != n]))
    stated = data.draw(st.sampled_from(duration_forms(n, unit)))
    answered = data.draw(st.sampled_from(duration_forms(other, unit)))
    document = f"The obligations of this Agreement continue for {stated} after its termination."
    assert not validate(job(document, "term", "string"), json.dumps({"term": answered})).passed
