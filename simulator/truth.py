"""The answer key of the benchmarks: is a model's answer actually right, given the job's reference
(its right answer, kept apart from the job in the workload's answer key, `simulator.answer_key`)?

Written apart from the validator on purpose, and importing nothing from `validation/`: a
benchmark whose answer key reads values with the validator's own normalisers cannot show the
validator misreading one. It reads an answer the way a careful reviewer with the key would:

- extract: every reference field present and equal up to representation (case, spacing and
  punctuation of strings; number formats such as 1,234.50 / 1.234,50 / 1'234.50; date formats;
  lists element by element). The JSON is read after trivial repairs (a code fence, prose around
  the object, a trailing comma); an answer whose JSON cannot be recovered is wrong.
- classify: the label, up to case, spacing, quotes and a final period.
- math: the number on the final "#### N" line equals the reference (no final line: wrong).
- answer and summarize: every key fact of the reference is stated, and nothing is added that
  neither the document nor the reference contains (no new number, no new capitalised name); a
  reference of "not stated" needs an answer saying the document does not give it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from tierline.jobs.models import JobSpec, TaskType

_CENT = Decimal("0.005")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH_WORD = r"([A-Za-z]{3,9})\.?"
_DATES = [
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), "ymd"),
    (re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})"), "either"),
    (re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:day\s+)?(?:of\s+)?" + _MONTH_WORD
                + r"\s*,?\s*(\d{4})", re.IGNORECASE), "d-mon-y"),
    (re.compile(_MONTH_WORD + r"\s+(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(\d{4})", re.IGNORECASE),
     "mon-d-y"),
]
_NUMBER = re.compile(r"(?<![A-Za-z])\d+(?:[.,'’]\d+)*")
_FINAL = re.compile(r"^\s*####\s*\$?\s*(-?[\d,]*\.?\d+)", re.MULTILINE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")
_NOT_STATED = re.compile(r"does(?:n't| not) (?:say|state|mention|give)|not (?:stated|mentioned|"
                         r"given)|no (?:mention|information)", re.IGNORECASE)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def plain(text: str) -> str:
    """Lower case, accents dropped, every run of non-alphanumerics one space."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", folded).split())


def _month(word: str) -> int | None:
    head = word[:3].lower()
    return _MONTHS.index(head) + 1 if head in _MONTHS else None


def _date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def dates_in(text: str, whole: bool = False) -> set[dt.date]:
    """Dates `text` mentions; with `whole`, only if the text is one date and nothing else."""
    found: set[dt.date | None] = set()
    for pattern, form in _DATES:
        for m in pattern.finditer(text):
            if whole and re.sub(r"[\W_]|the|this|dated|day|of|on", "",
                                text[:m.start()] + text[m.end():], flags=re.I):
                continue
            g = m.groups()
            if form == "ymd":
                found.add(_date(int(g[0]), int(g[1]), int(g[2])))
            elif form == "either":
                found |= {_date(int(g[2]), int(g[1]), int(g[0])),
                          _date(int(g[2]), int(g[0]), int(g[1]))}
            elif form == "d-mon-y" and (mon := _month(g[1])):
                found.add(_date(int(g[2]), mon, int(g[0])))
            elif form == "mon-d-y" and (mon := _month(g[0])):
                found.add(_date(int(g[2]), mon, int(g[1])))
    return {d for d in found if d is not None}


def amounts(token: str) -> set[Decimal]:
    """What a written number may mean: "1,234.50", "1.234,50", "1'234.50", "1 234,5"."""
    token = token.replace("’", "'").replace(" ", "").replace("'", "")
    out: set[Decimal] = set()
    last_dot, last_comma = token.rfind("."), token.rfind(",")
    candidates = [token.replace(",", "")]
    if last_comma > last_dot:
        candidates.append(token.replace(".", "").replace(",", "."))
    for candidate in candidates:
        try:
            out.add(Decimal(candidate))
        except InvalidOperation:
            continue
    return out


def numbers_in(text: str) -> set[Decimal]:
    return {n for token in _NUMBER.findall(text) for n in amounts(token)}


