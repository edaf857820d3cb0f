"""Validation cases from an independent generator of invoices, receipts, contracts and support
e-mails, in layouts and locales of its own (`documents_layouts`).

    python -m bench.cases.documents --out FILE [--n 150] [--seed N]

For every document: the right answer as the document words it (`correct_<kind>`), the right
answer normalised (`correct_<kind>_normalised`: ISO dates, amounts as numbers), and two wrong
answers of the kinds models give:
- `wrong_due_is_issue_date`, `wrong_date_other_line`: another date the document prints (the
  issue date as the due date, the signature date as the effective date, the e-mail's date as
  the order date);
- `wrong_total_other_line`, `wrong_amount_other_line`: another amount it prints (subtotal, tax,
  previous balance, cash tendered, an onboarding fee, shipping);
- `wrong_roles_swapped`: vendor and customer, provider and customer exchanged;
- `wrong_party_not_in_document`: a firm the document never names; `wrong_name_other_person`: the
  support agent given as the customer;
- `wrong_date_shifted`, `wrong_amount_digit_slipped`, `wrong_code_digit_slipped`,
  `wrong_term_altered`: the right value with a slip, written in the document's own form.
Deterministic per seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.cases import documents_layouts as lay
from bench.cases.common import write_cases
from bench.cases.documents_kinds import Doc, invoice, receipt
from bench.cases.documents_letters import contract, support_email, term_text

KINDS: tuple[tuple[str, Callable[[random.Random, str], Doc], int], ...] = (
    ("invoice", invoice, 40), ("receipt", receipt, 20), ("contract", contract, 20),
    ("email", support_email, 20))
WRONGS_PER_DOCUMENT = 2
Wrong = tuple[str, dict[str, Any]]


def _restyle(doc: Doc, field: str, date: dt.date) -> str:
    return lay.render_date(date, doc.dates[field][1])


def _date_other_line(doc: Doc, rng: random.Random) -> Wrong | None:
    fields = [f for f in doc.other_dates if any(d != doc.dates[f][0]
                                                for _, d in doc.other_dates[f])]
    if not fields:
        return None
    f = rng.choice(fields)
    candidates = [o for o in doc.other_dates[f] if o[1] != doc.dates[f][0]]
    # the first other date is the one a reader confuses most (the issue date for the due date)
    _, other = candidates[0] if rng.random() < 0.75 else rng.choice(candidates)
    why = "wrong_due_is_issue_date" if f == "due_date" and other == doc.dates.get(
        "issue_date", (None,))[0] else "wrong_date_other_line"
    return why, doc.printed | {f: _restyle(doc, f, other)}


def _date_shifted(doc: Doc, rng: random.Random) -> Wrong | None:
    if not doc.dates:
        return None
    f = rng.choice(sorted(doc.dates))
    right = doc.dates[f][0]
    printed = {d for d, _ in doc.dates.values()} | {d for v in doc.other_dates.values()
                                                   for _, d in v}
    for _ in range(20):
        step = rng.choice((-1, 1)) * rng.choice((1, 2, 3, 7, 10, 30, 31))
        moved = right + dt.timedelta(days=step)
        if moved not in printed:
            return "wrong_date_shifted", doc.printed | {f: _restyle(doc, f, moved)}
    return None


def _as_printed(doc: Doc, f: str, money: lay.Money) -> str:
    """An amount in the form the right answer uses (with or without its currency)."""
    return money.printed if doc.printed[f] == doc.amounts[f].printed else money.digits


def _amount_other_line(doc: Doc, rng: random.Random) -> Wrong | None:
    fields = [f for f in doc.other_amounts
              if any(m.value != doc.amounts[f].value for _, m in doc.other_amounts[f])]
    if not fields:
        return None
    f = rng.choice(fields)
    _, other = rng.choice([o for o in doc.other_amounts[f] if o[1].value != doc.amounts[f].value])
    why = "wrong_total_other_line" if f == "total" else "wrong_amount_other_line"
    return why, doc.printed | {f: _as_printed(doc, f, other)}


def slip_digit(digits: str, rng: random.Random) -> str:
    """One digit changed or two neighbours exchanged, the rest left as it was."""
    places = [i for i, c in enumerate(digits) if c.isdigit()]
    i = rng.choice(places)
    pair = [j for j in places if j == i + 1]
    if pair and digits[i] != digits[i + 1] and rng.random() < 0.5:
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
    new = rng.choice([d for d in "0123456789" if d != digits[i] and (i != places[0] or d != "0")])
    return digits[:i] + new + digits[i + 1:]


def _amount_slipped(doc: Doc, rng: random.Random) -> Wrong | None:
    if not doc.amounts:
        return None
    f = rng.choice(sorted(doc.amounts))
    right = doc.amounts[f]
    cents = slip_digit(f"{right.value:.2f}", rng)
    slipped = right.with_value(Decimal(cents))
    if slipped.value == right.value:
        return None
    return "wrong_amount_digit_slipped", doc.printed | {f: _as_printed(doc, f, slipped)}


def _code_slipped(doc: Doc, rng: random.Random) -> Wrong | None:
    if not doc.codes:
        return None
    f = rng.choice(doc.codes)
    slipped = slip_digit(doc.printed[f], rng)
    return "wrong_code_digit_slipped", doc.printed | {f: slipped}


def _roles_swapped(doc: Doc, rng: random.Random) -> Wrong | None:
    if doc.roles is None:
        return None
    a, b = doc.roles
    return "wrong_roles_swapped", doc.printed | {a: doc.printed[b], b: doc.printed[a]}


def _party_not_in_document(doc: Doc, rng: random.Random) -> Wrong | None:
    fields = [f for f in doc.name_fields if f not in doc.other_names]
    if not fields:
        return None
    f = rng.choice(fields)
    for _ in range(20):
        stranger = lay.company(doc.locale, rng)
        if stranger.split()[0].lower() not in doc.text.lower():
            shown = stranger.upper() if doc.printed[f].isupper() else stranger
            return "wrong_party_not_in_document", doc.printed | {f: shown}
    return None


def _other_person(doc: Doc, rng: random.Random) -> Wrong | None:
    if not doc.other_names:
        return None
    f = rng.choice(sorted(doc.other_names))
    _, name = rng.choice(doc.other_names[f])
    return "wrong_name_other_person", doc.printed | {f: name}


def _term_altered(doc: Doc, rng: random.Random) -> Wrong | None:
    if not doc.terms:
        return None
    f = rng.choice(sorted(doc.terms))
    number, unit, style = doc.terms[f]
    choices = {(6, "month"), (12, "month"), (18, "month"), (24, "month"), (36, "month"),
               (1, "year"), (2, "year"), (3, "year"), (5, "year")}
    months = number * (12 if unit == "year" else 1)
    # "twelve months" renews: a wrong length must also differ from the renewal period's
    fresh = sorted((n, u) for n, u in choices
                   if n * (12 if u == "year" else 1) not in (months, 12))
    n, u = rng.choice(fresh)
    return "wrong_term_altered", doc.printed | {f: term_text(n, u, style == "words")}


_WRONG_MAKERS = (_date_other_line, _date_shifted, _amount_other_line, _amount_slipped,
                 _code_slipped, _roles_swapped, _party_not_in_document, _other_person,
                 _term_altered)


# The errors each kind of document invites most; one of them is always among its wrong answers.
_HEADLINE = {
    "invoice": (_date_other_line, _amount_other_line),
    "receipt": (_amount_other_line, _amount_slipped),
    "contract": (_roles_swapped, _date_other_line, _party_not_in_document, _term_altered),
    "email": (_other_person, _date_other_line, _amount_other_line),
}


def wrong_answers(doc: Doc, rng: random.Random) -> list[Wrong]:
    headline = list(_HEADLINE.get(doc.kind, ()))
    rest = [m for m in _WRONG_MAKERS if m not in headline]
    rng.shuffle(headline)
    rng.shuffle(rest)
    chosen: list[Wrong] = []
    for make in headline[:1] + rest + headline[1:]:
        wrong = make(doc, rng)
        if wrong is not None and wrong[1] != doc.printed and all(
                wrong[0] != w[0] for w in chosen):
            chosen.append(wrong)
        if len(chosen) == WRONGS_PER_DOCUMENT:
            break
    return chosen


def document_cases(doc_id: str, doc: Doc, rng: random.Random) -> Iterator[dict[str, Any]]:
    def case(why: str, output: dict[str, Any]) -> dict[str, Any]:
        return {"id": f"{doc_id}-{why}", "doc": doc_id, "task": "extract",
                "document": doc.text, "schema": doc.schema, "output": output,
                "should_pass": why.startswith("correct"), "why": why,
                "features": [doc.kind, *doc.features]}

    yield case(f"correct_{doc.kind}", doc.printed)
    if doc.normalised != doc.printed:
        yield case(f"correct_{doc.kind}_normalised", doc.normalised)
    for why, output in wrong_answers(doc, rng):
        yield case(why, output)


def build_cases(n: int = 150, seed: int = 0) -> Iterator[dict[str, Any]]:
    """`n` documents, the kinds in the shares of `KINDS`, the locales in turn."""
    weights = [w for _, _, w in KINDS]
    picker = random.Random(f"documents:{seed}")
    for i in range(n):
        rng = random.Random(f"documents:{seed}:{i}")
        kind, make, _ = picker.choices(KINDS, weights)[0]
        locale = lay.LOCALES[i % len(lay.LOCALES)]
        doc = make(rng, locale)
        yield from document_cases(f"{kind}-{seed}-{i:04d}", doc, rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=150, help="documents to generate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    count = write_cases(build_cases(args.n, args.seed), args.out)
    print(f"{count} cases from {args.n} documents -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
