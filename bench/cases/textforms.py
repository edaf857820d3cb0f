"""Where a normalised value (a party's name, an ISO date, "3 years") is written in a document,
and how the document writes it.

Annotators normalise: "Nike Inc." for "NIKE, Inc.", "2009-04-30" for "the 30th day of April,
2009", "3 years" for "three (3) years". A model that answers from the text writes the text's
form, so the cases need it. Every finder returns spans of the document (start, end) so that a
caller can tell an upper-case form or one broken over a line.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_MONTH_ALT = "|".join([*MONTHS, "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept", "sep",
                       "oct", "nov", "dec"])
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                "seventeen", "eighteen", "nineteen", "twenty")
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}
# Company suffixes the annotators sometimes spelled out and sometimes shortened.
_SUFFIX = {"incorporated": "inc", "corporation": "corp", "company": "co", "limited": "ltd"}
_ABBREVIATIONS = {"inc", "corp", "co", "ltd", "jr", "sr", "no", "bros", "intl"}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str  # the document's characters, as printed

    @property
    def answer(self) -> str:
        """What a model copying this span writes: one line, spaces collapsed."""
        joined = re.sub(r"-[ \t]*\n\s*", "-", self.text)
        joined = re.sub(r"\s+", " ", joined).strip()
        return re.sub(r" ([.,])", r"\1", joined)

    @property
    def broken_over_lines(self) -> bool:
        return "\n" in self.text

    @property
    def upper_case(self) -> bool:
        letters = [c for c in self.text if c.isalpha()]
        return len(letters) >= 3 and all(c.isupper() for c in letters)


# --- names -------------------------------------------------------------------------------------

_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f¢]+|&")


@dataclass(frozen=True)
class _Token:
    norm: str
    start: int
    end: int
    merged: bool = False


@functools.lru_cache(maxsize=64)
def tokens(text: str) -> list[_Token]:
    """Lower-case words with their spans; "&" reads "and", spelled-out suffixes are shortened,
    and runs of single letters ("L.P.", "U.S .", "R. J.") become one token ("lp", "us", "rj")."""
    raw = [_Token(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
    out: list[_Token] = []
    for tok in raw:
        norm = "and" if tok.norm == "&" else _SUFFIX.get(tok.norm, tok.norm)
        prev = out[-1] if out else None
        if (prev is not None and len(norm) == 1 and norm.isalpha()
                and (prev.merged or len(prev.norm) == 1) and prev.norm.isalpha()
                and re.fullmatch(r"[.\s]{0,3}", text[prev.end:tok.start])):
            out[-1] = _Token(prev.norm + norm, prev.start, tok.end, merged=True)
            continue
        out.append(_Token(norm, tok.start, tok.end))
    return out


def _one_edit_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def same_word(a: str, b: str) -> bool:
    """Equal, or the same word in another inflection or with one slip ("technology" and
    "technologies", the annotators' "industuries" and the text's "industries")."""
    if a == b:
        return True
    shortest = min(len(a), len(b))
    if shortest >= 6 and a[:shortest - 2] == b[:shortest - 2]:
        return True
    return shortest >= 6 and _one_edit_apart(a, b)


def find_name(document: str, name: str) -> list[Span]:
    """Every place the document prints `name`, word for word up to case, punctuation, line
    breaks and spelled-out suffixes."""
    want = [t.norm for t in tokens(name)]
    if not want:
        return []
    doc = tokens(document)
    spans: list[Span] = []
    for i in range(len(doc) - len(want) + 1):
        if all(same_word(doc[i + k].norm, w) for k, w in enumerate(want)):
            last = doc[i + len(want) - 1]
            end = last.end
            if (end < len(document) and document[end] == "."
                    and (last.merged or last.norm in _ABBREVIATIONS)):
                end += 1
            start = doc[i].start
            spans.append(Span(start, end, document[start:end]))
    return spans


@functools.lru_cache(maxsize=8)
def _word_set(document: str) -> frozenset[str]:
    return frozenset(t.norm for t in tokens(document))


def mentions_words(document: str, name: str) -> bool:
    """Whether the document prints the name's distinctive words anywhere (any order)."""
    doc_words = _word_set(document)
    words = [t.norm for t in tokens(name) if len(t.norm) > 3 and t.norm not in _ABBREVIATIONS]
    return any(any(same_word(w, d) for d in doc_words) for w in words)


# --- dates -------------------------------------------------------------------------------------

_DAY = r"(?P<day>\d{1,2})\s?(?P<suffix>st|nd|rd|th)?"
_MONTH = rf"(?P<month>{_MONTH_ALT})\.?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
DATE_PATTERNS = {
    "day_of": re.compile(rf"\b{_DAY}\s+day\s+of\s+{_MONTH}\s*,?\s+{_YEAR}\b", re.I),
    "month_day_year": re.compile(rf"\b{_MONTH}\s+{_DAY}\s*,?\s*{_YEAR}\b", re.I),
    "day_month_year": re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\s*,?\s+{_YEAR}\b", re.I),
    "numeric": re.compile(r"\b(?P<mnum>\d{1,2})/(?P<day>\d{1,2})/(?P<year>(?:19|20)\d{2})\b"),
    "iso": re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
}


@dataclass(frozen=True)
class DateSpan(Span):
    style: str = ""
    date: dt.date = dt.date.min


def _month_number(word: str) -> int:
    word = word.lower().rstrip(".")
    return next(i + 1 for i, m in enumerate(MONTHS) if m.startswith(word[:3]))


