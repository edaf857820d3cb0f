"""Number and text normalisation shared by the grounding and consistency checks (dates are in
`validation.dates`).

A value is "the same" as one in the document when any reading of it matches any reading of a
document token: "1,234" may be 1234 (English) or 1.234 (German), "03/04/2025" may be 3 April or
4 March. Taking every plausible reading keeps true values from failing; an invented value still has
to collide with a real one to pass, which is rare.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from tierline.validation.dates import after_word, date_spans

# Digits with optional thousands groups and decimals; separators decided in `number_readings`.
# Written as `(?:-\d|\d)\d*` rather than `-?\d+` (the same matches): a pattern that opens with an
# optional character gives the regex engine no first character to skip ahead to, and a scan of a
# 3 KB document takes three times as long.
_NUMBER = re.compile(r"(?:-\d|\d)\d*(?:[.,'’]\d+)*")
_DIGIT = re.compile(r"\d")
_SPACED_NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:[.,]\d+)?(?![\d])")
# Spaces that group thousands: plain, no-break, narrow no-break (French), thin.
_NO_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")
# Every spaced number holds this; searching for it first is a scan that starts on a rare
# character, where `_SPACED_NUMBER` stops at every digit of the document.
_SPACED_GROUP = re.compile(r"[ \u00a0\u202f\u2009]\d{3}")


def _numbers(text: str) -> Iterator[tuple[int, str]]:
    """(offset, token) of numbers not glued to a word, a dot or a comma before them."""
    for match in _NUMBER.finditer(text):
        start, token = match.start(), match.group(0)
        if after_word(text, start, ".,"):
            if not token.startswith("-"):
                continue
            start, token = start + 1, token[1:]  # "A-12": the "-" separates, it is no sign
        yield start, token


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _dec(text: str) -> Decimal | None:
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def number_readings(token: str) -> set[Decimal]:
    """All values a number as written may stand for ("1,234" → {1234, 1.234})."""
    return set(_number_readings(token))


# Most numbers in documents are plain: digits, perhaps with one or two decimals ("12", "9.90",
# "12,50"), which have one reading whatever the separator.
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]{1,2})?")


@lru_cache(maxsize=8192)
def _number_readings(token: str) -> frozenset[Decimal]:
    if _PLAIN_NUMBER.fullmatch(token):
        return frozenset((Decimal(token.replace(",", ".")),))
    return _readings_of(token)


def _readings_of(token: str) -> frozenset[Decimal]:
    token = token.strip().replace("\u2019", "'").translate(_NO_SPACES)
    sign = ""
    if token.startswith("-"):
        sign, token = "-", token[1:]
    if not token or not token[0].isdigit():
        return frozenset()
    token = token.replace("'", ",") if "'" in token and "," not in token else token.replace("'", "")
    out: set[Decimal | None] = set()
    has_comma, has_dot = "," in token, "." in token
    if not has_comma and not has_dot:
        out.add(_dec(token))
    elif has_comma and has_dot:
        dec_sep = "," if token.rfind(",") > token.rfind(".") else "."
        thou = "." if dec_sep == "," else ","
        whole, _, frac = token.rpartition(dec_sep)
        if _grouped(whole, thou):
            out.add(_dec(whole.replace(thou, "") + "." + frac))
    else:
        sep = "," if has_comma else "."
        parts = token.split(sep)
        if len(parts) > 2:
            if _grouped(token, sep):
                out.add(_dec(token.replace(sep, "")))
        else:
            out.add(_dec(parts[0] + "." + parts[1]))
            if len(parts[1]) == 3:
                out.add(_dec(parts[0] + parts[1]))
    return frozenset(Decimal(sign + str(d)) if sign else d for d in out if d is not None)


def _grouped(whole: str, sep: str) -> bool:
    parts = whole.split(sep)
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 and p.isdigit() for p in parts[1:])


def value_readings(value: object) -> set[Decimal]:
    """Readings of a JSON number, or of a string that holds one number (with currency signs)."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int | float):
        d = _dec(repr(value)) if isinstance(value, float) else _dec(str(value))
        return {d} if d is not None else set()
    if isinstance(value, str):
        # Read by several checks (grounding, provenance, consistency, periods): once.
        return set(_string_readings(value))
    return set()


