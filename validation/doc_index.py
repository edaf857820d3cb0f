"""A document's lines and sentences ("segments") with the numbers and dates each holds, indexed
so that `validation.provenance` can ask which segments hold a value or name a field.

Built once per document (cached) and shared by every field of every job that reads it; each
step is a whole-document scan followed by bucketing, not a scan per segment.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from tierline.validation.dates import date_spans
from tierline.validation.normalize import ascii_folded, document_text, norm_text, number_spans

# A cut is the whitespace (group 1) after a sentence's end. Written with the punctuation matched
# rather than looked behind at, so the engine skips to the rare punctuation marks instead of trying
# every position of the document (the same cuts, three times faster).
_SENTENCE = re.compile(r"[.!?;](\s+)(?=[A-Z\"'(])")
_LABEL_LINE = re.compile(r"^\s*([^:|]{2,40}?)\s*:\s*(\S.*)$")
# A column layout's label: words (perhaps a rate, "VAT 8.1%", or OCR digits, "inc1. tax"), then
# two or more spaces and a value with a digit ("Total          $12,424.94").
_COLUMN_LINE = re.compile(r"^\s*([A-Za-z][^:|\t]{1,38}?)(?: {2,}|\t)(?=[^\n]*\d)(\S.*)$")
_OCR = str.maketrans({"0": "o", "5": "s", "1": "l"})
# A letter next to a 0, 1 or 5 (only ever tested for, never read): anchored on the rare digit, so
# the engine does not stop at every letter of the text.
_OCR_WORD = re.compile(r"[015](?:(?<=[a-z].)|(?=[a-z]))")

_EMPTY: frozenset[Any] = frozenset()


def _first(item: tuple[int, Any]) -> int:
    return item[0]


@lru_cache(maxsize=16_384)
def fold(word: str) -> str:
    """Undo OCR digit-for-letter swaps inside words ("5ubt0ta1" → "subtotal")."""
    if not any(c.isalpha() for c in word):
        return word
    return ("i" + word[1:] if word[0] == "1" else word).translate(_OCR)


def words(text: str) -> list[str]:
    return [fold(w) for w in norm_text(text).split()]


class Segment(NamedTuple):
    """A line, or a sentence of a prose line (a tuple: built for every line of every job)."""

    raw: str
    norm: str
    text: str  # the words with OCR swaps undone, space-padded, for `provenance._has`
    numbers: frozenset[Decimal]
    dates: frozenset[dt.date]
    label: tuple[str, ...] | None
    # Where in `raw` each number and date starts, with its readings.
    number_at: tuple[tuple[int, frozenset[Decimal]], ...]
    date_at: tuple[tuple[int, frozenset[dt.date]], ...]
    label_text: str


def _union(spans: list[tuple[int, frozenset[Any]]]) -> frozenset[Any]:
    """All readings of `spans` (unpacking a list: twice as fast as a generator)."""
    return frozenset().union(*[found for _, found in spans])


_tuple_new = tuple.__new__


def _sentence_cuts(document: str) -> list[tuple[int, int]]:
    """The spans `_SENTENCE` cuts inside each line, from one scan of the whole document.

    A match whose whitespace crosses a line break is dropped: in a line on its own it would
    have met the line's end, not a capital. What remains are exactly the per-line matches.
    """
    return [cut.span(1) for cut in _SENTENCE.finditer(document)
            if cut.group(1).splitlines() == [cut.group(1)]]


@lru_cache(maxsize=256)
def segments(document: str) -> tuple[Segment, ...]:
    """Lines, and sentences of prose lines, with the numbers and dates each holds.

    Numbers and dates are found in one pass over the whole document and bucketed by offset,
    which is several times cheaper than scanning every segment on its own.
    """
    bounds: list[tuple[int, int, tuple[str, ...] | None]] = []
    offset = 0
    cuts = _sentence_cuts(document)
    c = 0
    for line in document.splitlines(keepends=True):
        end = offset + len(line)
        # Most lines hold no colon: skip the (backtracking) label pattern for them.
        label_match = _LABEL_LINE.match(line.rstrip("\r\n")) if ":" in line else None
        if label_match is None and "  " in line:
            label_match = _COLUMN_LINE.match(line.rstrip("\r\n"))
        # "Invoice #" names an invoice number.
        label = tuple(words(label_match.group(1).replace("#", " no "))) if label_match else None
        while c < len(cuts) and cuts[c][0] < offset:
            c += 1
        if label is not None:
            bounds.append((offset, end, label))
        else:
            start = offset
            while c < len(cuts) and cuts[c][1] <= end:
                bounds.append((start, cuts[c][0], None))
                start = cuts[c][1]
                c += 1
            bounds.append((start, end, None))
        offset = end
    starts = [b[0] for b in bounds]
    # Buckets by segment index, only for the segments that hold a number or a date.
    numbers: dict[int, list[tuple[int, frozenset[Decimal]]]] = {}
    dates: dict[int, list[tuple[int, frozenset[dt.date]]]] = {}
    for at, readings in number_spans(document):
        i = bisect.bisect_right(starts, at) - 1
        numbers.setdefault(i, []).append((at - starts[i], readings))
    for at, found in date_spans(document):
        i = bisect.bisect_right(starts, at) - 1
        dates.setdefault(i, []).append((at - starts[i], found))
    out: list[Segment] = []
    # A digit-for-letter swap lies inside one word, so a segment can only hold one if the
    # document's words do: one scan of the document instead of one per segment.
    ocr = _OCR_WORD.search(document_text(document)) is not None
    # For an ASCII document, every segment's `norm_text` is its slice of the document folded
    # once (the same length as the document), split and joined: no fold per segment.
    folded = ascii_folded(document) if document.isascii() else None
    for i, (start, end, label) in enumerate(bounds):
        part = document[start:end]
        if not part or part.isspace():  # `not part.strip()`, without the copy
            continue
        norm = (norm_text(part) if folded is None
                else " " + " ".join(folded[start:end].split()) + " ")
        text = norm
        if ocr and _OCR_WORD.search(norm):
            text = " " + " ".join(fold(w) for w in norm.split()) + " "
        nums, days = numbers.get(i), dates.get(i)
        # Most segments hold no number or date: skip building empty sets and sorting nothing
        # (and the NamedTuple's Python-level `__new__`: this runs for every line of every job).
        out.append(_tuple_new(Segment, (
            part, norm, text,
            _EMPTY if nums is None else nums[0][1] if len(nums) == 1 else _union(nums),
            _EMPTY if days is None else days[0][1] if len(days) == 1 else _union(days), label,
            () if nums is None else tuple(nums if len(nums) == 1 else sorted(nums, key=_first)),
            () if days is None else tuple(days if len(days) == 1 else sorted(days, key=_first)),
            " " + " ".join(label) + " " if label else "  ")))
    return tuple(out)


class Index(NamedTuple):
    """A document's segments with their texts joined, so one `str.find` scans all of them."""

    segs: tuple[Segment, ...]
    norm: str  # every segment's `norm`, joined by NUL
    norm_starts: list[int]
    scored: str  # the text `_score` reads (label text or words), joined by NUL
    scored_starts: list[int]
    # Which segments hold each number and date reading: a value's candidates are looked up,
    # not found by testing every segment that holds some number.
    by_number: dict[Decimal, list[int]]
    by_date: dict[dt.date, list[int]]


