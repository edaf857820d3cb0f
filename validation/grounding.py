"""Grounding: every value the model extracted can be found in the document it read.

Short values (names, ids, amounts, dates, clause references) must appear in the document after
normalising case, punctuation, number formats and date formats. Free text (summaries, answers,
long string fields) cannot be matched verbatim, so two weaker checks stand in: the specifics it
mentions (numbers, dates, capitalised names) must be in the document, and most of its content words
must be too.

Numbers are never accepted as sums of document numbers: among a page of amounts almost any
invented value is the sum of some pair, so allowing it would let hallucinated totals through. A
total the document does not state is checked by the consistency check instead.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tierline.validation.base import Finding
from tierline.validation.dates import MONTHS, date_readings, document_dates, find_dates
from tierline.validation.durations import duration_of, duration_stated
from tierline.validation.names import name_found
from tierline.validation.normalize import (
    document_lower,
    document_numbers,
    document_squashed,
    document_text,
    document_tokens,
    document_words,
    norm_text,
    number_readings,
    numbers_in,
    table_row_counts,
    value_readings,
)

GROUNDING = "grounding"
FREE_TEXT = "grounding_free_text"
COVERAGE = "grounding_coverage"

_FREE_TEXT_WORDS = 9
_MAX_DEPTH = 40
_CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]{2,}\b")
_WORD = re.compile(r"[^\W\d_]{4,}")
# Ids and codes inside prose: letters and digits in one token ("A-75400", "Q3", "INV/22").
_ID_TOKEN = re.compile(r"(?<![\w/-])(?=[\w/-]*\d)(?=[\w/-]*[A-Za-z])\w[\w/-]*\w(?![\w/-])")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)", re.IGNORECASE)
_COMMON_WORDS = (
    "the this that these those there their they them then than what when where which while with "
    "within without from into onto upon about above after again against before below between both "
    "during each further have having here itself more most other over same some such only under "
    "until very were been being does doing also because could would should shall will must might "
    "document states state stated says said mentions mentioned according text summary answer "
    "provided provides given gives note notes describes described total amount date dates "
    "monday tuesday wednesday thursday friday saturday sunday"
)
_COMMON = frozenset(_COMMON_WORDS.split())


def _leaf_schema(schema: Any, path: tuple[str | int, ...]) -> dict[str, Any]:
    node: Any = schema
    for step in path:
        if not isinstance(node, dict):
            return {}
        if isinstance(step, int):
            node = node.get("items", {})
        else:
            props = node.get("properties", {})
            node = props.get(step, {}) if isinstance(props, dict) else {}
    return node if isinstance(node, dict) else {}


Path = tuple[str | int, ...]


def _leaves(value: Any, path: Path = ()) -> list[tuple[Path, Any]]:
    if len(path) > _MAX_DEPTH:
        return []
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, str(k)))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _number_found(readings: set[Decimal], document: str) -> bool:
    doc = document_numbers(document)
    if readings & doc:
        return True
    # "15%" in the document may come back as 0.15.
    return "%" in document and any(r * 100 in doc for r in readings)


_COUNT_NAME = re.compile(r"count|number_of|num_|items|lines|rows|entries", re.IGNORECASE)
_ID_LIKE = re.compile(r"(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[\w/.#-]+")
_CURRENCIES = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "CHF": "CHF"}
_SYMBOLS = {v: k for k, v in _CURRENCIES.items()}
_CLAUSE = re.compile(r"(?:section|clause|article|art\.|sec\.|§|paragraph|para\.)\s*"
                     r"(\d+(?:\.\d+)*)\s*(?:\(?[a-z]\))?\.?", re.IGNORECASE)


def _currency_found(value: str, document: str) -> bool | None:
    code = _SYMBOLS.get(value.strip(), value.strip().upper())
    if code not in _CURRENCIES:
        return None
    return code.casefold() in document_words(document) or _CURRENCIES[code] in document


def _clause_found(value: str, document: str) -> bool | None:
    match = _CLAUSE.fullmatch(value.strip())
    if match is None:
        return None
    # Documents number clauses "4.2 ..." without the word "Section". A literal scan with the
    # boundaries checked here: a regex built per value would be compiled for every job.
    number = match.group(1)
    at = document.find(number)
    while at >= 0:
        end = at + len(number)
        before = document[at - 1] if at else ""
        after, next_ = document[end:end + 1], document[end + 1:end + 2]
        if not (before.isdecimal() or before == ".") and not after.isdecimal() and not (
                after == "." and next_.isdecimal()):
            return True
        at = document.find(number, at + 1)
    return False


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _id_found(value: str, document: str) -> bool:
    """`value` occurs as a whole id, case-insensitively: not inside a longer id or word."""
    lowered = document_lower(document)
    if not value.isascii() or len(lowered) != len(document):
        token = rf"(?<![\w/-]){re.escape(value)}(?![\w]|[-/.]\w)"
        return re.search(token, document, re.IGNORECASE) is not None
    wanted = value.lower()
    at = lowered.find(wanted)
    while at >= 0:
        end = at + len(wanted)
        before = document[at - 1] if at else ""
        after, next_ = document[end:end + 1], document[end + 1:end + 2]
        if not (before and (_is_word(before) or before in "/-")) and not (
                after and _is_word(after)) and not (after in "-/." and after and next_
                                                    and _is_word(next_)):
            return True
        at = lowered.find(wanted, at + 1)
    return False


def exact_value_found(value: str | int | float, document: str) -> bool:
    """A short value appears in the document, up to case, punctuation, number and date format."""
    if isinstance(value, int | float):
        return _number_found(value_readings(value), document)
    duration = duration_of(value)
    if duration is not None:
        # "4 years" is not grounded by a "4" in one clause and "years" in another.
        return duration_stated(duration, document)
    norm = norm_text(value)
    if _ID_LIKE.fullmatch(value.strip()):
        # An id must match a whole id: "INV-2024" is not "INV-2024-5046".
        if _id_found(value.strip(), document):
            return True
        return bool(date_readings(value) & document_dates(document))
    if not norm.strip() or norm in document_text(document):
        return True
    for special in (_currency_found, _clause_found):
        found = special(value, document)
        if found is not None:
            return found
    dates = date_readings(value)
    if dates:
        return bool(dates & document_dates(document))
    numbers = value_readings(value)
    words = norm.split()
    if numbers:
        other = [w for w in words if not w.isdigit()]
        return _number_found(numbers, document) and set(other) <= document_words(document)
    # Same words in another order ("Smith, John") still name the same thing, if they stand
    # together: words scattered over the document ("Lotus" here, "Pharmaceuticals" there) do not.
    if len(words) <= 6 and set(words) <= document_words(document) and _together(
            set(words), document):
        return True
    return name_found(value, document) or _squashed_found(value, document)


def _together(words: set[str], document: str) -> bool:
    """Whether the document has `words` side by side, in some order ("Smith John")."""
    tokens = document_tokens(document)
    size = len(words)
    first = [i for i, token in enumerate(tokens) if token in words]
    return any(set(tokens[i:i + size]) == words for i in first)


_SQUASH_MIN = 8  # shorter names could meet by chance once every space is gone


def _squashed_found(value: str, document: str) -> bool:
    """Whether `value` occurs once spaces and punctuation are gone from both: OCR that split a
    name letter by letter ("Scho\nl\narRockLLC") still names it."""
    wanted = "".join(norm_text(value).split())
    return len(wanted) >= _SQUASH_MIN and wanted in document_squashed(document)


def unfound_specifics(text: str, document: str) -> tuple[list[str], list[str]]:
    """Numbers and dates, then capitalised names, in free `text` that the document lacks."""
    values: list[str] = []
    doc_dates = document_dates(document)
    date_parts: set[str] = set()
    # In date order: a set of dates iterates in an order that changes from process to process
    # (dates hash with the interpreter's per-process seed), and so would the message.
    for d in sorted(find_dates(text)):
        date_parts |= {str(d.year), str(d.day), f"{d.day:02d}", str(d.month), f"{d.month:02d}"}
        if d not in doc_dates:
            values.append(d.isoformat())
    for token in numbers_in(text):
        readings = number_readings(token)
        if token.lstrip("-") in date_parts:
            continue
        if not readings:  # "26.15.2024": neither a number nor a valid date
            if token.lstrip("-") not in document:
                values.append(token)
            continue
        # Small counts ("2 parties") are often inferred rather than quoted.
        if all(r == r.to_integral_value() and 0 <= r <= 10 for r in readings):
            continue
        if not _number_found(readings, document):
            values.append(token)
    for token in _ID_TOKEN.findall(text):
        if not _ORDINAL.fullmatch(token) and not exact_value_found(token, document):
            values.append(token)
    names: list[str] = []
    words = document_words(document)
    for name in _CAPITALISED.findall(text):
        folded = name.casefold()
        if folded not in words and folded not in _COMMON and folded not in MONTHS:
            names.append(name)
    return values, names


def coverage(text: str, document: str) -> float:
    """Share of `text`'s content words whose stem occurs in the document."""
    content = [w.casefold() for w in _WORD.findall(text) if w.casefold() not in _COMMON]
    if not content:
        return 1.0
    stems = {w[:5] for w in document_words(document)}
    return sum(w[:5] in stems for w in content) / len(content)