@lru_cache(maxsize=4096)
def _string_readings(value: str) -> frozenset[Decimal]:
    tokens = [token for _, token in _numbers(value)]
    if len(tokens) == 1:
        return _number_readings(tokens[0])
    # "1 000,00 €": thousands grouped by spaces are one number, not three.
    spaced = _SPACED_NUMBER.search(value)
    if spaced and len(tokens) > 1 and not _DIGIT.search(
            value[:spaced.start()] + value[spaced.end():]):
        return _number_readings(spaced.group(0))
    return frozenset()


_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORD = re.compile(r"\b(?=[zotfsenZOTFSEN])(?:" + "|".join([*_UNITS, *_TENS]) + r")\b",
                         re.IGNORECASE)
# The same words for ASCII text already lowered: without IGNORECASE and the leading `\b` the engine
# can skip to the seven possible first letters; the word boundary before is checked in Python.
# The words are grouped by first letter ("t(?:wo|hree|...)"), keeping their order within a group.
_BY_LETTER: dict[str, list[str]] = {}
for _word in [*_UNITS, *_TENS]:
    _BY_LETTER.setdefault(_word[0], []).append(_word[1:])
_NUMBER_WORD_LOWER = re.compile(
    "(?:" + "|".join(f"{c}(?:{'|'.join(rest)})" for c, rest in _BY_LETTER.items()) + r")\b")
_RUN_GAP = re.compile(r"(?:[\s-]|and|hundred|thousand)*", re.IGNORECASE)
WORD_VALUES = {w: i for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}


def spelled_spans(text: str) -> list[tuple[int, frozenset[Decimal]]]:
    """(offset, readings) of each run of number words; only the runs are read, not all words."""
    runs: list[list[int]] = []
    for match in _number_words(text):
        gap = text[runs[-1][1]:match.start()] if runs else ""
        if runs and len(gap) <= 14 and _RUN_GAP.fullmatch(gap):
            runs[-1][1] = match.end()
        else:
            runs.append([match.start(), match.end()])
    return [(start, frozenset(spelled_numbers(text[start:end]))) for start, end in runs]


def _number_words(text: str) -> Iterator[re.Match[str]]:
    """`NUMBER_WORD.finditer(text)`, faster for ASCII text (most documents).

    A match of the lowered pattern that starts inside a word ends at that word's end, so it
    cannot hide a match at a word start: dropping it leaves exactly `NUMBER_WORD`'s matches.
    """
    if not text.isascii():
        yield from NUMBER_WORD.finditer(text)
        return
    for match in _NUMBER_WORD_LOWER.finditer(text.lower()):
        start = match.start()
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_"):
            yield match


def spelled_numbers(text: str) -> set[Decimal]:
    """Numbers written in words ("forty-five", "one hundred twenty"), each run read whole."""
    found: set[Decimal] = set()
    total = current = 0
    in_run = False
    last = 100  # the place value the previous word filled; a word may only fill a smaller one
    for word in [*norm_text(text).split(), ""]:
        value = WORD_VALUES.get(word)
        if value is not None and in_run and (last == 1 if value < 20 else last < 100):
            found.add(Decimal(total + current))  # "fourteen two": two numbers, not one
            total = current = 0
        if value is not None:
            last = 1 if value < 20 else 10
            current += value
            found.add(Decimal(WORD_VALUES[word]))
            in_run = True
        elif word == "hundred" and in_run:
            current *= 100
            last = 100
        elif word == "thousand" and in_run:
            total, current = total + current * 1000, 0
            last = 100
        elif word == "and" and in_run:
            continue
        elif in_run:
            found.add(Decimal(total + current))
            total = current = 0
            in_run = False
    return found


@lru_cache(maxsize=256)
def document_numbers(text: str) -> frozenset[Decimal]:
    return numbers_of(text)


def numbers_of(text: str) -> frozenset[Decimal]:
    """Every reading of every number in `text`, written in digits or in words."""
    return frozenset().union(*[readings for _, readings in number_spans(text)])


