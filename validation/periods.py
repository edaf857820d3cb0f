"""Amounts of another period: a monthly fee given as the one-off fee written beside it.

Contracts state several amounts in one sentence ("a one-off onboarding fee of £1,400.00 and a
monthly fee of £11,780.00"). A field that names a period ("monthly_fee", "annual_cost",
"setup_fee") holds a value taken from the wrong part of the sentence when every place the
document gives that value qualifies it with another period and never with the field's own: the
words since the previous number ("a one-off onboarding fee of") or the few after it ("per
year"). An amount no period qualifies is not judged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from typing import Any

from tierline.validation.base import Finding
from tierline.validation.doc_index import document_index, holding, words
from tierline.validation.normalize import value_readings

PERIODS = "periods"

_FAMILIES: dict[str, frozenset[str]] = {
    "month": frozenset({"month", "monthly", "months", "mensuel", "mensuelle", "monatlich",
                        "monat", "mois"}),
    "year": frozenset({"year", "yearly", "annual", "annually", "annum", "years", "jahrlich",
                       "jahr", "annuel", "annuelle"}),
    "week": frozenset({"week", "weekly", "weeks", "hebdomadaire", "wochentlich"}),
    "day": frozenset({"day", "daily", "days", "taglich"}),
    "hour": frozenset({"hour", "hourly", "hours", "stundlich"}),
    "once": frozenset({"oneoff", "onetime", "setup", "onboarding", "einmalig", "initial",
                       "installation"}),
}
_NUMBER_HEAD = re.compile(r"^[\d.,'’\s\u00a0\u202f\u2009]*")
# What is said after an amount stops at the next amount, or at what starts another clause.
_AFTER_END = re.compile(r"\d|[,;(]|\b(?:and|plus|und|et|y)\b", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _families(tokens: list[str]) -> set[str]:
    joined = {a + b for a, b in pairwise(tokens)}  # "one off" → "oneoff"
    bag = set(tokens) | joined
    return {family for family, names in _FAMILIES.items() if names & bag}


@lru_cache(maxsize=1024)  # keyed by a schema's field names: few, and repeated job after job
def _field_family(name: str) -> str | None:
    found = _families(words(_CAMEL.sub(" ", name.replace("_", " "))))
    return found.pop() if len(found) == 1 else None


def _around(raw: str, at: int, previous: int) -> set[str]:
    """Periods named since the previous number, and in the few words after this one."""
    before = _NUMBER_HEAD.sub("", raw[previous:at], count=1) if previous else raw[:at]
    rest = _NUMBER_HEAD.sub("", raw[at:], count=1)
    cut = _AFTER_END.search(rest)
    after = words(rest[:cut.start()] if cut else rest)[:3]
    return _families(words(before)) | _families(after)


def check_periods(fields: list[tuple[str, Any]], document: str) -> list[Finding]:
    """A finding per period-named amount field whose value only another period qualifies."""
    findings = []
    for name, value in fields:
        family = _field_family(name)
        if family is None or isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        wanted = value_readings(value)
        if not wanted:
            continue
        index = document_index(document)
        places: list[tuple[set[str], str]] = []
        for i in holding(index.by_number, wanted):
            seg = index.segs[i]
            previous = 0
            for at, readings in seg.number_at:
                if readings & wanted:
                    places.append((_around(seg.raw, at, previous), seg.raw.strip()))
                previous = at
        if places and all(named and family not in named for named, _ in places):
            other = "/".join(sorted(places[0][0]))
            findings.append(Finding(PERIODS, False, (
                f"{name}: every place giving {str(value)[:20]!r} names another period ({other}) "
                f"and never the field's ({family}): {places[0][1][:70]!r}")))
    return findings