def check_free_text(text: str, document: str, *, where: str = "", strict_names: bool = True,
                    strict_coverage: bool = False, min_coverage: float = 0.6) -> list[Finding]:
    """Grounding of prose: invented numbers and dates (always strict), invented names, and
    overall word coverage (strict as asked)."""
    at = f" at {where}" if where else ""
    values, names = unfound_specifics(text, document)
    findings = [
        Finding(GROUNDING, not values, f"not in document{at}: {', '.join(values[:5])}" if values
                else f"numbers and dates found in document{at}"),
        Finding(FREE_TEXT, not names, f"names not in document{at}: {', '.join(names[:5])}"
                if names else f"names found in document{at}", strict=strict_names),
    ]
    share = coverage(text, document)
    findings.append(Finding(COVERAGE, share >= min_coverage,
                            f"{share:.0%} of content words found in document{at}",
                            strict=strict_coverage))
    return findings


def _options_named(options: Any, document: str) -> list[str]:
    if not isinstance(options, list):
        return []
    text = document_text(document)
    return [o for o in options if isinstance(o, str) and norm_text(o).strip()
            and norm_text(o) in text]


def check_grounding(value: Any, document: str, schema: dict[str, Any] | None = None, *,
                    strict_free_text: bool = True, strict_coverage: bool = False) -> list[Finding]:
    """Every extracted leaf value is in `document`; nulls, booleans and enum values are skipped."""
    missing: list[str] = []
    checked = 0
    findings: list[Finding] = []
    for path, leaf in _leaves(value):
        if leaf is None or isinstance(leaf, bool) or not isinstance(leaf, str | int | float):
            continue
        where = "/" + "/".join(str(p) for p in path)
        leaf_schema = _leaf_schema(schema, path)
        if "enum" in leaf_schema or "const" in leaf_schema:
            # A category chosen from the schema, not copied; but if the document names exactly
            # one of the options, that is the one it means.
            named = _options_named(leaf_schema.get("enum", []), document)
            if isinstance(leaf, str) and len(named) == 1 and norm_text(leaf) != norm_text(named[0]):
                missing.append(f"{where}={leaf[:40]!r} (document names {named[0]!r})")
            continue
        if isinstance(leaf, str) and len(leaf.split()) >= _FREE_TEXT_WORDS:
            findings += check_free_text(leaf, document, where=where,
                                        strict_names=strict_free_text,
                                        strict_coverage=strict_coverage)
            continue
        checked += 1
        if isinstance(leaf, int) and leaf_schema.get("type") == "integer" and (
                _COUNT_NAME.search(str(path[-1])) and table_row_counts(document)):
            # A count of table rows ("line_items") is computed, not copied: it must be one.
            if leaf not in table_row_counts(document):
                missing.append(f"{where}={leaf} (the document's tables have "
                               f"{', '.join(map(str, sorted(table_row_counts(document))))} rows)")
            continue
        if not exact_value_found(leaf, document):
            missing.append(f"{where}={str(leaf)[:40]!r}")
    if missing:
        message = "not in document: " + "; ".join(missing[:5])
        message += f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""
    else:
        message = f"{checked} values found in document"
    return [Finding(GROUNDING, not missing, message), *findings]


