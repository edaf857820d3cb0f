"""Provenance: an extracted value comes from the part of the document that is about its field.

Grounding only proves a value is somewhere in the document. The commonest silent extraction error
is a real value from the wrong place: the due date for the invoice date, the previous balance or
the amount paid for the total, the bill-to name for the vendor, the PO number for the invoice
number, the courts' city for the governing law, a breach's cure period for the notice period.
Two rules catch those without knowing the format:

1. Qualified: every occurrence of the value is preceded, in its line or sentence, by a word that
   marks it as some other field ("previous", "paid", "due" for dates, "bill to", "courts") and
   that word is not part of the field's own name.
2. Out-labelled: another line or sentence names the field better (more of the field name's words)
   and holds a different value of the same kind (numbers and dates; for strings only "Label:
   value" lines).
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from validation.base import Finding
from validation.dates import date_readings, date_spans
from validation.normalize import document_text, norm_text, number_spans, value_readings

PROVENANCE = "provenance"

# Words that mark a value as belonging to something else, by the kind of value they qualify.
_QUALIFIERS = {
    "date": {"due", "expires", "expiry", "until", "signed", "supersedes", "superseded",
             "previous", "prior", "birth"},
    "number": {"previous", "prior", "paid", "balance", "change", "cash", "tendered", "deposit",
               "discount", "refund", "shipping", "points", "cure", "cured"},
    "text": {"bill", "billed", "ship", "shipped", "courts", "jurisdiction", "po", "previous",
             "prior", "buyer"},
}
_SYNONYMS = {"tax": {"vat", "gst"}, "vendor": {"seller", "supplier"}, "number": {"no", "nr"},
             "date": {"dated"}, "pay": {"paid", "payment"}, "paid": {"pay", "payment"}}
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-Z\"'(])")
_LABEL_LINE = re.compile(r"^\s*([^:|]{2,40}?)\s*:\s*(\S.*)$")
_OCR = str.maketrans({"0": "o", "5": "s", "1": "l"})
_OCR_WORD = re.compile(r"[a-z][015]|[015][a-z]")


def _first(item: tuple[int, Any]) -> int:
    return item[0]


@lru_cache(maxsize=16_384)
def _fold(word: str) -> str:
    """Undo OCR digit-for-letter swaps inside words ("5ubt0ta1" → "subtotal")."""
    if not any(c.isalpha() for c in word):
        return word
    return ("i" + word[1:] if word[0] == "1" else word).translate(_OCR)


def _words(text: str) -> list[str]:
    return [_fold(w) for w in norm_text(text).split()]


@lru_cache(maxsize=65_536)
def _match(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return (len(short) >= 3 and long.startswith(short)) or (
        len(short) >= 5 and short[:5] == long[:5])


class Segment(NamedTuple):
    """A line, or a sentence of a prose line (a tuple: built for every line of every job)."""

    raw: str
    norm: str
    text: str  # the words with OCR swaps undone, space-padded, for `_has`
    numbers: frozenset[Decimal]
    dates: frozenset[dt.date]
    label: tuple[str, ...] | None
    # Where in `raw` each number and date starts, with its readings.
    number_at: tuple[tuple[int, frozenset[Decimal]], ...]
    date_at: tuple[tuple[int, frozenset[dt.date]], ...]
    label_text: str


@lru_cache(maxsize=256)
def segments(document: str) -> tuple[Segment, ...]:
    """Lines, and sentences of prose lines, with the numbers and dates each holds.

    Numbers and dates are found in one pass over the whole document and bucketed by offset,
    which is several times cheaper than scanning every segment on its own.
    """
    bounds: list[tuple[int, int, tuple[str, ...] | None]] = []
    offset = 0
    for line in document.splitlines(keepends=True):
        # Most lines hold no colon: skip the (backtracking) label pattern for them.
        label_match = _LABEL_LINE.match(line.rstrip("\r\n")) if ":" in line else None
        label = tuple(_words(label_match.group(1))) if label_match else None
        if label is not None:
            bounds.append((offset, offset + len(line), label))
        else:
            start = 0
            for cut in _SENTENCE.finditer(line):
                bounds.append((offset + start, offset + cut.start(), None))
                start = cut.end()
            bounds.append((offset + start, offset + len(line), None))
        offset += len(line)
    starts = [b[0] for b in bounds]
    numbers: list[list[tuple[int, frozenset[Decimal]]]] = [[] for _ in bounds]
    dates: list[list[tuple[int, frozenset[dt.date]]]] = [[] for _ in bounds]
    for at, readings in number_spans(document):
        i = bisect.bisect_right(starts, at) - 1
        numbers[i].append((at - starts[i], readings))
    for at, found in date_spans(document):
        i = bisect.bisect_right(starts, at) - 1
        dates[i].append((at - starts[i], found))
    out: list[Segment] = []
    empty: frozenset[Any] = frozenset()
    for (start, end, label), nums, days in zip(bounds, numbers, dates, strict=True):
        part = document[start:end]
        if not part.strip():
            continue
        norm = norm_text(part)
        text = norm
        if _OCR_WORD.search(norm):
            text = " " + " ".join(_fold(w) for w in norm.split()) + " "
        # Most segments hold no number or date: skip building empty sets and sorting nothing.
        out.append(Segment(
            part, norm, text,
            frozenset(r for _, found in nums for r in found) if nums else empty,
            frozenset(d for _, found in days for d in found) if days else empty, label,
            tuple(sorted(nums, key=_first)) if len(nums) > 1 else tuple(nums),
            tuple(sorted(days, key=_first)) if len(days) > 1 else tuple(days),
            " " + " ".join(label) + " " if label else "  "))
    return tuple(out)


def field_words(name: str) -> set[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    words = {w for w in norm_text(spaced).split() if len(w) >= 2}
    return words | {s for w in words for s in _SYNONYMS.get(w, set())}


def _has(text: str, f: str) -> bool:
    """Whether some word of the space-padded `text` `_match`es `f` (substring tests only)."""
    n = len(f)
    return (f" {f} " in text or (n >= 5 and " " + f[:5] in text)
            or (3 <= n <= 4 and " " + f in text)
            or (n >= 4 and (f" {f[:3]} " in text or f" {f[:4]} " in text)))


def _has_probes(f: str) -> tuple[str, ...]:
    """The substrings `_has` looks for: one of them in a segment's text means a match."""
    n = len(f)
    probes = [f" {f} "]
    if n >= 5:
        probes.append(" " + f[:5])
    if 3 <= n <= 4:
        probes.append(" " + f)
    if n >= 4:
        probes += [f" {f[:3]} ", f" {f[:4]} "]
    return tuple(probes)


