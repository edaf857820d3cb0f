"""Parties left out of an agreement's list: strict only where the opening names them all.

An agreement's opening sentence names its parties: "This Agreement is made by and between Kite
Pharma, Inc., a Delaware corporation (“Kite”) and Gilead Sciences, Inc. (“Company”)." A list of
parties that covers fewer of them than the opening names, while a name the opening gives is in
none of its items, has left a party out. Templates leave a party blank ("and
(“Employee”)", "the employee signatory hereto", "XXXX", "[___]"): such a place names no one
and is not counted. Only the opening is read; a party named later is not judged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from tierline.validation.base import Finding
from tierline.validation.doc_index import fold
from tierline.validation.normalize import norm_text

PARTIES = "parties"

_OPENING_REACH = 3000  # characters from the start where the opening sentence must begin
_CLAUSE_REACH = 1200  # characters of the "between ..." clause read
_FIELD = re.compile(r"part(?:y|ies)|signator|counterpart", re.IGNORECASE)
_BETWEEN = re.compile(r"\b(?:between|among|amongst)\b", re.IGNORECASE)
# The sentence before "between" makes the agreement: "... Agreement ... is made by and between".
_MAKES = re.compile(r"agreement", re.IGNORECASE)
_MADE = re.compile(r"\b(?:made|entered|dated|effective|executed|by\s+and)\b", re.IGNORECASE)
# Where the clause of parties ends: a sentence end (a full stop, then a capital, but not after
# an initial or an abbreviation: "R. J. Seifert", "Inc. (“Kite”)"), a recital.
_ABBREVIATIONS = "".join(f"(?<!\\b(?i:{a}))" for a in (
    "inc", "corp", "co", "ltd", "no", "mr", "ms", "mrs", "dr", "st", "jr", "sr"))
_CLAUSE_END = re.compile(r"(?<!\b[A-Z])" + _ABBREVIATIONS + r"\.\s+(?=[A-Z“\"])"
                         r"|\b(?:WHEREAS|RECITALS|WITNESSETH|Recitals)\b"
                         r"|\b(?:collectively|together|individually|each)\b[^.]{0,40}"
                         r"[“\"](?:Part(?:y|ies))[”\"]")
_MARK = "\u00b6"  # where a bracketed aside ended
_SEPARATOR = re.compile(r",?\s*\band\b\s*|;\s*|" + _MARK + r"\s*,\s*", re.IGNORECASE)
_NAME_END = re.compile(r",|\(|" + _MARK
                       + r"|\s(?:a|an)\s|\s(?:located|having|with|whose|whereas)\b")
_FIRM_AFTER = re.compile(r",\s*(?:a|an)\s|,\s*(?:inc|corp|corporation|llc|l\.\s?l\.\s?c|ltd|limited"
                         r"|plc|gmbh|ag|s\.\s?a|n\.\s?v|l\.\s?p|lp|llp)\b", re.IGNORECASE)
_BLANK = re.compile(r"_|\[|\]|X{3,}|\.{3,}")
_CONNECTORS = frozenset({"&", "and", "of", "de", "du", "der", "la", "le", "von", "van", "d/b/a",
                         "the"})
_SUFFIXES = frozenset({"inc", "incorporated", "corp", "corporation", "co", "company", "llc",
                       "lp", "llp", "ltd", "limited", "plc", "gmbh", "ag", "sa", "nv", "bv",
                       "the"})
_WORD = re.compile(r"[^\W_]+")


def _words(name: str) -> frozenset[str]:
    return frozenset(fold(w) for w in _WORD.findall(norm_text(name))) - _SUFFIXES


def _outside_brackets(text: str) -> str:
    """The clause with bracketed asides blanked, so that an "and" inside them splits nothing;
    each aside leaves a mark, since a defined term closes its party ("A (“X”), B (“Y”)")."""
    out, depth = [], 0
    for c in text:
        depth += c == "("
        out.append(_MARK if depth == 1 and c == ")" else " " if depth else c)
        depth -= c == ")" and depth > 0
    return "".join(out)


def _is_name(candidate: str, rest: str) -> bool:
    """Capitalised words, not a blank; one word only when what follows makes it a firm
    ("Lydall, Inc.", "Myogen, a Delaware corporation")."""
    tokens = candidate.split()
    if not tokens or _BLANK.search(candidate):
        return False
    if len(tokens) == 1 and not (tokens[0].isalpha() and len(tokens[0]) > 2
                                 and _FIRM_AFTER.match(rest)):
        return False
    return all(t[0].isupper() or t.lower() in _CONNECTORS or not t[0].isalpha()
               for t in tokens) and tokens[0][0].isupper()


@lru_cache(maxsize=256)
def opening_parties(document: str) -> tuple[str, ...]:
    """The names the opening's "between A ... and B ..." clause gives, blanks left out; empty
    when the document has no such opening."""
    for m in _BETWEEN.finditer(document, 0, _OPENING_REACH):
        sentence_start = max(document.rfind(". ", 0, m.start()), document.rfind("\n\n", 0,
                                                                                m.start()))
        lead = document[max(0, sentence_start, m.start() - 400):m.start()]
        if not (_MAKES.search(lead) and _MADE.search(lead)):
            continue
        clause = document[m.end():m.end() + _CLAUSE_REACH]
        end = _CLAUSE_END.search(_outside_brackets(clause))
        clause = _outside_brackets(clause[:end.start()] if end else clause)
        names = []
        for part in _SEPARATOR.split(clause):
            part = " ".join(part.split())
            cut = _NAME_END.search(part)
            candidate = (part[:cut.start()] if cut else part).replace(_MARK, " ").strip(" .;:")
            # "Eli Lilly and Company": a firm word alone is the end of the name before it.
            if _words(candidate) and _is_name(candidate, part[cut.start():] if cut else ""):
                names.append(candidate)
        return tuple(names)
    return ()


def _covered(name: str, listed: list[frozenset[str]]) -> bool:
    words = _words(name)
    return bool(words) and any(words <= item or (item and item <= words) for item in listed)


def check_parties(value: Any, document: str) -> list[Finding]:
    """A finding per party list that leaves out a party the opening names."""
    if not isinstance(value, dict):
        return []
    findings = []
    for key, items in value.items():
        if not (_FIELD.search(str(key)) and isinstance(items, list) and items
                and all(isinstance(i, str) for i in items)):
            continue
        named = opening_parties(document)
        if len(named) < 2:
            continue
        listed = [_words(i) for i in items]
        missing = [n for n in named if not _covered(n, listed)]
        if missing and len(items) < len(named):
            # Two parties named, one listed, is decisive; lists of three or more are often
            # given in part on purpose (a parent and its subsidiary as one), so only recorded.
            strict = len(named) == 2 and len(items) == 1
            findings.append(Finding(PARTIES, False, (
                f"{key}: the opening names {len(named)} parties ('between "
                f"{' … and '.join(n[:40] for n in named)}'); the answer lists {len(items)}, "
                f"without {missing[0][:40]!r}"), strict=strict))
    return findings
