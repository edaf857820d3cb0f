"""Provenance: an extracted value comes from the part of the document that is about its field.

Grounding only proves a value is somewhere in the document. The commonest silent extraction error
is a real value from the wrong place: the due date for the invoice date, the previous balance or
the amount paid for the total, the bill-to name for the vendor, the PO number for the invoice
number, the courts' city for the governing law, a breach's cure period for the notice period.
Two rules look for those without knowing the format, and they are not equally sure:

1. Qualified (strict): every occurrence of the value is preceded, in its line or sentence, by a
   word that marks it as some other field ("previous", "paid", "due" for dates, "bill to",
   "courts"), or an amount is followed by one ("£9.90 was shipping"), and that word is not part
   of the field's own name.
2. Out-labelled (recorded): another line or sentence names the field better (more of the field
   name's words) and holds a different number or date. On real agreements this fires on right
   answers as often as on wrong ones (a clause headed "Term." names a term field better than the
   sentence stating it), so it is evidence to record, not to escalate on. It is strict only when
   decisive: the better place is a "Label: value" line naming every word of the field ("Invoice
   number: ..."), or, for a field of three words or more, a sentence naming them all while the
   value's own places name at most one: only that form is specific enough not to flag right
   answers.

The order of a list's items is recorded too, never strict: agreements list their parties in
whatever order suits them, and a model listing them otherwise is not wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from tierline.validation.base import Finding
from tierline.validation.dates import date_readings
from tierline.validation.doc_index import Index, Segment, fold, found_in, holding, words
from tierline.validation.doc_index import (
    document_index as document_index,  # re-exported: bench/ clears it
)
from tierline.validation.doc_index import (
    segments as segments,  # re-exported: bench/ clears its cache
)
from tierline.validation.normalize import document_text, norm_text, value_readings

PROVENANCE = "provenance"
PROVENANCE_LABEL = "provenance_label"
ITEM_ORDER = "item_order"

# Words that mark a value as belonging to something else, by the kind of value they qualify.
_QUALIFIERS = {
    "date": {"due", "expires", "expiry", "until", "signed", "supersedes", "superseded",
             "previous", "prior", "birth"},
    "number": {"previous", "prior", "paid", "balance", "change", "cash", "tendered", "deposit",
               "discount", "refund", "shipping", "points", "cure", "cured"},
    "text": {"bill", "billed", "ship", "shipped", "courts", "jurisdiction", "po", "previous",
             "prior"},
}
# Said after an amount: "paid £54.35, of which £9.90 was shipping", "€5.00 change".
_AFTER_QUALIFIERS = frozenset({"shipping", "postage", "delivery", "deposit", "discount",
                               "refund", "change", "tip"})
_AFTER = "\0"  # separates the words before a value from the words after it
_NUMBER_HEAD = re.compile(r"^[\d.,'’\s\u00a0\u202f\u2009]*")
_NEXT_DIGIT = re.compile(r"\d")
_SYNONYMS = {"tax": {"vat", "gst", "tva", "mwst", "ust"}, "vendor": {"seller", "supplier"},
             "number": {"no", "nr"}, "date": {"dated", "datum"}, "pay": {"paid", "payment"},
             "paid": {"pay", "payment"},
             # French and German labels of invoices.
             "due": {"echeance", "fallig", "zahlbar"}, "invoice": {"facture", "rechnung"},
             "total": {"ttc", "gesamt", "gesamtbetrag", "summe"}}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


@lru_cache(maxsize=65_536)
def _match(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return (len(short) >= 3 and long.startswith(short)) or (
        len(short) >= 5 and short[:5] == long[:5])


@lru_cache(maxsize=1024)  # keyed by a schema's field names (or a question): few and repeated
def field_groups(name: str) -> tuple[frozenset[str], ...]:
    """Each word of a field's name with its synonyms: a place names the field once per group."""
    spaced = _CAMEL.sub(" ", name)
    words = sorted({w for w in norm_text(spaced).split() if len(w) >= 2})
    return tuple(frozenset({w, *_SYNONYMS.get(w, set())}) for w in words)


@lru_cache(maxsize=1024)
def field_words(name: str) -> frozenset[str]:
    return frozenset().union(*field_groups(name))