class _Index(NamedTuple):
    """A document's segments with their texts joined, so one `str.find` scans all of them."""

    segs: tuple[Segment, ...]
    norm: str  # every segment's `norm`, joined by NUL
    norm_starts: list[int]
    scored: str  # the text `_score` reads (label text or words), joined by NUL
    scored_starts: list[int]
    with_numbers: tuple[int, ...]  # segments that hold a number
    with_dates: tuple[int, ...]


def _joined(parts: list[str]) -> tuple[str, list[int]]:
    starts, at = [], 0
    for part in parts:
        starts.append(at)
        at += len(part) + 1
    return "\0".join(parts), starts


@lru_cache(maxsize=256)
def document_index(document: str) -> _Index:
    segs = segments(document)
    norm, norm_starts = _joined([seg.norm for seg in segs])
    scored, scored_starts = _joined([seg.label_text if seg.label else seg.text for seg in segs])
    return _Index(segs, norm, norm_starts, scored, scored_starts,
                  tuple(i for i, seg in enumerate(segs) if seg.numbers),
                  tuple(i for i, seg in enumerate(segs) if seg.dates))


def _found_in(joined: str, starts: list[int], probes: tuple[str, ...]) -> set[int]:
    """Indices of the segments whose text holds one of `probes`."""
    found: set[int] = set()
    for probe in probes:
        at = joined.find(probe)
        while at >= 0:
            found.add(bisect.bisect_right(starts, at) - 1)
            at = joined.find(probe, at + 1)
    return found


def _scores(index: _Index, field: set[str]) -> list[int]:
    """`_score` of every segment, from one scan of the joined text per field word."""
    scores = [0] * len(index.segs)
    for f in field:
        for i in _found_in(index.scored, index.scored_starts, _has_probes(f)):
            scores[i] += 1
    return scores


def _kind(value: Any) -> str:
    if isinstance(value, int | float):
        return "number"
    if date_readings(value):
        return "date"
    return "number" if value_readings(value) else "text"


