"""The document scans' shortcuts give what the plain forms they replace give."""

from __future__ import annotations

import datetime as dt
import gc
import re
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.validation.arithmetic import _evaluate
from tierline.validation.dates import _MONTH_PREFIXES, _month_words, find_dates
from tierline.validation.doc_index import segments
from tierline.validation.normalize import _number_readings, _readings_of, number_spans, numbers_of

_WORD_THEN_DIGIT = re.compile(r"[a-z]*\.?\s+(?=\d)")


def _month_words_by_find(lowered: str) -> tuple[bool, set[int]]:
    """Every month prefix looked for with `str.find`, and each occurrence's word read on."""
    months, ends = False, set()
    for prefix in _MONTH_PREFIXES:
        at = lowered.find(prefix)
        months = months or at >= 0
        while at >= 0:
            match = _WORD_THEN_DIGIT.match(lowered, at + 3)
            if match:
                ends.add(match.end())
            at = lowered.find(prefix, at + 1)
    return months, ends


# Month letters that overlap ("janov", "decdec"), words that hold them ("summary"), dots,
# spaces and digits.
_PIECES = ["jan", "nov", "mar", "march", "ch", "summary", "dec", "sept", "okt", "mai", "ma", "y",
           "x", ".", " ", "  ", "\n", "\t", "3", "12", "2025", ",", "-"]
_lowered = st.lists(st.sampled_from(_PIECES), max_size=16).map("".join)


@settings(max_examples=500, deadline=None)
@given(_lowered)
def test_month_words_in_one_scan_are_those_found_prefix_by_prefix(lowered: str) -> None:
    assert _month_words(lowered) == _month_words_by_find(lowered)


def test_month_words_end_where_the_day_starts() -> None:
    text = "due 3 january 2025; summary 12; sept.  4; janov 7; decdec"
    assert _month_words(text) == (True, {text.index("2025"), text.index("12"),
                                         text.index("4"), text.index("7")})
    assert _month_words("no such word 12") == (False, set())
    assert find_dates("Signed on March 3, 2025 and 4 Sept. 2024.") == {
        dt.date(2025, 3, 3), dt.date(2024, 9, 4)}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["36", "$1,200", "50%", "0.5", ".5", "12.75%", "x", "+", "*", "(", ")",
                        "-", "÷", "3 x", "1,2"]))
def test_a_bare_token_evaluates_as_the_parser_reads_it_in_brackets(token: str) -> None:
    # "(t)" goes through the parser's bracket rule to the same atom, or fails the same way.
    bracketed = _evaluate(f"({token})")
    assert _evaluate(token) == bracketed


def test_bare_tokens() -> None:
    assert _evaluate("36") == 36.0
    assert _evaluate("$1,200") == 1200.0
    assert _evaluate("50%") == 0.5
    assert _evaluate("x") is None
    assert _evaluate("(") is None
    assert _evaluate("-") is None
    assert _evaluate("2 * (3 + 4)") == 14.0


def test_numbers_of_is_every_reading_of_every_span() -> None:
    text = "Total 1,234 on 03/04/2025, forty-five items, -7 and 1 000,50 EUR"
    expected: set[Decimal] = set()
    for _, readings in number_spans(text):
        expected |= readings
    assert numbers_of(text) == frozenset(expected)
    assert numbers_of("no digits here") == frozenset()


def test_a_segment_holds_the_readings_of_all_its_numbers() -> None:
    (seg,) = segments("Paid 1,500 on 03/04/2025 and 20 more")
    expected: set[Decimal] = set()
    for _, readings in seg.number_at:
        expected |= readings
    assert seg.numbers == frozenset(expected)
    assert len(seg.number_at) >= 4


_NUMBER_PIECES = ["0", "1", "12", "123", "1234", ".", ",", "'", "’", "-", " ", "\u00a0", "x", "٣"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_NUMBER_PIECES), min_size=1, max_size=7).map("".join))
def test_a_plain_number_reads_as_the_general_reading_reads_it(token: str) -> None:
    # As written, not only equal: "12.50" and "12.5" are equal numbers that print differently.
    assert sorted(map(str, _number_readings.__wrapped__(token))) == sorted(
        map(str, _readings_of(token)))


def test_plain_numbers_have_one_reading() -> None:
    assert _number_readings("12,50") == {Decimal("12.50")}
    assert _number_readings("007") == {Decimal("7")}
    assert _number_readings("1,234") == {Decimal("1.234"), Decimal("1234")}


def test_evaluating_an_expression_leaves_no_garbage_cycles() -> None:
    # A worker pays for every cycle it leaves behind in its next collection.
    _evaluate.cache_clear()
    gc.collect()
    gc.disable()
    try:
        assert _evaluate("2 * (3 + 4) - 6 / 3") == 12.0
        assert _evaluate("2 * (3 +") is None
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert unreachable == 0
