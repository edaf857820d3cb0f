"""Validation cases from real agreements in the Kleister NDA format.

    python -m bench.cases.kleister --out FILE [--data PATH] [--seed N]

PATH is a JSONL file like `data/kleister-nda/train.jsonl` (the default) or a split folder of the
dataset's own layout (`dev-0/` with `in.tsv.xz` and `expected.tsv`).

For every agreement: one right answer written the way the text words it (names as printed, in
upper case or across a line break, "three (3) years", "the 30th day of April, 2009"; the
annotation where the text form cannot be found), one right answer in normalised forms (ISO date,
"3 years") where those differ, and two wrong answers of the kinds models give (`wrongs.py`).
Null is the right answer for a key that is asked but not annotated (a decoy). Deterministic per
seed; any file of the format works, so the held-back agreements give cases the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cases import textforms as tf
from bench.cases.common import nullable, write_cases
from bench.cases.kleister_io import read_rows
from bench.cases.roles import ROLE_DESCRIPTIONS, assign_roles
from bench.cases.wrongs import wrong_answers

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT / "data" / "kleister-nda" / "train.jsonl"
# Which of several features a right answer is filed under, the rarer and harder first.
# A right value the text does not state in any form found (the annotators inferred it, or the
# text words it past what the finders read): right, and filed apart, as no grounding can see it.
ANNOTATION_ONLY = frozenset({"date_annotation", "term_annotation", "party_annotation"})
_CORRECT_ORDER = ("line_break", "term_words", "date_as_stated", "jurisdiction_as_stated",
                  "upper_case")


@dataclass
class Agreement:
    id: str
    keys: list[str]
    document: str
    expected: dict[str, Any]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Agreement:
        return cls(row["id"], list(row["keys"]), row["document"], dict(row["expected"]))


@dataclass
class Forms:
    """How the text words each annotated value, and what is notable about it."""

    parties: list[str] = field(default_factory=list)
    date: tf.DateSpan | None = None
    term: tf.TermSpan | None = None
    jurisdiction: str | None = None
    roles: dict[str, int] = field(default_factory=dict)
    features: set[str] = field(default_factory=set)


def read_agreements(path: Path) -> list[Agreement]:
    """From a JSONL file or a split folder of the dataset's own layout (`kleister_io`)."""
    return [Agreement.from_row(row) for row in read_rows(path)]


def _pick(spans: list[tf.Span], rng: random.Random) -> tf.Span:
    """The first mention (a preamble names the parties) or, half the time, another form the
    document prints (a signature block's upper case, a name broken over a line)."""
    others = [s for s in spans if s.answer != spans[0].answer]
    return rng.choice(others) if others and rng.random() < 0.5 else spans[0]


def _jurisdiction_form(document: str, state: str, rng: random.Random) -> tuple[str, bool]:
    """The governing law as the text names it: "State of Delaware", "Commonwealth of
    Massachusetts" half the time the text says so (and True), else the state's name."""
    words = r"\s+".join(re.escape(w) for w in state.split())
    stated = re.search(rf"\blaws?\s+of\s+(?:the\s+)?((?:State|Commonwealth)\s+of\s+{words})\b",
                       document, re.I)
    if stated and rng.random() < 0.5:
        return " ".join(stated.group(1).split()), True
    return _state_name(document, state), False


def _state_name(document: str, state: str) -> str:
    if state in document:
        return state
    words = r"\s+".join(re.escape(w) for w in state.split())
    found = re.search(rf"\b{words}\b", document, re.I)  # "NEW YORK", "New\nYork"
    return " ".join(found.group().split()) if found else state


def text_forms(agreement: Agreement, rng: random.Random) -> Forms:
    doc, expected, forms = agreement.document, agreement.expected, Forms()
    occurrences = [tf.find_name(doc, name) for name in expected["party"]]
    placed: list[tuple[int, str]] = []
    for name, spans in zip(expected["party"], occurrences, strict=True):
        if not spans:
            placed.append((len(doc), name))
            forms.features.add("party_annotation")
            continue
        span = _pick(spans, rng)
        placed.append((spans[0].start, span.answer))
        if span.upper_case:
            forms.features.add("upper_case")
        if span.broken_over_lines:
            forms.features.add("line_break")
    # A model lists the parties in the order the agreement introduces them.
    order = sorted(range(len(placed)), key=lambda i: placed[i][0])
    forms.parties = [placed[i][1] for i in order]
    forms.roles = {role: order.index(i) for role, i in assign_roles(doc, occurrences).items()}
    if expected["effective_date"]:
        iso = dt.date.fromisoformat(expected["effective_date"])
        dates = [d for d in tf.find_dates(doc) if d.date == iso and d.style != "iso"]
        forms.date = dates[0] if dates else None
        forms.features.add("date_as_stated" if dates else "date_annotation")
        if dates and dates[0].broken_over_lines:
            forms.features.add("line_break")
    if expected["term"]:
        number, unit = tf.parse_term(expected["term"])
        terms = [t for t in tf.find_terms(doc) if t.number == number and t.unit == unit]
        # "two years" reads as a length; "a two-year period" only when nothing else does
        terms.sort(key=lambda t: "-" in t.text)
        forms.term = terms[0] if terms else None
        if forms.term is None:
            forms.features.add("term_annotation")
        elif forms.term.in_words:
            forms.features.add("term_words")
    if expected["jurisdiction"]:
        forms.jurisdiction, stated = _jurisdiction_form(doc, expected["jurisdiction"], rng)
        if stated:
            forms.features.add("jurisdiction_as_stated")
    return forms