def _wanted(value: Any, kind: str) -> Any:
    if kind == "text":
        return norm_text(str(value))
    return date_readings(value) if kind == "date" else value_readings(value)


def _preceding(seg: Segment, wanted: Any, kind: str) -> list[list[str]] | None:
    """Words before each occurrence of the `wanted` value in `seg`, or None if it is absent."""
    if kind == "text":
        if wanted not in seg.norm:
            return None
        text = seg.norm
        spots, at = [], text.find(wanted)
        while at >= 0:  # a literal scan: a regex per value would be compiled for every job
            spots.append(at)
            at = text.find(wanted, at + len(wanted))
        return [[_fold(w) for w in text[:i].split()] for i in spots] or None
    found = seg.dates if kind == "date" else seg.numbers
    if not wanted & found:
        return None
    spans: tuple[tuple[int, frozenset[Any]], ...] = (
        seg.date_at if kind == "date" else seg.number_at)
    return [_words(seg.raw[:at]) for at, readings in spans if wanted & readings] or None


def _lead(seg: Segment, kind: str) -> list[str]:
    """Words before the first value of `kind` in `seg`."""
    spans: tuple[tuple[int, frozenset[Any]], ...] = (
        seg.date_at if kind == "date" else seg.number_at)
    return _words(seg.raw[:spans[0][0]]) if spans else seg.text.split()


def _qualified(before: list[str], kind: str, field: set[str]) -> str | None:
    for word in reversed(before[-8:]):
        if word in _QUALIFIERS[kind] and not any(_match(word, f) for f in field):
            return word
    return None


def check_value(name: str, value: Any, document: str, *, rule2: bool = True) -> str | None:
    """Why `value` looks taken from the wrong place for field `name`, or None.

    `name` may also be a question, for a value quoted in an answer; `rule2` off then, since a
    question's words do not label one place in the document the way a field name does.
    """
    field = field_words(name)
    kind = _kind(value)
    wanted = _wanted(value, kind)
    if not wanted:
        return None
    if kind == "text" and (not wanted.strip() or wanted not in document_text(document)):
        return None
    index = document_index(document)
    segs = index.segs
    # Only the segments that can hold the value are read: for text, where its words are.
    candidates: Iterable[int]
    if kind == "text":
        candidates = sorted(_found_in(index.norm, index.norm_starts, (wanted,)))
    else:
        candidates = index.with_dates if kind == "date" else index.with_numbers
    hits = [(i, spots) for i in candidates
            if (spots := _preceding(segs[i], wanted, kind)) is not None]
    if not hits or not field:
        return None
    clean = [i for i, spots in hits if any(_qualified(b, kind, field) is None for b in spots)]
    if not clean:
        i, spots = hits[0]
        return (f"only given as {_qualified(spots[0], kind, field)!r}: "
                f"{segs[i].raw.strip()[:60]!r}")
    if not rule2:
        return None
    scores = _scores(index, field)
    own = max(scores[i] for i in clean)
    seen = {i for i, _ in hits}
    for i, (seg, score) in enumerate(zip(segs, scores, strict=True)):
        if score <= own or i in seen:
            continue
        if kind == "text" and seg.label is None:
            continue
        if (kind == "number" and not seg.numbers) or (kind == "date" and not seg.dates):
            continue
        if _qualified(_lead(seg, kind), kind, field) is None:
            return f"the document gives {name!r} in {seg.raw.strip()[:60]!r}"
    return None


def check_order(name: str, items: list[Any], document: str) -> str | None:
    """A list of names is given in document order (parties, line items), if all are found."""
    text = document_text(document)
    spots = [text.find(norm_text(i)) for i in items if isinstance(i, str) and norm_text(i).strip()]
    if len(spots) < 2 or -1 in spots or spots == sorted(spots):
        return None
    return "items are not in the order the document gives them"


def check_provenance(fields: list[tuple[str, Any]], document: str) -> Finding:
    """Rules 1 and 2 over (field name, value) pairs of extracted scalars; lists keep doc order."""
    problems = []
    for name, value in fields:
        if isinstance(value, list):
            problem = check_order(name, value, document)
        else:
            problem = check_value(name, value, document)
        if problem:
            problems.append(f"{name}={str(value)[:30]!r}: {problem}")
    if problems:
        return Finding(PROVENANCE, False, "; ".join(problems[:3]))
    return Finding(PROVENANCE, True, f"{len(fields)} values come from their fields' places")
