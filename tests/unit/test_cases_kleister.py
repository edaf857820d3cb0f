"""The cases built from real agreements: deterministic, well formed, right where they say so and
wrong where they say so."""

from __future__ import annotations

import datetime as dt
import json
import lzma
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bench.cases import textforms as tf
from bench.cases.common import builder_problems, read_cases
from bench.cases.kleister import (
    Agreement,
    agreement_cases,
    build_cases,
    party_pool,
    read_agreements,
)
from bench.cases.kleister_io import read_rows
from bench.cases.wrongs import US_STATES

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "kleister-nda" / "train.jsonl"
CASES = ROOT / "data" / "cases" / "kleister.jsonl"


@cache
def agreements() -> dict[str, Agreement]:
    return {a.id: a for a in read_agreements(DATA)}


@cache
def committed() -> list[dict[str, Any]]:
    return read_cases(CASES)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _in_text(value: str, document: str) -> bool:
    """In the document, up to the spacing a model's copy loses (line breaks, 'U.S .')."""
    squeezed = _squeezed(document)
    return _squeezed(value) in squeezed or _squeezed(value) in squeezed.replace("-", "")


def _length(term: str) -> float:
    spans = tf.find_terms(term)
    if spans:
        return spans[0].number * {"day": 1, "week": 7, "month": 30.44, "year": 365.25}[spans[0].unit]
    number, unit = tf.parse_term(term)
    return number * {"day": 1, "week": 7, "month": 30.44, "year": 365.25}[unit]


def _date(value: str) -> dt.date:
    spans = tf.find_dates(value)
    assert spans, value
    return spans[0].date


def test_the_same_seed_builds_the_same_cases_and_another_seed_others() -> None:
    some = list(agreements().values())[:25]
    assert list(build_cases(some, seed=0)) == list(build_cases(some, seed=0))
    assert list(build_cases(some, seed=0)) != list(build_cases(some, seed=1))


def test_the_committed_file_is_what_seed_0_builds() -> None:
    everyone = list(agreements().values())
    rebuilt = [c for a in everyone[:12]
               for c in agreement_cases(a, 0, party_pool(everyone, a.id))]
    ids = {c["id"] for c in rebuilt}
    assert [c for c in committed() if c["id"] in ids] == rebuilt


def test_every_committed_case_is_well_formed_and_every_agreement_is_covered() -> None:
    cases = committed()
    assert [p for c in cases for p in builder_problems(c)] == []
    assert len({c["id"] for c in cases}) == len(cases)
    assert {c["doc"] for c in cases} == set(agreements())
    assert all(any(c["should_pass"] for c in cases if c["doc"] == d) for d in agreements())


def test_right_values_are_in_the_text_or_are_the_annotation() -> None:
    for case in (c for c in committed() if c["should_pass"]):
        a, out = agreements()[case["doc"]], case["output"]
        doc, exp = a.document, a.expected
        for party in out.get("parties", []):
            assert party in exp["party"] or _in_text(party, doc), (case["id"], party)
        assert len(out.get("parties", exp["party"])) == len(exp["party"])
        if out.get("effective_date") is not None:
            stated = out["effective_date"]
            assert _date(stated).isoformat() == exp["effective_date"], case["id"]
            assert stated == exp["effective_date"] or _in_text(stated, doc), case["id"]
        elif "effective_date" in out:
            assert exp["effective_date"] is None
        if out.get("term") is not None:
            assert _length(out["term"]) == pytest.approx(_length(exp["term"])), case["id"]
        elif "term" in out:
            assert exp["term"] is None
        if "jurisdiction" in out:
            stated = re.sub(r"^(State|Commonwealth) of ", "", out["jurisdiction"] or "", flags=re.I)
            assert stated.lower() == (exp["jurisdiction"] or "").lower(), case["id"]