def _joined(parts: list[str]) -> tuple[str, list[int]]:
    starts, at = [], 0
    for part in parts:
        starts.append(at)
        at += len(part) + 1
    return "\0".join(parts), starts


@lru_cache(maxsize=256)
def document_index(document: str) -> Index:
    segs = segments(document)
    norm, norm_starts = _joined([seg.norm for seg in segs])
    scored, scored_starts = _joined([seg.label_text if seg.label else seg.text for seg in segs])
    by_number: dict[Decimal, list[int]] = {}
    by_date: dict[dt.date, list[int]] = {}
    for i, seg in enumerate(segs):
        for number in seg.numbers:
            by_number.setdefault(number, []).append(i)
        for date in seg.dates:
            by_date.setdefault(date, []).append(i)
    return Index(segs, norm, norm_starts, scored, scored_starts, by_number, by_date)


def holding(by_reading: dict[Any, list[int]], wanted: set[Any]) -> list[int]:
    """The segments, in order, that hold one of the `wanted` readings."""
    return sorted({i for reading in wanted for i in by_reading.get(reading, ())})


def found_in(joined: str, starts: list[int], probes: tuple[str, ...]) -> set[int]:
    """Indices of the segments whose text holds one of `probes`."""
    found: set[int] = set()
    last = len(starts) - 1
    for probe in probes:
        at = joined.find(probe)
        while at >= 0:
            i = bisect.bisect_right(starts, at) - 1
            found.add(i)
            if i == last:
                break
            at = joined.find(probe, starts[i + 1])  # the next segment: one hit is enough
    return found