@lru_cache(maxsize=256)
def number_spans(text: str) -> tuple[tuple[int, frozenset[Decimal]], ...]:
    """(offset, readings) of every number, in digits or in words, dates' parts included."""
    spans: list[tuple[int, frozenset[Decimal]]] = spelled_spans(text)
    if _DIGIT.search(text) is None:
        return tuple(spans)
    # `_numbers`, inlined: this loop runs for every number of every document.
    for match in _NUMBER.finditer(text):
        start, token = match.start(), match.group()
        if start and ((c := text[start - 1]).isalnum() or c in "_.,"):
            if token[0] != "-":
                continue
            start, token = start + 1, token[1:]
        found = _number_readings(token)  # cached and already frozen: no copy per number
        # "-" is often a range or id separator, not a sign: keep both readings.
        if token[0] == "-":
            found = found | _number_readings(token[1:])
        spans.append((start, found))
    if _SPACED_GROUP.search(text):
        for match in _SPACED_NUMBER.finditer(text):
            if not after_word(text, match.start(), ".,"):
                spans.append((match.start(), frozenset(number_readings(match.group(0)))))
    for start, dates in date_spans(text):
        spans.append((start, frozenset(Decimal(p) for d in dates
                                       for p in (d.year, d.month, d.day))))
    return tuple(spans)


def numbers_in(text: str) -> list[str]:
    return [token for _, token in _numbers(text)]


_ASCII_FOLD = bytes(c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 else 32
                    for c in range(256))


def ascii_folded(text: str) -> str:
    """ASCII `text` lowered, every character but a-z and 0-9 made a space; same length."""
    return text.encode("ascii").translate(_ASCII_FOLD).decode("ascii")


def norm_text(text: str) -> str:
    """Case, accents and punctuation folded away; words separated by one space, padded."""
    if text.isascii():
        # Lowering and blanking every other character in one C-level table lookup, then
        # `split`/`join`, gives the same words several times faster than the regex below.
        return " " + " ".join(ascii_folded(text).split()) + " "
    folded = text.casefold()
    if not folded.isascii():
        # Accents dropped: only non-ASCII characters can combine, so only their runs are read
        # character by character (a long agreement has a few curly quotes, not a page of them).
        folded = _NON_ASCII.sub(_uncombined, unicodedata.normalize("NFKD", folded))
    # The words of a-z and 0-9 (`_NON_ALNUM`'s), by table: what is left outside ASCII becomes
    # "?", then a space, as does every other character but a-z and 0-9.
    ascii_text = folded.encode("ascii", "replace").translate(_ALNUM_ONLY).decode("ascii")
    return " " + " ".join(ascii_text.split()) + " "


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ALNUM_ONLY = bytes(c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256))


def _uncombined(run: re.Match[str]) -> str:
    return "".join(c for c in run.group() if not unicodedata.combining(c))


@lru_cache(maxsize=256)
def document_text(text: str) -> str:
    return norm_text(text)


@lru_cache(maxsize=256)
def document_tokens(text: str) -> tuple[str, ...]:
    """The document's words in order, as `norm_text` gives them."""
    return tuple(document_text(text).split())


@lru_cache(maxsize=256)
def document_squashed(text: str) -> str:
    """The document's letters and digits only, lowered: what is left of badly spaced OCR."""
    return "".join(document_text(text).split())


@lru_cache(maxsize=256)
def document_lower(text: str) -> str:
    return text.lower()


@lru_cache(maxsize=256)
def document_words(text: str) -> frozenset[str]:
    return frozenset(document_text(text).split())


_NO_TABLE = frozenset({0})


@lru_cache(maxsize=256)
def table_row_counts(text: str) -> frozenset[int]:
    """Data rows of each table (runs of lines with two or more "|" or tab separators).

    A table's first row counts as a header when it holds no digit.
    """
    if "|" not in text and "\t" not in text:
        return _NO_TABLE  # no line can be a table row: the loops below would find just that
    counts: set[int] = set()
    run: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.count("|") >= 2 or line.count("\t") >= 2:
            run.append(line)
            continue
        if run and line.strip() and not any(c.isalnum() for c in line):
            continue  # scan debris inside a table does not end it
        if run:
            header = not any(c.isdigit() for c in run[0])
            counts.add(len(run) - header)
            run = []
    # A table broken by a stray line is still one table: count all its data rows too.
    counts.add(sum(1 for line in text.splitlines()
                   if (line.count("|") >= 2 or line.count("\t") >= 2)
                   and any(c.isdigit() for c in line)))
    return frozenset(counts)