def test_wrong_values_differ_from_the_annotation_in_the_way_their_why_says() -> None:
    right = {c["doc"]: c["output"] for c in committed() if c["id"].endswith("-as_printed")}
    for case in (c for c in committed() if not c["should_pass"]):
        a, out, why = agreements()[case["doc"]], case["output"], case["why"]
        exp, good = a.expected, right[case["doc"]]
        changed = {k for k in out if out[k] != good[k]}
        if why == "wrong_roles_swapped":
            assert len(changed) == 2, case["id"]
            continue
        assert len(changed) == 1, (case["id"], changed)
        if why == "wrong_state_not_named":
            state = re.sub(r"^(State|Commonwealth) of ", "", out["jurisdiction"], flags=re.I)
            assert state in US_STATES and state != exp["jurisdiction"]
            assert state.lower() not in a.document.lower()
        elif why == "wrong_party_other_agreement":
            (stranger,) = set(out["parties"]) - set(good["parties"])
            assert stranger not in exp["party"] and not tf.mentions_words(a.document, stranger)
        elif why == "omitted_party":
            assert len(out["parties"]) == len(exp["party"]) - 1
        elif why == "wrong_date_shifted":
            assert _date(out["effective_date"]) != dt.date.fromisoformat(exp["effective_date"])
            assert _date(out["effective_date"]) not in {d.date for d in tf.find_dates(a.document)}
        elif why == "wrong_date_invented":
            assert exp["effective_date"] is None and out["effective_date"]
        elif why == "wrong_term_altered":
            assert _length(out["term"]) != pytest.approx(_length(exp["term"]), rel=0.05)
        elif why == "wrong_term_invented":
            assert exp["term"] is None and out["term"]
        else:
            pytest.fail(f"unknown why {why}")


def test_names_are_found_as_printed_in_upper_case_and_across_a_line_break() -> None:
    doc = "between LIQUIDMETAL\nTECHNOLOGIES, INC., a Delaware corporation, and W&L Enterprises Ltd."
    (span,) = tf.find_name(doc, "Liquidmetal Technology Inc.")
    assert span.answer == "LIQUIDMETAL TECHNOLOGIES, INC."
    assert span.upper_case and span.broken_over_lines
    (other,) = tf.find_name(doc, "W and L Enterprises Ltd.")
    assert other.answer == "W&L Enterprises Ltd."
    assert tf.find_name(doc, "Nike Inc.") == []


def test_legal_dates_and_worded_terms_are_read_and_restated_in_their_own_form() -> None:
    (date,) = tf.find_dates("effective on the 30th day of April, 2009 (the Effective Date)")
    assert date.date == dt.date(2009, 4, 30)
    assert tf.restate(date, dt.date(2009, 5, 1)) == "1st day of May, 2009"
    (term,) = tf.find_terms("for a period of three (3) years after")
    assert (term.number, term.unit, term.answer) == (3, "year", "three (3) years")
    assert tf.restate_term(term, 18, "month") == "eighteen (18) months"
    (adjective,) = tf.find_terms("a two-year period")
    assert adjective.answer == "two years"


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\f", "\\f")


def test_a_split_folder_of_the_datasets_own_layout_reads_like_the_jsonl(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()[:4]]
    ins, answers = [], []
    for row in rows:
        text = _escaped(row["document"])
        ins.append("\t".join([f"{row['id']}.pdf", " ".join(row["keys"]), "djvu", "tess", "tx", text]))
        exp = row["expected"]
        pairs = [f"{k}={v.replace(' ', '_')}" for k in ("effective_date", "jurisdiction", "term")
                 if (v := exp[k])] + [f"party={p.replace(' ', '_')}" for p in exp["party"]]
        answers.append(" ".join(sorted(pairs)))
    with lzma.open(tmp_path / "in.tsv.xz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(ins) + "\n")
    (tmp_path / "expected.tsv").write_text("\n".join(answers) + "\n", encoding="utf-8")

    def parties_sorted(row: dict[str, Any]) -> dict[str, Any]:
        # expected.tsv sorts its pairs, so parties come in alphabetical order
        return row | {"expected": row["expected"] | {"party": sorted(row["expected"]["party"])}}

    assert [parties_sorted(r) for r in read_rows(tmp_path)] == [parties_sorted(r) for r in rows]
    assert [a.id for a in read_agreements(tmp_path)] == [r["id"] for r in rows]
