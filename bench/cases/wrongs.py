"""Wrong answers to an agreement, of the kinds models give.

Each starts from the right answer and changes one thing, so that the case says exactly what a
validator must catch:
- `wrong_party_other_agreement`: a party replaced by one from another agreement, whose words this
  agreement never prints;
- `wrong_state_not_named`: a governing law the agreement never names;
- `wrong_date_shifted`: the effective date moved (days, a month or a year), written as the text
  writes dates, and stated nowhere in the agreement;
- `wrong_date_invented`, `wrong_term_invented`: a value where the agreement states none;
- `wrong_term_altered`: another length, worded as the text words the right one, and a length the
  agreement states nowhere;
- `wrong_roles_swapped`: the two sides of a role pair exchanged, where the agreement assigns them;
- `omitted_party`: one party left out of the list.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bench.cases import textforms as tf

if TYPE_CHECKING:
    from bench.cases.kleister import Agreement, Forms

US_STATES = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas",
    "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota",
    "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey",
    "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon",
    "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah",
    "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming")
_DAYS_PER_UNIT = {"day": 1.0, "week": 7.0, "month": 30.44, "year": 365.25}
WRONGS_PER_AGREEMENT = 2

Wrong = tuple[str, dict[str, Any]]


def _named(document: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", document, re.I) is not None


def _state_not_named(a: Agreement, right: dict[str, Any], rng: random.Random) -> Wrong | None:
    if not a.expected["jurisdiction"] or "jurisdiction" not in right:
        return None
    unnamed = [s for s in US_STATES if not _named(a.document, s)]
    if not unnamed:
        return None
    # written as the right answer is: "State of Wyoming" where it says "State of Delaware"
    prefix = right["jurisdiction"][:-len(a.expected["jurisdiction"])] if right[
        "jurisdiction"].lower().endswith(a.expected["jurisdiction"].lower()) else ""
    return "wrong_state_not_named", right | {"jurisdiction": prefix + rng.choice(unnamed)}


def _party_other(a: Agreement, right: dict[str, Any], rng: random.Random,
                 others: list[str]) -> Wrong | None:
    parties = right.get("parties")
    if not parties:
        return None
    candidates = list(others)
    rng.shuffle(candidates)
    # The first few candidates, in a seeded order, are enough: most names are strangers.
    stranger = next((p for p in candidates[:50] if not tf.mentions_words(a.document, p)), None)
    if stranger is None:
        return None
    index = rng.randrange(len(parties))
    replaced = [*parties[:index], stranger, *parties[index + 1:]]
    # A role given to the replaced party keeps its (right) name: only the list is wrong.
    return "wrong_party_other_agreement", right | {"parties": replaced}


def _omitted_party(a: Agreement, right: dict[str, Any], rng: random.Random) -> Wrong | None:
    parties = right.get("parties") or []
    if len(parties) < 2:
        return None
    index = rng.randrange(len(parties))
    return "omitted_party", right | {"parties": parties[:index] + parties[index + 1:]}


def _roles_swapped(forms: Forms, right: dict[str, Any]) -> Wrong | None:
    pairs = [r for r in forms.roles if r in right]
    if len(pairs) != 2:
        return None
    first, second = pairs
    return "wrong_roles_swapped", right | {first: right[second], second: right[first]}


def _shift(date: dt.date, rng: random.Random) -> dt.date:
    how = rng.choice(("days", "month", "year"))
    if how == "days":
        return date + dt.timedelta(days=rng.choice((-1, 1)) * rng.randint(1, 9))
    if how == "year":
        step = rng.choice((-1, 1))
        return date.replace(year=date.year + step, day=min(date.day, 28))
    month = date.month + rng.choice((-1, 1))
    year = date.year + (month - 1) // 12
    return date.replace(year=year, month=(month - 1) % 12 + 1, day=min(date.day, 28))


def _date_shifted(a: Agreement, forms: Forms, right: dict[str, Any],
                  rng: random.Random) -> Wrong | None:
    if not a.expected["effective_date"] or "effective_date" not in right:
        return None
    stated = {d.date for d in tf.find_dates(a.document)}
    right_date = dt.date.fromisoformat(a.expected["effective_date"])
    for _ in range(20):
        moved = _shift(right_date, rng)
        if moved not in stated and moved != right_date:
            text = tf.restate(forms.date, moved) if forms.date else moved.isoformat()
            return "wrong_date_shifted", right | {"effective_date": text}
    return None


def _date_invented(a: Agreement, right: dict[str, Any], rng: random.Random) -> Wrong | None:
    if a.expected["effective_date"] or "effective_date" not in right:
        return None
    stated = {d.date for d in tf.find_dates(a.document)}
    for _ in range(20):
        date = dt.date(rng.randint(1996, 2019), rng.randint(1, 12), rng.randint(1, 28))
        if date not in stated:
            text = f"{tf.MONTHS[date.month - 1].capitalize()} {date.day}, {date.year}"
            return "wrong_date_invented", right | {"effective_date": text}
    return None


def _stated_lengths(document: str) -> list[float]:
    return [t.number * _DAYS_PER_UNIT[t.unit] for t in tf.find_terms(document)]


def _new_length(document: str, candidates: list[tuple[int, str]],
                right_days: float | None) -> list[tuple[int, str]]:
    """Candidates whose length is neither the right one nor any the document states."""
    taken = _stated_lengths(document) + ([right_days] if right_days else [])
    return [(n, u) for n, u in candidates
            if all(abs(n * _DAYS_PER_UNIT[u] - t) > 0.05 * t for t in taken)]


def _term_altered(a: Agreement, forms: Forms, right: dict[str, Any],
                  rng: random.Random) -> Wrong | None:
    if not a.expected["term"] or "term" not in right:
        return None
    number, unit = tf.parse_term(a.expected["term"])
    n = int(number)
    other_unit = "month" if unit == "year" else "year"
    candidates = [(n + 1, unit), (n + 2, unit), (max(1, n - 1), unit), (2 * n, unit),
                  (n, other_unit)]
    fresh = _new_length(a.document, candidates, number * _DAYS_PER_UNIT[unit])
    if not fresh:
        return None
    new_n, new_unit = rng.choice(fresh)
    if forms.term is not None:
        text = tf.restate_term(forms.term, new_n, new_unit)
    else:
        text = f"{new_n} {new_unit}{'s' if new_n != 1 else ''}"
    return "wrong_term_altered", right | {"term": text}


def _term_invented(a: Agreement, right: dict[str, Any], rng: random.Random) -> Wrong | None:
    if a.expected["term"] or "term" not in right:
        return None
    candidates = [(n, "year") for n in range(1, 6)] + [(n, "month") for n in (6, 9, 18, 30)]
    fresh = _new_length(a.document, candidates, None)
    if not fresh:
        return None
    n, unit = rng.choice(fresh)
    plural = "s" if n != 1 else ""
    word = tf.number_word(n)
    text = f"{word} ({n}) {unit}{plural}" if word and rng.random() < 0.5 else f"{n} {unit}{plural}"
    return "wrong_term_invented", right | {"term": text}


def wrong_answers(a: Agreement, forms: Forms, right: dict[str, Any], rng: random.Random,
                  other_parties: list[str]) -> list[Wrong]:
    """Up to `WRONGS_PER_AGREEMENT` wrong answers of different kinds; swapped roles always
    when the agreement assigns them (few agreements do)."""
    makers: list[Callable[[], Wrong | None]] = [
        lambda: _party_other(a, right, rng, other_parties),
        lambda: _state_not_named(a, right, rng),
        lambda: _date_shifted(a, forms, right, rng),
        lambda: _date_invented(a, right, rng),
        lambda: _term_altered(a, forms, right, rng),
        lambda: _term_invented(a, right, rng),
        lambda: _omitted_party(a, right, rng),
    ]
    rng.shuffle(makers)
    chosen: list[Wrong] = []
    swapped = _roles_swapped(forms, right)
    if swapped is not None:
        chosen.append(swapped)
    for make in makers:
        if len(chosen) >= WRONGS_PER_AGREEMENT:
            break
        wrong = make()
        if wrong is not None and wrong[1] != right:
            chosen.append(wrong)
    return chosen