def extracted_fields(value: Any, schema: dict[str, Any] | None = None,
                     document: str = "") -> list[tuple[str, Any]]:
    """(field name, value) for short extracted scalars, and for lists of strings, by name."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list) and all(isinstance(i, str) for i in item):
                out.append((str(key), item))
    for path, leaf in _leaves(value):
        names = [p for p in path if isinstance(p, str)]
        if not names or leaf is None or isinstance(leaf, bool):
            continue
        leaf_schema = _leaf_schema(schema, path)
        if "enum" in leaf_schema or "const" in leaf_schema:
            continue  # categories have no place in the document
        if isinstance(leaf, int) and leaf in table_row_counts(document):
            continue  # a count of rows, not a value copied from one place
        if isinstance(leaf, str | int | float) and len(str(leaf).split()) < _FREE_TEXT_WORDS:
            out.append((names[-1], leaf))
    return out


def quoted_values(text: str) -> list[str]:
    """The ids, amounts and dates an answer states, as strings `provenance.check_value` reads."""
    values = [d.isoformat() for d in find_dates(text)]
    values += [t for t in _ID_TOKEN.findall(text) if not _ORDINAL.fullmatch(t)]
    date_parts = {p for v in values[: len(values)] for p in v.split("-")}
    for token in numbers_in(text):
        readings = number_readings(token)
        if readings and token not in date_parts and not all(
                r == r.to_integral_value() and 0 <= r <= 31 for r in readings):
            values.append(token)
    return values
