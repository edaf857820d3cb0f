"""Dates as documents write them: ISO, numeric day/month either way round, and in words.

Each reading is kept: "03/04/2025" is both 3 April and 4 March, so a true date never fails to
match, and an invented one has to collide with a real reading to pass.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

MONTHS = {
    name: i
    for i, names in enumerate(
        # English with its abbreviations, then French and German as written in full (their
        # abbreviations would collide with English words).
        [("january", "jan", "janvier", "januar"), ("february", "feb", "février", "fevrier",
                                                   "februar"),
         ("march", "mar", "mars", "märz", "maerz"), ("april", "apr", "avril"),
         ("may", "mai"), ("june", "jun", "juin", "juni"), ("july", "jul", "juillet", "juli"),
         ("august", "aug", "août", "aout"), ("september", "sep", "sept", "septembre"),
         ("october", "oct", "octobre", "oktober"), ("november", "nov", "novembre"),
         ("december", "dec", "décembre", "decembre", "dezember")],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th|er|\.)?"  # "3rd", "1er" (French), "7." (German)
# Legal forms: "the 11th day of January, 2012", "30th day of April 2009", "11 DAY OF October".
_DAY_OF = r"\s+(?:day\s+of\s+|of\s+)?"
# Between the day (or month) and the year: "3 March 2025", "December 11,2014", "April 6th\n, 2005".
_TO_YEAR = r"\s*,?\s*(?P<y>\d{4})\b"
_DATE_PATTERNS = [
    re.compile(r"\b(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})" + _ORD + _DAY_OF + _MONTH + _TO_YEAR, re.IGNORECASE),
    # The lookahead prunes most positions before the slow month alternation is tried.
    re.compile(r"\b(?=[JFMASONDjfmasond])" + _MONTH + r"\s+(?P<d>\d{1,2})" + _ORD + _TO_YEAR,
               re.IGNORECASE),
]
# Scanning variants: the same patterns with the leading boundary checked in Python instead, so
# that the regex engine can jump straight to digits (a leading assertion makes it try every
# position, several times slower on long documents).
_FAST_DATES = [
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})\b"),
    re.compile(r"(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})\b"),
    re.compile(r"(?P<d>\d{1,2})" + _ORD + _DAY_OF + _MONTH + _TO_YEAR, re.IGNORECASE),
]
_NUMERIC_DATES = tuple(_FAST_DATES[:2])
_WORDED_DATES = (_FAST_DATES[2],)
_ORDINALS = frozenset({"st", "nd", "rd", "th", "er"})
# Words that may stand around a date given as a value: "dated this 11th day of January, 2012".
_DATE_WORDS = frozenset({"the", "this", "dated", "as", "of", "on", "effective", "day"})
_MONTH_ENDS = frozenset(name[-3:] for name in MONTHS)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DIGIT_RUN = re.compile(r"\d+")
_WORD_BEFORE = re.compile(r"\b([A-Za-z]+)\.?\s+$")
_MONTH_PREFIXES = tuple(sorted({name[:3] for name in MONTHS}))
# In lowered ASCII text: a month's first three letters, and when spaces and a digit follow the
# rest of their word, those too.
_MONTH_WORD = re.compile("(?:" + "|".join(p for p in _MONTH_PREFIXES if p.isascii())
                         + r")(?:[a-z]*\.?\s+(?=\d))?")


def after_word(text: str, start: int, also: str = "") -> bool:
    """Whether the character before `start` is a word character (or one of `also`)."""
    if start == 0:
        return False
    c = text[start - 1]
    return c.isalnum() or c == "_" or c in also


def _year(y: str) -> int:
    n = int(y)
    return n + 2000 if len(y) == 2 and n < 70 else n + 1900 if len(y) == 2 else n


def _make(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _dates_of_match(match: re.Match[str]) -> set[dt.date]:
    groups = match.groupdict()
    y = _year(groups["y"])
    if groups.get("a") is not None:
        a, b = int(groups["a"]), int(groups["b"])
        found = {_make(y, b, a), _make(y, a, b)}  # day/month and month/day
    else:
        month = MONTHS[groups["mon"].lower()] if groups.get("mon") else int(groups["m"])
        found = {_make(y, month, int(groups["d"]))}
    return {d for d in found if d is not None}


def find_dates(text: str) -> set[dt.date]:
    """Every date that some reading of `text` mentions."""
    return {d for _, dates in _scan_dates(text) for d in dates}


def date_readings(value: str) -> set[dt.date]:
    """The dates `value` means if, apart from punctuation, it is nothing but one date."""
    # An output's values are read by several checks (grounding, provenance, consistency, mail
    # dates): each is read once.
    return set(_date_readings(value) if isinstance(value, str) else _read_dates(value))


@lru_cache(maxsize=4096)
def _date_readings(value: str) -> frozenset[dt.date]:
    return _read_dates(value)


def _read_dates(value: str) -> frozenset[dt.date]:
    value = value.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(value)
        if match is None:
            match = pattern.search(value)
            if match is None:
                continue
            rest = value[: match.start()] + " " + value[match.end():]
            if _NON_ALNUM.sub("", " ".join(
                    w for w in rest.lower().split() if w.strip(",.:") not in _DATE_WORDS)):
                continue
        return frozenset(_dates_of_match(match))
    return frozenset()


@lru_cache(maxsize=256)
def date_spans(text: str) -> tuple[tuple[int, frozenset[dt.date]], ...]:
    """(offset, readings) of every date in `text`."""
    return tuple(_scan_dates(text))


def _month_words(lowered: str) -> tuple[bool, set[int]]:
    """Whether lowered ASCII text holds a month's first three letters, and where each word
    starting with them is followed by spaces and a digit ends.

    Those ends are the only runs the "March 3, 2025" test of `_scan_dates` can accept (its word
    must start with a month's first three letters): found in one scan instead of a look back
    from every number. A match resumes the scan after itself, which only skips the other
    month letters of its own word: their word ends at the same place.
    """
    months, ends = False, set()
    for match in _MONTH_WORD.finditer(lowered):
        months = True
        if match.end() - match.start() > 3:  # the word went on to spaces and a digit
            ends.add(match.end())
    return months, ends


def _scan_dates(text: str) -> list[tuple[int, frozenset[dt.date]]]:
    """Dates, tried only where a run of digits starts: one fast pass instead of four scans.

    Each pattern is tried only where the characters around the run allow it (a separator and a
    digit after it for the numeric forms, a space or an ordinal for "3 March 2025", a space
    before it for "March 3, 2025"): the same matches, without a regex call per number.
    """
    if _DIGIT_RUN.search(text) is None:  # a C-level scan, not a generator over characters
        return []
    after_month: set[int] | None = None
    if text.isascii():
        months, after_month = _month_words(text.lower())
    else:
        folded = text.casefold()
        months = any(month in folded for month in _MONTH_PREFIXES)
    found: list[tuple[int, frozenset[dt.date]]] = []
    size = len(text)
    for run in _DIGIT_RUN.finditer(text):
        start, end = run.span()
        # `after_word(text, start)`, inlined: this runs for every number of every document.
        if end < size and not (start and ((c := text[start - 1]).isalnum() or c == "_")):
            after = text[end]
            candidates: tuple[re.Pattern[str], ...] = ()
            if after in "-/." and end + 1 < size and text[end + 1].isdigit():
                # "2025-03-04" needs a run of exactly four digits, "03/04/2025" one or two:
                # the other pattern cannot match, and clause numbers ("4.2") try neither twice.
                candidates = (_NUMERIC_DATES[:1] if end - start == 4
                              else _NUMERIC_DATES[1:] if end - start <= 2 else ())
            elif months and end - start <= 2 and (
                    after.isspace() or text[end:end + 2].lower() in _ORDINALS
                    or (after == "." and text[end + 1:end + 2].isspace())):
                candidates = _WORDED_DATES
            for pattern in candidates:
                match = pattern.match(text, start)
                if match:
                    found.append((start, frozenset(_dates_of_match(match))))
                    break
        if months and (after_month is None or start in after_month) and start \
                and text[start - 1].isspace() and (
                text[max(0, start - 14):start].split() or [""])[-1].rstrip(".")[-3:].lower() \
                in _MONTH_ENDS:
            # "March 3, 2025": the month word just before the day (the word's last three
            # letters are checked first: most numbers follow "within", "of", "upon"...)
            word = _WORD_BEFORE.search(text, max(0, start - 14), start)
            if word and word.group(1).lower() in MONTHS:
                match = _DATE_PATTERNS[3].match(text, word.start(1))
                if match:
                    found.append((word.start(1), frozenset(_dates_of_match(match))))
    return found


@lru_cache(maxsize=256)
def document_dates(text: str) -> frozenset[dt.date]:
    return frozenset(d for _, dates in date_spans(text) for d in dates)
