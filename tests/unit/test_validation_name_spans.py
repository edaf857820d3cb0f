"""A name's spans found with `str.find` are the spans its regex finds, wherever the fast path
applies; elsewhere the regex is used."""

from __future__ import annotations

import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.validation.name_spans import pattern, spans

# Letters that case-insensitive matching treats specially, accents, separators, "and", digits.
_PIECES = ["Acme", "ACME", "acme", "Corp", "and", "AND", "And", "&", " ", "  ", ",", ".", "-",
           "_", "\n", "é", "Kjær", "ſ", "\u212a", "İ", "ı", "1", "42", "x", "andrew", "S", "s"]
_text = st.lists(st.sampled_from(_PIECES), max_size=14).map("".join)


@settings(max_examples=600, deadline=None)
@given(_text, _text)
def test_the_spans_are_the_regex_spans(name: str, document: str) -> None:
    compiled = pattern(name)
    expected = None if compiled is None else [m.span() for m in compiled.finditer(document)]
    assert spans(name, document) == expected


def test_a_name_is_found_across_case_punctuation_and_an_and() -> None:
    document = "between ACME corp. and Smith & Jones, LLC (the “Company”); acmecorp"
    assert spans("Acme Corp", document) == [(8, 17), (59, 67)]
    assert spans("Smith Jones LLC", document) == [(23, 41)]
    assert spans("Acme Jones", "Acme and Jones") == [(0, 14)]
    assert spans("Acme", "Acme2 xAcme") == []
    assert spans("...", document) is None


def test_only_the_lookalikes_match_ascii_letters_case_insensitively() -> None:
    # The fast path lowers the document: this is the list of characters it must leave alone.
    ascii_alnum = re.compile("[A-Za-z0-9]", re.IGNORECASE)
    others = {chr(c) for c in range(128, sys.maxunicode + 1)
              if not 0xD800 <= c < 0xE000 and ascii_alnum.match(chr(c))}
    assert others == {"\u0130", "\u0131", "\u017f", "\u212a"}
