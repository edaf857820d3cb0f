"""The independent document generator: deterministic, well formed, right answers that the
document states, and wrong answers that differ from them in the way their category says."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from bench.cases import documents_layouts as lay
from bench.cases.common import builder_problems, read_cases
from bench.cases.documents import build_cases, slip_digit

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "data" / "cases" / "documents.jsonl"
ENUMS = {"request", "payment_method"}
ALL_STYLES = ("iso", "month_day_year", "us_slash", "ordinal_of", "day_month_year", "short",
              "uk_slash", "dots", "de_long", "fr_long")


@cache
def committed() -> list[dict[str, Any]]:
    return read_cases(CASES)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _printed(value: str, document: str) -> bool:
    return _squeezed(value) in _squeezed(document)


def _iso(value: Any) -> dt.date | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value)
    return None


def _date_stated(date: dt.date, document: str) -> bool:
    return any(lay.render_date(date, style) in document for style in ALL_STYLES)


def _amount_stated(value: float, document: str) -> bool:
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    return any(lay.Money(amount, locale).digits in document for locale in lay.LOCALES)


@cache
def _date_forms() -> dict[str, dt.date]:
    first = dt.date(2025, 1, 1)
    days = (first + dt.timedelta(days=i) for i in range(4 * 366))
    return {lay.render_date(d, style): d for d in days for style in ALL_STYLES}


def _read_date(value: str) -> dt.date | None:
    return _date_forms().get(value)


def _by_doc() -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for case in committed():
        out.setdefault(case["doc"], {})[case["why"]] = case
    return out


def test_the_same_seed_builds_the_same_cases_and_another_seed_others() -> None:
    assert list(build_cases(30, seed=0)) == list(build_cases(30, seed=0))
    assert list(build_cases(30, seed=0)) != list(build_cases(30, seed=1))


def test_the_committed_file_is_what_seed_0_builds() -> None:
    assert committed() == list(build_cases(150, seed=0))


def test_every_case_is_well_formed_with_several_hundred_over_four_kinds() -> None:
    cases = committed()
    assert [p for c in cases for p in builder_problems(c)] == []
    assert len({c["id"] for c in cases}) == len(cases) >= 300
    assert {c["doc"].split("-")[0] for c in cases} == {"invoice", "receipt", "contract", "email"}
    assert sum(c["should_pass"] for c in cases) >= 150
    assert sum(not c["should_pass"] for c in cases) >= 150


def test_right_answers_are_stated_in_the_document_as_printed_or_normalised() -> None:
    for case in (c for c in committed() if c["should_pass"]):
        doc = case["document"]
        for key, value in case["output"].items():
            if key in ENUMS:
                assert value in case["schema"]["properties"][key]["enum"]
            elif isinstance(value, float):
                assert _amount_stated(value, doc), (case["id"], key, value)
            elif (date := _iso(value)) is not None:
                assert _date_stated(date, doc), (case["id"], key, value)
            elif key == "term":  # "3 years" for "three (3) years"
                number, unit = value.split()[-2:]
                assert value in doc or f"({number}) {unit}" in doc, (case["id"], value)
            elif case["why"].endswith("_normalised"):  # names' case, "New York" for "the State of"
                assert _printed(value.lower(), doc.lower()), (case["id"], key, value)
            else:
                assert _printed(value, doc), (case["id"], key, value)


def test_wrong_answers_differ_in_one_field_the_way_their_category_says() -> None:
    for doc_id, cases in _by_doc().items():
        right = cases[next(w for w in cases if w.startswith("correct") and
                           not w.endswith("_normalised"))]
        for why, case in cases.items():
            if case["should_pass"]:
                continue
            changed = {k: v for k, v in case["output"].items() if v != right["output"][k]}
            document = case["document"]
            if why == "wrong_roles_swapped":
                assert len(changed) == 2 and set(changed.values()) == {
                    right["output"][k] for k in changed}
                continue
            assert len(changed) == 1, (doc_id, why, changed)
            ((key, value),) = changed.items()
            if why in ("wrong_due_is_issue_date", "wrong_date_other_line"):
                # another date the document states (perhaps in another form: a mail header)
                date = _read_date(value)
                assert date is not None and _date_stated(date, document), (doc_id, why, value)
            elif why in ("wrong_total_other_line", "wrong_amount_other_line",
                         "wrong_name_other_person"):
                # taken from another line: the document prints it (its figures, at least)
                figures = re.sub(r"[€$£]|CHF", "", str(value))
                assert _printed(figures, document), (doc_id, why, value)
            elif why == "wrong_party_not_in_document":
                assert value.split()[0].lower() not in document.lower()
            elif why in ("wrong_amount_digit_slipped", "wrong_code_digit_slipped"):
                old = right["output"][key]
                assert len(value) == len(old) and value != old
                assert sum(a != b for a, b in zip(value, old, strict=True)) in (1, 2)
            elif why in ("wrong_date_shifted", "wrong_term_altered"):
                assert not _printed(value, document)
            else:
                raise AssertionError(f"unknown why {why}")
        if "wrong_due_is_issue_date" in cases:
            wrong = cases["wrong_due_is_issue_date"]["output"]
            assert wrong["due_date"] == right["output"]["issue_date"]


def test_amounts_are_written_as_each_locale_writes_them() -> None:
    value = Decimal("1234.56")
    assert lay.Money(value, "de").printed == "1.234,56 €"
    assert lay.Money(value, "us").printed == "$1,234.56"
    assert lay.Money(value, "uk").printed == "£1,234.56"
    assert lay.Money(value, "ch", symbol_first=False).printed == "1'234.56 CHF"
    assert lay.Money(value, "fr").printed == "1\u202f234,56 €"


def test_dates_are_written_in_the_forms_documents_use() -> None:
    day = dt.date(2026, 7, 3)
    assert lay.render_date(day, "ordinal_of") == "3rd of July 2026"
    assert lay.render_date(day, "dots") == "03.07.2026"
    assert lay.render_date(day, "de_long") == "3. Juli 2026"
    assert lay.render_date(day, "us_slash") == "07/03/2026"
    assert lay.render_date(day, "uk_slash") == "03/07/2026"


def test_scan_slips_change_letters_inside_words_and_never_figures() -> None:
    text = "SUBTOTAL 1,234.56 Total 17.00 Coffee Sparkling water 2026-07-03"
    slipped = {lay.ocr_slip(text, random.Random(seed), rate=1.0) for seed in range(20)}
    assert any(s != text for s in slipped)
    for s in slipped:
        assert re.findall(r"[\d.,-]{4,}", s) == re.findall(r"[\d.,-]{4,}", text)


def test_a_slipped_digit_changes_one_or_two_neighbouring_characters() -> None:
    for seed in range(50):
        out = slip_digit("INV-20417", random.Random(seed))
        assert out != "INV-20417" and out.startswith("INV-") and len(out) == 9