def schema_for(agreement: Agreement, forms: Forms) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if "effective_date" in agreement.keys:
        props["effective_date"] = nullable("string", "the date the agreement takes effect; null "
                                                     "if it does not say")
    if "jurisdiction" in agreement.keys:
        props["jurisdiction"] = nullable("string", "the state or country whose law governs the "
                                                   "agreement; null if it does not say")
    if "party" in agreement.keys:
        props["parties"] = {"type": "array", "items": {"type": "string"},
                            "description": "the names of the parties to the agreement"}
    if "term" in agreement.keys:
        props["term"] = nullable("string", "how long the agreement lasts, e.g. '2 years'; null "
                                           "if it does not say")
    if "party" in agreement.keys:
        for role in forms.roles:
            props[role] = nullable("string", ROLE_DESCRIPTIONS[role])
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


def answer(agreement: Agreement, forms: Forms, *, normalised: bool = False) -> dict[str, Any]:
    """The right answer: as the text words it, or in normalised forms."""
    expected, out = agreement.expected, {}
    if "effective_date" in agreement.keys:
        date = expected["effective_date"]
        out["effective_date"] = forms.date.answer if forms.date and not normalised else date
    if "jurisdiction" in agreement.keys:
        out["jurisdiction"] = expected["jurisdiction"] if normalised else forms.jurisdiction
    if "party" in agreement.keys:
        out["parties"] = list(forms.parties)
    if "term" in agreement.keys:
        term = expected["term"]
        out["term"] = forms.term.answer if forms.term and not normalised else term
    if "party" in agreement.keys:
        for role, index in forms.roles.items():
            out[role] = forms.parties[index]
    return out


def _correct_why(forms: Forms) -> str:
    if forms.features & ANNOTATION_ONLY:
        return "correct_annotation_only"
    return next((f"correct_{f}" for f in _CORRECT_ORDER if f in forms.features), "correct")


def _case(agreement: Agreement, schema: dict[str, Any], output: dict[str, Any], why: str,
          variant: str, features: set[str] | None = None) -> dict[str, Any]:
    return {"id": f"kleister-{agreement.id}-{variant}", "doc": agreement.id, "task": "extract",
            "document": agreement.document, "schema": schema, "output": output,
            "should_pass": why.startswith("correct"), "why": why,
            "features": sorted(features or ())}


def agreement_cases(agreement: Agreement, seed: int,
                    other_parties: list[str]) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{seed}:{agreement.id}")
    forms = text_forms(agreement, rng)
    schema = schema_for(agreement, forms)
    right = answer(agreement, forms)
    why = _correct_why(forms)
    yield _case(agreement, schema, right, why, "as_printed", forms.features)
    plain = answer(agreement, forms, normalised=True)
    if plain != right:
        yield _case(agreement, schema, plain,
                    why if why == "correct_annotation_only" else "correct_normalised",
                    "normalised", forms.features & ANNOTATION_ONLY)
    for why, output in wrong_answers(agreement, forms, right, rng, other_parties):
        yield _case(agreement, schema, output, why, why)


def party_pool(agreements: list[Agreement], but: str) -> list[str]:
    """The parties of every agreement but one: where a wrong party comes from."""
    return sorted({p for a in agreements if a.id != but for p in a.expected["party"]})


def build_cases(agreements: list[Agreement], seed: int = 0) -> Iterator[dict[str, Any]]:
    for agreement in agreements:
        yield from agreement_cases(agreement, seed, party_pool(agreements, agreement.id))


def _default_data() -> Path:
    shared = ROOT.parent / "shared" / "data" / "kleister-nda" / "train.jsonl"
    return DEFAULT_DATA if DEFAULT_DATA.exists() else shared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=None,
                        help="a Kleister JSONL file, or a split folder (in.tsv[.xz], expected.tsv)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    agreements = read_agreements(args.data or _default_data())
    n = write_cases(build_cases(agreements, args.seed), args.out)
    print(f"{n} cases from {len(agreements)} agreements -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