def _has(text: str, f: str) -> bool:
    """Whether some word of the space-padded `text` `_match`es `f` (substring tests only)."""
    n = len(f)
    return (f" {f} " in text or (n >= 5 and " " + f[:5] in text)
            or (3 <= n <= 4 and " " + f in text)
            or (n >= 4 and (f" {f[:3]} " in text or f" {f[:4]} " in text)))


@lru_cache(maxsize=4096)
def _has_probes(f: str) -> tuple[str, ...]:
    """The substrings `_has` looks for: one of them in a segment's text means a match.

    Only the probes whose hits are not a subset of another's: " date" is found wherever
    " date " is, so looking for both would only scan the text twice.
    """
    n = len(f)
    if n < 3:
        return (f" {f} ",)
    if n == 3:
        return (" " + f,)
    if n == 4:
        return (" " + f, f" {f[:3]} ")
    return (" " + f[:5], f" {f[:3]} ", f" {f[:4]} ")


# Words of a field's name that only say what kind of value it is: every date line names "date",
# so "due_date" is told apart from the other dates by "due" alone.
_KIND_WORDS = {"date": frozenset({"date", "dated", "day"}),
               "number": frozenset({"amount", "number", "no", "nr", "num", "value", "sum"})}


def _telling(groups: tuple[frozenset[str], ...], kind: str) -> tuple[frozenset[str], ...]:
    """The groups that tell the field apart from other values of its kind (all, if none do)."""
    kind_words = _KIND_WORDS.get(kind, frozenset())
    telling = tuple(g for g in groups if not g & kind_words)
    return telling or groups


def _scores(index: Index, groups: tuple[frozenset[str], ...]) -> list[int]:
    """How many of the field's words (a synonym counting as its word) each segment names."""
    scores = [0] * len(index.segs)
    for group in groups:
        named: set[int] = set()
        for f in group:
            named |= found_in(index.scored, index.scored_starts, _has_probes(f))
        for i in named:
            scores[i] += 1
    return scores


def _kind_wanted(value: Any) -> tuple[str, Any]:
    """The kind of `value` ("number", "date" or "text") and what to look for in a segment."""
    if isinstance(value, int | float):
        return "number", value_readings(value)
    dates = date_readings(value)
    if dates:
        return "date", dates
    numbers = value_readings(value)
    return ("number", numbers) if numbers else ("text", norm_text(str(value)))


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
        return [[fold(w) for w in text[:i].split()] for i in spots] or None
    found = seg.dates if kind == "date" else seg.numbers
    if not wanted & found:
        return None
    spans: tuple[tuple[int, frozenset[Any]], ...] = (
        seg.date_at if kind == "date" else seg.number_at)
    return [[*words(seg.raw[:at]), _AFTER, *_following(seg.raw, at)]
            for at, readings in spans if wanted & readings] or None


def _following(raw: str, at: int) -> list[str]:
    """The few words after the number that starts at `at`, up to the next number."""
    rest = _NUMBER_HEAD.sub("", raw[at:], count=1)
    cut = _NEXT_DIGIT.search(rest)
    return words(rest[:cut.start()] if cut else rest)[:3]


def _lead(seg: Segment, kind: str) -> list[str]:
    """Words before the first value of `kind` in `seg`."""
    spans: tuple[tuple[int, frozenset[Any]], ...] = (
        seg.date_at if kind == "date" else seg.number_at)
    return words(seg.raw[:spans[0][0]]) if spans else seg.text.split()


def _qualified(spot: list[str], kind: str, field: frozenset[str]) -> str | None:
    """The word around a value that marks it as another field's, if any."""
    before, after = spot, []
    if _AFTER in spot:
        at = spot.index(_AFTER)
        before, after = spot[:at], spot[at + 1:]
    for word in after:
        if word in _AFTER_QUALIFIERS and not any(_match(word, f) for f in field):
            return word
    return _qualified_before(before, kind, field)


def _qualified_before(before: list[str], kind: str, field: frozenset[str]) -> str | None:
    for word in reversed(before[-8:]):
        if word in _QUALIFIERS[kind] and not any(_match(word, f) for f in field):
            return word
    return None


def check_value(name: str, value: Any, document: str, *, rule2: bool = True) -> str | None:
    """Why `value` looks taken from the wrong place for field `name`, or None."""
    rule1, rule2_evidence, _ = value_evidence(name, value, document, rule2=rule2)
    return rule1 or rule2_evidence