def _parse(match: re.Match[str]) -> dt.date | None:
    groups = match.groupdict()
    month = int(groups["mnum"]) if groups.get("mnum") else _month_number(groups["month"])
    try:
        return dt.date(int(groups["year"]), month, int(groups["day"]))
    except ValueError:
        return None


def find_dates(document: str) -> list[DateSpan]:
    """Every date the document states in a form above, in document order (a span is claimed
    by the first style that reads it)."""
    found: list[DateSpan] = []
    taken: list[tuple[int, int]] = []
    for style, pattern in DATE_PATTERNS.items():
        for m in pattern.finditer(document):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            date = _parse(m)
            if date is not None:
                taken.append((m.start(), m.end()))
                found.append(DateSpan(m.start(), m.end(), m.group(), style, date))
    return sorted(found, key=lambda d: d.start)


def ordinal_suffix(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _cased_like(word: str, model: str) -> str:
    if model.isupper():
        return word.upper()
    return word.capitalize() if model[:1].isupper() else word


def restate(span: DateSpan, date: dt.date) -> str:
    """`date` written the way `span` writes its own (same style, case, suffix, punctuation)."""
    pattern = DATE_PATTERNS[span.style]
    m = pattern.fullmatch(span.text)
    if m is None:  # a span always re-reads its own style; kept for safety
        return date.isoformat()
    groups = m.groupdict()

    def padded(value: int, like: str) -> str:
        return f"{value:02d}" if like.startswith("0") or span.style == "iso" else str(value)

    values = {"day": padded(date.day, groups["day"]) if span.style in ("iso", "numeric")
              else str(date.day), "year": str(date.year)}
    if groups.get("mnum"):
        values["mnum"] = padded(date.month, groups["mnum"])
    if groups.get("month"):
        original = groups["month"]
        word = MONTHS[date.month - 1]
        if original.lower() not in MONTHS:  # an abbreviation: "Sept", "Apr"
            word = word[:4] if word == "september" and len(original) > 3 else word[:3]
        values["month"] = _cased_like(word, original)
    if groups.get("suffix"):
        values["suffix"] = _cased_like(ordinal_suffix(date.day), groups["suffix"])
    pieces, last = [], 0
    for name in sorted((g for g in values if groups.get(g)), key=m.start):
        pieces += [span.text[last:m.start(name)], values[name]]
        last = m.end(name)
    return "".join([*pieces, span.text[last:]])


# --- terms -------------------------------------------------------------------------------------

_NUMBER_WORD_ALT = "|".join(sorted([*NUMBER_WORDS, *(f"{t}-{u}" for t in _TENS for u in
                                                     NUMBER_WORDS[1:10]), *_TENS],
                                   key=len, reverse=True))
TERM_PATTERN = re.compile(
    rf"\b(?:(?P<word>{_NUMBER_WORD_ALT})\s*(?:\(\s*(?P<paren>\d+)\s*\))?|(?P<digits>\d+))"
    r"(?P<joint>\s*-\s*|\s+)(?P<unit>year|month|day|week)(?P<plural>s)?\b", re.I)


def word_number(word: str) -> int:
    word = word.lower()
    if word in NUMBER_WORDS:
        return NUMBER_WORDS.index(word)
    tens, _, unit = word.partition("-")
    return _TENS[tens] + (NUMBER_WORDS.index(unit) if unit else 0)


def number_word(n: int) -> str | None:
    if 0 <= n < len(NUMBER_WORDS):
        return NUMBER_WORDS[n]
    tens = next((w for w, v in _TENS.items() if v == n - n % 10), None)
    if tens is None:
        return None
    return tens if n % 10 == 0 else f"{tens}-{NUMBER_WORDS[n % 10]}"


@dataclass(frozen=True)
class TermSpan(Span):
    number: int = 0
    unit: str = ""  # singular: year, month, day, week

    @property
    def in_words(self) -> bool:
        return self.text[:1].isalpha()

    @property
    def answer(self) -> str:
        """As a model copies it; an adjective ("a two-year period") becomes a length
        ("two years")."""
        if re.search(r"-\s*(year|month|day|week)", self.text, re.I):
            return restate_term(self, self.number, self.unit)
        return super().answer


def find_terms(document: str) -> list[TermSpan]:
    """Every stated period ("three (3) years", "2 years", "twelve months", "two-year")."""
    spans = []
    for m in TERM_PATTERN.finditer(document):
        if m.group("word"):
            number = word_number(m.group("word"))
            if m.group("paren") and int(m.group("paren")) != number:
                continue
        else:
            number = int(m.group("digits"))
        spans.append(TermSpan(m.start(), m.end(), m.group(), number, m.group("unit").lower()))
    return spans


def parse_term(term: str) -> tuple[float, str]:
    """The annotation's "3 years" as (3, "year")."""
    number, unit = term.split()
    return float(number), unit.lower().rstrip("s")


def restate_term(span: TermSpan, number: int, unit: str) -> str:
    """A period of `number` `unit`s in the way `span` writes its own (as a length: "two
    years" where the span says "two-year")."""
    m = TERM_PATTERN.fullmatch(span.text)
    if m is None:  # a span always re-reads its own pattern; kept for safety
        return f"{number} {unit}s"
    plural = "s" if number != 1 else ""
    unit_text = _cased_like(unit + plural, m.group("unit"))
    if m.group("word"):
        word = _cased_like(number_word(number) or str(number), m.group("word"))
        paren = f" ({number})" if m.group("paren") else ""
        return f"{word}{paren} {unit_text}"
    return f"{number} {unit_text}"
