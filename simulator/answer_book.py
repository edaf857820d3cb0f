"""Answers the simulator knows for documents it cannot solve by reading: real agreements.

The solver reads the sample workload's own formats; a real agreement (`simulator.agreements`) is
answered from its annotation instead. An annotation is normalised ("Nike Inc.", "2001-04-18",
"3 years"), while a model writes what the text says ("NIKE, Inc.", "April 18, 2001", "three (3)
years"), so each value is looked up in the document and given as it is written there; a value
the text does not spell the annotation's way is given as annotated.

Entries come from `register(document, answer)` (the embedded demo, in this process) or from a
JSON-lines file named by `TIERLINE_SIMULATOR_ANSWER_BOOK` (`{"document", "answer"}` a line, for
a simulator served in another process). An entry with `"scripted": true` is what every model
answers, never degraded: end-to-end tests use it to make all tiers agree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV = "TIERLINE_SIMULATOR_ANSWER_BOOK"
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven",
          8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 18: "eighteen",
          24: "twenty-four", 36: "thirty-six"}
_FORMS = {"inc", "corp", "corporation", "llc", "ltd", "co", "company", "l.p", "lp", "limited",
          "incorporated", "plc"}
_STATES = ["Alabama", "Arizona", "California", "Colorado", "Connecticut", "Delaware", "Florida",
           "Georgia", "Illinois", "Indiana", "Maryland", "Massachusetts", "Michigan", "Minnesota",
           "Missouri", "Nevada", "New Jersey", "New York", "North Carolina", "Ohio", "Oregon",
           "Pennsylvania", "Texas", "Utah", "Virginia", "Washington", "Wisconsin", "England"]


@dataclass(frozen=True)
class Entry:
    answer: dict[str, Any]
    # Plausible wrong values the document offers, per field (other dates, states, durations).
    distractors: dict[str, list[Any]] = field(default_factory=dict)
    scripted: bool = False


_lock = threading.Lock()
_book: dict[str, Entry] = {}
_loaded_from: str | None = None


def _key(document: str) -> str:
    return hashlib.sha256(" ".join(document.split()).encode()).hexdigest()


def _name_as_written(document: str, name: str) -> str:
    words = [w for w in re.split(r"[\s,.]+", name) if w]
    core = [w for w in words if w.lower() not in _FORMS] or words
    pattern = r"[\s,.\-]*".join(
        re.escape(w[:max(4, len(w) - 2)]) + r"\w*" if w.lower() != "and" else r"(?:and|&)"
        for w in core)
    m = re.search(pattern + r"(?:,?\s+(?:Inc|Corp|Corporation|LLC|Ltd|L\.P|Co|Company|Limited)"
                  r"\b\.?)?", document, re.IGNORECASE)
    return m.group(0).strip() if m else name


def _date_as_written(document: str, iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    month = _MONTHS[d.month - 1]
    for pattern in (rf"{d.day}(?:st|nd|rd|th)?\s+day\s+of\s+{month},?\s+{d.year}",
                    rf"{month}\s+{d.day}(?:st|nd|rd|th)?\s*,?\s*{d.year}",
                    rf"{d.day}(?:st|nd|rd|th)?\s+{month},?\s+{d.year}",
                    rf"0?{d.month}/0?{d.day}/(?:{d.year}|{d.year % 100:02d})"):
        m = re.search(pattern, document, re.IGNORECASE)
        if m:
            return m.group(0)
    return iso


def _term_as_written(document: str, term: str) -> str:
    number, _, unit = term.partition(" ")
    try:
        n = int(float(number))
    except ValueError:
        return term
    word, stem = _WORDS.get(n, str(n)), unit.rstrip("s")
    m = re.search(rf"\b(?:{word}|{n})(?:\s*\(\s*{n}\s*\))?[\s-]+(?:calendar\s+)?{stem}s?\b",
                  document, re.IGNORECASE)
    return m.group(0) if m else term


def as_written(document: str, annotation: dict[str, Any]) -> Entry:
    """The annotated values as the document writes them, with the document's other values of
    each kind as distractors."""
    answer: dict[str, Any] = {}
    distractors: dict[str, list[Any]] = {}
    parties = [_name_as_written(document, p) for p in annotation.get("parties") or []]
    answer["parties"] = parties
    distractors["parties"] = [parties[:-1]] if len(parties) > 1 else []
    iso = annotation.get("effective_date")
    answer["effective_date"] = _date_as_written(document, iso) if iso else None
    others = re.findall(rf"(?:{'|'.join(_MONTHS)})\s+\d{{1,2}},\s*\d{{4}}", document)
    distractors["effective_date"] = [d for d in dict.fromkeys(others)
                                     if d != answer["effective_date"]][:4]
    law = annotation.get("jurisdiction")
    answer["jurisdiction"] = law
    distractors["jurisdiction"] = [s for s in _STATES if s != law and s in document][:4]
    term = annotation.get("term")
    answer["term"] = _term_as_written(document, term) if term else None
    durations = re.findall(r"\b(?:\w+\s+\(\d+\)|\d+)\s+(?:years?|months?)\b", document)
    distractors["term"] = [t for t in dict.fromkeys(durations) if t != answer["term"]][:4]
    return Entry(answer, distractors)


def register(document: str, annotation: dict[str, Any], *, scripted: bool = False) -> None:
    """Teach the simulator an agreement's answer (written the document's way unless scripted,
    when it is answered exactly as given, by every model)."""
    entry = Entry(dict(annotation), {}, True) if scripted else as_written(document, annotation)
    with _lock:
        _book[_key(document)] = entry


def _load_file() -> None:
    global _loaded_from
    path = os.environ.get(ENV)
    if not path or path == _loaded_from:
        return
    with _lock:
        _loaded_from = path
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            register(row["document"], row["answer"], scripted=bool(row.get("scripted")))


def lookup(document: str) -> Entry | None:
    _load_file()
    with _lock:
        return _book.get(_key(document))