def value_evidence(name: str, value: Any, document: str, *,
                   rule2: bool = True) -> tuple[str | None, str | None, bool]:
    """(rule 1's evidence, rule 2's evidence, whether rule 2's is a fully labelled line).

    `name` may also be a question, for a value quoted in an answer; `rule2` off then, since a
    question's words do not label one place in the document the way a field name does.
    """
    none: tuple[str | None, str | None, bool] = (None, None, False)
    field = field_words(name)
    kind, wanted = _kind_wanted(value)
    if not wanted:
        return none
    if kind == "text" and (not wanted.strip() or wanted not in document_text(document)):
        return none
    index = document_index(document)
    segs = index.segs
    # Only the segments that can hold the value are read: for text, where its words are.
    candidates: Iterable[int]
    if kind == "text":
        candidates = sorted(found_in(index.norm, index.norm_starts, (wanted,)))
    else:
        candidates = holding(index.by_date if kind == "date" else index.by_number, wanted)
    hits = [(i, spots) for i in candidates
            if (spots := _preceding(segs[i], wanted, kind)) is not None]
    if not hits or not field:
        return none
    clean = [i for i, spots in hits if any(_qualified(b, kind, field) is None for b in spots)]
    if not clean:
        i, spots = hits[0]
        return (f"every place the document gives this value calls it something else "
                f"({_qualified(spots[0], kind, field)!r}): {segs[i].raw.strip()[:60]!r}",
                None, False)
    if not rule2:
        return none
    groups = _telling(field_groups(name), kind)
    scores = _scores(index, groups)
    own = max(scores[i] for i in clean)
    seen = {i for i, _ in hits}
    # The places that name the field best first: their evidence is the strongest.
    for i in sorted((i for i, score in enumerate(scores) if score > own),
                    key=lambda i: -scores[i]):
        seg = segs[i]
        if i in seen:
            continue
        if kind == "text" and seg.label is None:
            continue
        if (kind == "number" and not seg.numbers) or (kind == "date" and not seg.dates):
            continue
        if _qualified(_lead(seg, kind), kind, field) is None:
            # Decisive: a "Label: value" line naming every word of the field, or, for a field
            # of three words or more, a place naming them all while the value's own places
            # name at most one ("days" alone, against "terminate ... days' ... notice").
            labelled = kind != "text" and scores[i] == len(groups) and (
                seg.label is not None or (len(groups) >= 2 and own <= len(groups) - 2))
            return (None, f"a place naming the field more closely holds another value: "
                    f"{seg.raw.strip()[:60]!r}", labelled)
    return none


def check_order(name: str, items: list[Any], document: str) -> str | None:
    """A list of names is given in document order (parties, line items), if all are found."""
    text = document_text(document)
    spots = [text.find(norm_text(i)) for i in items if isinstance(i, str) and norm_text(i).strip()]
    if len(spots) < 2 or -1 in spots or spots == sorted(spots):
        return None
    return "items are not in the order the document first names them"


def check_provenance(fields: list[tuple[str, Any]], document: str, *,
                     strict_labels: bool = True) -> list[Finding]:
    """Rule 1 (strict), rule 2 (recorded; strict on a labelled line if `strict_labels`) and list
    order (recorded) over (field name, value) pairs of extracted values."""
    strict: list[str] = []
    labelled: list[str] = []
    weak: list[str] = []
    order: list[str] = []
    for name, value in fields:
        shown = f"{name}={str(value)[:30]!r}"
        if isinstance(value, list):
            problem = check_order(name, value, document)
            if problem:
                order.append(f"{shown}: {problem}")
            continue
        rule1, rule2, on_label = value_evidence(name, value, document)
        if rule1:
            strict.append(f"{shown}: {rule1}")
        elif rule2 and on_label and strict_labels:
            labelled.append(f"{shown}: {rule2}")
        elif rule2:
            weak.append(f"{shown}: {rule2}")
    scalars = sum(not isinstance(v, list) for _, v in fields)
    findings = [Finding(PROVENANCE, not strict, "; ".join(strict[:3]) if strict
                        else f"{scalars} values are not only given as other fields")]
    if labelled or weak:
        findings.append(Finding(PROVENANCE_LABEL, False, "; ".join((labelled + weak)[:3]),
                                strict=bool(labelled)))
    if order:
        findings.append(Finding(ITEM_ORDER, False, "; ".join(order[:3]), strict=False))
    return findings
