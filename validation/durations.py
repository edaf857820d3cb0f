"""Durations as agreements write them: "three (3) years", "two-year", "twelve months", "90 days".

A term or notice period extracted as a duration is right when the document states that duration:
the same number of the same unit, or the same length in another unit ("one year" for "twelve (12)
months"). Numbers in words and digits are one; "(3)" after "three" is the same number written
twice, not another one. A duration the document never states is a wrong value, whatever other
numbers and the word "years" appear apart from each other.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from tierline.validation.normalize import spelled_numbers

_UNIT = re.compile(r"\b(year|month|week|day)s?\b", re.IGNORECASE)
# What may stand between a number and its unit: "(3)", "-", "calendar", "full", "consecutive".
_BETWEEN = re.compile(r"(?:\s*\(\s*\d+(?:\.\d+)?\s*\))?(?:[\s-]+(?:calendar|full|consecutive|"
                      r"additional|successive|business))?[\s-]*$", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+(?:\.\d+)?)$")
_WORDS = re.compile(r"((?:[A-Za-z]+[\s-]+){0,3}[A-Za-z]+)$")
_BRACKETED = re.compile(r"\(\s*(\d+(?:\.\d+)?)\s*\)[\s-]*$")
_NOT_WORDS = re.compile(r"[\d.()\s,-]+")
_IN_DAYS = {"day": Decimal(1), "week": Decimal(7), "month": Decimal("30.4375"),
            "year": Decimal("365.25")}

Duration = tuple[Decimal, str]


def _number_before(text: str) -> Decimal | None:
    """The number that `text` ends with, in digits or in words."""
    digits = _DIGITS.search(text)
    if digits:
        try:
            return Decimal(digits.group(1))
        except InvalidOperation:
            return None
    words = _WORDS.search(text)
    if not words:
        return None
    run = words.group(1).lower().replace("-", " ").split()
    # Only the number words at the end of the run: "for a period of two" → "two".
    found: list[str] = []
    for word in reversed(run):
        if not spelled_numbers(word) and word not in ("hundred", "thousand", "and"):
            break
        found.insert(0, word)
    while found and found[0] == "and":
        found.pop(0)
    if not found:
        return None
    readings = spelled_numbers(" ".join(found))
    return max(readings) if readings else None


def _scan(text: str) -> list[Duration]:
    out: list[Duration] = []
    for unit in _UNIT.finditer(text):
        before = text[max(0, unit.start() - 60):unit.start()]
        between = _BETWEEN.search(before)
        head = before[:between.start()] if between else before
        number = _number_before(head.rstrip())
        if number is None:
            # "(3) years" after "three": the number in brackets is the one to read.
            bracket = _BRACKETED.search(before)
            number = Decimal(bracket.group(1)) if bracket else None
        if number is not None and number > 0:
            out.append((number, unit.group(1).lower()))
    return out


@lru_cache(maxsize=256)
def document_durations(document: str) -> frozenset[Duration]:
    return frozenset(_scan(document))


def duration_of(value: str) -> Duration | None:
    """The one duration `value` is ("3 years", "three (3) years", "two-year"), or None."""
    found = _scan(value)
    if len(set(found)) != 1:
        return None
    rest = _UNIT.sub(" ", value)
    leftover = _NOT_WORDS.sub(" ", rest).lower().split()
    words_ok = all(spelled_numbers(w) or w in ("and", "hundred", "calendar", "full", "a", "an",
                                               "period", "of", "consecutive") for w in leftover)
    return found[0] if words_ok else None


def _same_length(a: Duration, b: Duration) -> bool:
    if a == b:
        return True
    if {a[1], b[1]} == {"year", "month"}:  # whole conversions only: 12 months, 24 months...
        years, months = (a, b) if a[1] == "year" else (b, a)
        return years[0] * 12 == months[0]
    if {a[1], b[1]} == {"week", "day"}:
        weeks, days = (a, b) if a[1] == "week" else (b, a)
        return weeks[0] * 7 == days[0]
    return False


def duration_stated(value: Duration, document: str) -> bool:
    return any(_same_length(value, d) for d in document_durations(document))


def stated_durations(document: str) -> list[str]:
    """The document's durations, for a finding's message."""
    return [f"{n.normalize():f} {u}s" for n, u in sorted(document_durations(document),
                                                          key=lambda d: d[0] * _IN_DAYS[d[1]])]