def parse_answer_json(text: str) -> tuple[bool, Any]:
    """(recovered, value) of the JSON object in a model's answer, after trivial repairs."""
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start = body.find("{")
    if start < 0:
        return False, None
    end = body.rfind("}")
    body = body[start:end + 1] if end > start else body[start:].rstrip().rstrip(",") + "}"
    body = re.sub(r",\s*([}\]])", r"\1", body)
    for attempt in (body, body.replace("'", '"') if '"' not in body else body):
        try:
            return True, json.loads(attempt)
        except json.JSONDecodeError:
            continue
    return False, None


def same_value(got: Any, want: Any) -> bool:
    """Equal up to representation: numbers by value, dates by day, strings by plain text."""
    if want is None or isinstance(want, bool):
        return got is want or got == want
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            same_value(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, dict):
        return isinstance(got, dict) and all(same_value(got.get(k), v) for k, v in want.items())
    if got is None or isinstance(got, bool):
        return False
    if isinstance(want, int | float):
        target = Decimal(repr(want)) if isinstance(want, float) else Decimal(want)
        readings = ({Decimal(repr(got)) if isinstance(got, float) else Decimal(got)}
                    if isinstance(got, int | float) else
                    set().union(*(amounts(t) for t in _NUMBER.findall(str(got)))) if
                    len(_NUMBER.findall(str(got))) == 1 else set())
        return any(abs(r - target) < _CENT for r in readings)
    want_s, got_s = str(want), str(got)
    if plain(want_s) == plain(got_s):
        return True
    want_dates = dates_in(want_s, whole=True)
    return bool(want_dates) and want_dates == dates_in(got_s, whole=True)


def fact_present(fact: str, text: str) -> bool:
    """A key fact ("EUR 12.5 million", "A-12345", "3 March 2025") is stated in `text`."""
    if f" {plain(fact)} " in f" {plain(text)} ":
        return True
    dates = dates_in(fact, whole=True)
    if dates:
        return bool(dates & dates_in(text))
    wanted = numbers_in(fact)
    if wanted and wanted & numbers_in(text):
        other = set(plain(re.sub(r"[\d.,]+", " ", fact)).split())
        return other <= set(plain(text).split())
    return False


def final_answer(text: str) -> Decimal | None:
    matches = _FINAL.findall(text)
    if not matches:
        return None
    try:
        return Decimal(matches[-1].replace(",", ""))
    except InvalidOperation:
        return None


def _label(text: str) -> str:
    return " ".join(text.strip().strip("\"'`*_").rstrip(".").strip("\"'`*_").split()).casefold()


def is_correct(job: JobSpec, reference: Any, text: str) -> bool:
    """Whether `text` is a right answer to `job` whose right answer is `reference`."""
    ref = reference
    if job.task is TaskType.EXTRACT or job.output_schema is not None:
        ok, value = parse_answer_json(text)
        return ok and same_value(value, ref)
    if job.task is TaskType.CLASSIFY:
        return _label(text) == _label(str(ref))
    if job.task is TaskType.MATH:
        got = final_answer(text)
        return got is not None and same_value(float(got), ref)
    facts = [str(f) for f in ref] if isinstance(ref, list) else [str(ref)]
    if facts == ["not stated"]:
        return bool(_NOT_STATED.search(text)) and not _added(text, job.input_text(), facts)
    return all(fact_present(f, text) for f in facts) and not _added(text, job.input_text(), facts)


def _added(text: str, document: str, facts: list[str]) -> list[str]:
    """Numbers and capitalised names in `text` found in neither the document nor the facts."""
    known = document + "\n" + "\n".join(facts)
    words = set(plain(known).split())
    numbers, dates = numbers_in(known), dates_in(known)
    added = [w for w in _NAME.findall(text) if w.casefold() not in words]
    for token in _NUMBER.findall(text):
        token_dates = dates_in(token, whole=True)
        if token_dates and token_dates & dates:
            continue
        if token_dates or not amounts(token) & numbers:
            added.append(token)
    return added
