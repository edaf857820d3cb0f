"""Reading a request the way `prompts.messages` writes it, and the value parsers the solver shares.

The simulator sees only the wire request, so it recovers the job from the prompt: the
"Task: ..." line, the schema after "Schema:", the labels after "Allowed labels:", the document
between "Document:\\n<<<\\n" and "\\n>>>", and whether a previous answer was rejected.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

RETRY_MARKER = "A previous answer to this job was rejected"
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
_MONTH = "(" + "|".join(MONTHS) + ")"
# Every date starts with a digit or a month's first letter: the lookahead lets the engine skip
# every other position at once instead of trying the four forms (and twelve months) at each.
_DATE = re.compile(
    rf"\b(?=[\dadfjmnos])(?:\b(\d{{4}})-(\d{{2}})-(\d{{2}})\b|\b(\d{{1,2}}) {_MONTH} (\d{{4}})\b"
    rf"|\b{_MONTH} (\d{{1,2}}), (\d{{4}})\b|\b(\d{{2}})\.(\d{{2}})\.(\d{{4}})\b)",
    re.IGNORECASE,
)
# Both forms start with a digit: the lookahead skips the other positions (see `_DATE`).
_AMOUNT = re.compile(
    r"(?=\d)(?:(?<![\d.,])\d{1,3}(?:([.,])\d{3})*[.,]\d{2}(?![\d.,]*\d)"
    r"|(?<![\d.,])\d+\.\d{2}\b)"
)
NUMBER_WORDS = {"seven": 7, "ten": 10, "fourteen": 14, "fifteen": 15, "thirty": 30,
                "forty-five": 45, "sixty": 60, "ninety": 90, "one hundred twenty": 120}


@dataclass
class ParsedPrompt:
    task: str  # extract, classify, summarize, answer, math, code, or chat when not a job
    document: str
    instructions: str = ""
    schema: dict[str, Any] | None = None
    labels: list[str] = field(default_factory=list)
    retry: bool = False


@dataclass
class Solution:
    text: str
    value: Any
    # Whether the document was in a format the solver knows; guesses count as hard inputs.
    confident: bool = True
    # Per field (or "" for the whole answer): wrong values that the document itself suggests.
    distractors: dict[str, list[Any]] = field(default_factory=dict)
    # Given by the answer book as what every model answers (tests), never degraded.
    scripted: bool = False


def _section(system: str, head: str) -> str | None:
    for block in system.split("\n\n"):
        if block.startswith(head):
            return block[len(head):].strip()
    return None


def parse_prompt(system: str, messages: list[dict[str, str]]) -> ParsedPrompt:
    """Recover the job from a system prompt and user turns built by `prompts.messages`."""
    user = "\n\n".join(m["content"] for m in messages if m.get("role") == "user")
    whole = f"{system}\n\n{user}"
    task_match = re.search(r"^Task: (\w+)", whole, re.MULTILINE)
    task = task_match.group(1).lower() if task_match else "chat"
    schema: dict[str, Any] | None = None
    raw_schema = _section(whole, "Schema:")
    if raw_schema:
        try:
            loaded = json.loads(raw_schema.split("\n\n")[0])
            schema = loaded if isinstance(loaded, dict) else None
        except json.JSONDecodeError:
            schema = None
    labels_text = _section(whole, "Allowed labels:")
    labels = [x.strip() for x in labels_text.split(",") if x.strip()] if labels_text else []
    doc_match = re.search(r"Document:\n<<<\n(.*?)\n>>>(.*)", user, re.DOTALL)
    if doc_match:
        document, instructions = doc_match.group(1), doc_match.group(2).strip()
    else:
        document, instructions = user, ""
    return ParsedPrompt(task, document, instructions, schema, labels, RETRY_MARKER in system)


def find_dates(text: str) -> list[tuple[str, str]]:
    """Every date in `text` as (ISO form, as written), in order of appearance."""
    return list(_dates_in(text))


# One answer reads the same document's dates once per schema field, for its difficulty and in
# the judge: the few documents in flight are read once each.
@functools.lru_cache(maxsize=32)
def _dates_in(text: str) -> tuple[tuple[str, str], ...]:
    found = []
    for m in _DATE.finditer(text):
        g = m.groups()
        try:
            if g[0]:
                d = dt.date(int(g[0]), int(g[1]), int(g[2]))
            elif g[3]:
                d = dt.date(int(g[5]), MONTHS.index(g[4].lower()) + 1, int(g[3]))
            elif g[6]:
                d = dt.date(int(g[8]), MONTHS.index(g[6].lower()) + 1, int(g[7]))
            else:
                d = dt.date(int(g[11]), int(g[10]), int(g[9]))
        except ValueError:
            continue
        found.append((d.isoformat(), m.group()))
    return tuple(found)


_DECIMAL_COMMA = re.compile(r"\d{1,3}(\.\d{3})*,\d{2}|\d+,\d{2}")


def parse_amount(raw: str) -> float:
    """ "1,234.56" and "1.234,56" both -> 1234.56."""
    raw = raw.strip()
    if _DECIMAL_COMMA.fullmatch(raw):
        return float(raw.replace(".", "").replace(",", "."))
    return float(raw.replace(",", ""))


def find_amounts(text: str) -> list[float]:
    return list(_amounts_in(text))


# Read once per document and numeric field, and for the judge: cached as `_dates_in` is.
@functools.lru_cache(maxsize=32)
def _amounts_in(text: str) -> tuple[float, ...]:
    return tuple(parse_amount(m.group()) for m in _AMOUNT.finditer(text))


def fuzzy(label: str) -> str:
    """A regex for `label` as OCR may have damaged it (l/i/1, o/0, s/5 confused)."""
    swaps = {"i": "[il1]", "l": "[il1]", "o": "[o0]", "s": "[s5]"}
    return "".join(swaps.get(c, re.escape(c)) for c in label.lower())


@functools.lru_cache(maxsize=256)
def _label_line(label: str) -> re.Pattern[str]:
    """A line that starts with `label` (as OCR may have damaged it), then its value."""
    return re.compile(rf"^\s*{fuzzy(label)}(?:\s*\d+%)?(?:\s*:\s*|\s{{2,}})(.+)$", re.I)


def labeled(document: str, labels: list[str]) -> tuple[str, int] | None:
    """The value after the first of `labels` (in priority order) that starts a line."""
    lines = document.splitlines()
    for label in labels:
        pattern = _label_line(label)
        for i, line in enumerate(lines):
            m = pattern.match(line)
            if m:
                return m.group(1).strip(), i
    return None


_NUMBER_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
# Led by a digit or a number word's first letter (f, n, o, s, t), as `_DATE` is.
_DAYS = re.compile(rf"\b(?=[\dfnost])(?:({_NUMBER_WORDS})\s*(?:\((\d+)\))?|(\d+))\s+days",
                   re.I)


def number_words(text: str) -> list[tuple[int, int]]:
    """(value, offset) of every "ninety (90)", "ninety" or "90" that counts days."""
    out = []
    for m in _DAYS.finditer(text):
        value = int(m.group(2) or m.group(3) or NUMBER_WORDS[m.group(1).lower()])
        out.append((value, m.start()))
    return out
