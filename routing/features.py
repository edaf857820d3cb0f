"""What the router knows about a job: a few counts, content signals and its context.

Everything here is computed offline from the job alone (no tokenizer download, no model call) and
fast: routing must cost far less than the cheapest model call it decides about.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from tierline.jobs.models import JobSpec, TaskType
from tierline.routing.tokens import count_tokens

_WORD = re.compile(r"[a-z0-9]+")
# Only the beginning of a document is hashed for the classifier; it is what says what it is.
_HASH_CHARS = 1_200


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Content signals are word lists checked against the job's words (a set lookup each: regex
# alternations would rescan a long document once per list), plus a few marks for code and maths.
_SIGNAL_WORDS: dict[str, frozenset[str]] = {
    "legal": _vocabulary(
        "contract contracts clause clauses liability liabilities liable plaintiff defendant "
        "court courts statute statutes lawsuit indemnify indemnification indemnity tort torts "
        "jurisdiction attorney attorneys legal regulation regulations regulatory compliance "
        "breach warranty warranties termination governing law lawful unlawful"),
    "financial": _vocabulary(
        "revenue revenues profit profits invoice invoices budget budgets tax taxes earnings "
        "finance financial fiscal cash dividend dividends ebitda forecast loan loans interest "
        "accounting audit payable receivable margin quarterly balance sheet ledger"),
    "code": _vocabulary(
        "def function class return import const var println printf struct lambda async "
        "python javascript sql select typescript compile"),
    "maths": _vocabulary(
        "equation solve calculate integral derivative probability percent average sum total "
        "how many much times twice half ratio"),
    "multi_step": _vocabulary(
        "then after first second finally step steps each per remaining twice total"),
}
_CODE_MARKS = ("```", "#include", "=>", "();", "){", "def ")
_CURRENCY = re.compile(r"[$€£]\s?\d")
_ARITHMETIC = re.compile(r"\d\s*[-+*/×÷^]\s*\d")


def content_signals(text: str, words: set[str]) -> frozenset[str]:
    """Which of legal, financial, code, maths, multi_step the text looks like."""
    found = {name for name, vocabulary in _SIGNAL_WORDS.items() if not vocabulary.isdisjoint(words)}
    if any(mark in text for mark in _CODE_MARKS):
        found.add("code")
    if "financial" not in found and any(c in text for c in "$€£") and _CURRENCY.search(text):
        found.add("financial")
    if "maths" not in found and _ARITHMETIC.search(text):
        found.add("maths")
    return frozenset(found)


# Rough answer lengths per task, for the context-window check (input + output must fit).
_EXPECTED_OUTPUT: dict[TaskType, int] = {
    TaskType.EXTRACT: 200,
    TaskType.CLASSIFY: 10,
    TaskType.SUMMARIZE: 250,
    TaskType.ANSWER: 300,
    TaskType.MATH: 400,
    TaskType.CODE: 800,
}


@dataclass(frozen=True)
class Features:
    task: str
    query_type: str | None
    input_tokens: int
    expected_output_tokens: int
    turns: int
    schema_size: int
    signals: frozenset[str]
    role: str
    business_impact: str
    error_tolerance: str
    # The words the classifier reads: task, length and signal markers, then the text's words.
    terms: tuple[str, ...]
    # Shape of the text, in the order of DENSE_NAMES: what varies in difficulty within a kind.
    dense: tuple[float, ...] = ()

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.expected_output_tokens


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_FRACTION = re.compile(r"\d\s*/\s*\d")
_FRACTION_WORDS = frozenset({"half", "third", "quarter", "fifth", "halves", "thirds"})

DENSE_NAMES = (
    "log_tokens", "numbers", "distinct_numbers", "max_number_digits", "sentences", "percent",
    "fraction", "money", "turns", "schema_size", "signals",
)


def _dense(
    text: str, words: set[str], tokens: int, turns: int, size: int, signals: int
) -> tuple[float, ...]:
    numbers = _NUMBER.findall(text)
    return (
        float(np.log1p(tokens)),
        float(min(len(numbers), 50)),
        float(min(len(set(numbers)), 50)),
        float(max((len(n) for n in numbers), default=0)),
        float(min(text.count(". ") + text.count(".\n") + text.count("?"), 50)),
        float("%" in text or "percent" in text),
        float(not _FRACTION_WORDS.isdisjoint(words) or ("/" in text
                                                          and bool(_FRACTION.search(text)))),
        float("$" in text),
        float(turns),
        float(size),
        float(signals),
    )


def schema_size(schema: object) -> int:
    """The number of properties (at any depth) in a JSON Schema."""
    if isinstance(schema, dict):
        own = len(schema.get("properties", {})) if isinstance(schema.get("properties"), dict) else 0
        return own + sum(schema_size(v) for v in schema.values())
    if isinstance(schema, list):
        return sum(schema_size(v) for v in schema)
    return 0


def _words(text: str) -> list[str]:
    words: list[str] = _WORD.findall(text[:_HASH_CHARS].lower())
    return words


def _length_bucket(tokens: int) -> int:
    return min(int(np.log2(tokens + 1)), 17)


def extract(job: JobSpec) -> Features:
    """The router's view of `job`."""
    text = job.input_text()
    if job.instructions:
        text = f"{job.instructions}\n{text}"
    words = _words(text)
    vocabulary = set(words)
    signals = content_signals(text[:_HASH_CHARS], vocabulary)
    tokens = count_tokens(text)
    size = schema_size(job.output_schema) if job.output_schema is not None else 0
    expected = _EXPECTED_OUTPUT[job.task] + 20 * size
    turns = sum(1 for m in job.messages if m.role == "user") or 1
    terms = [
        f"__task_{job.task.value}",
        f"__len_{_length_bucket(tokens)}",
        *(f"__signal_{s}" for s in sorted(signals)),
        *words,
    ]
    return Features(
        task=job.task.value,
        query_type=job.query_type,
        input_tokens=tokens,
        expected_output_tokens=expected,
        turns=turns,
        schema_size=size,
        signals=signals,
        role=job.context.role.lower(),
        business_impact=job.context.business_impact.value,
        error_tolerance=job.context.error_tolerance.value,
        terms=tuple(terms),
        dense=_dense(text[:_HASH_CHARS], vocabulary, tokens, turns, size, len(signals)),
    )


# Word hashes are cached: a fleet's vocabulary repeats, and crc32 per word is most of the cost.
_HASH_CACHE: dict[str, int] = {}
_HASH_CACHE_LIMIT = 1 << 18


def _crc(term: str) -> int:
    value = _HASH_CACHE.get(term)
    if value is None:
        value = zlib.crc32(term.encode())
        if len(_HASH_CACHE) < _HASH_CACHE_LIMIT:
            _HASH_CACHE[term] = value
    return value


def hash_terms(terms: tuple[str, ...] | list[str], dim: int) -> np.ndarray:
    """Column indices of `terms` in a hashed space of `dim` columns (repeats kept: counts).

    Unigrams only: single words already say what kind of job it is, which is what the
    classifier needs; pairs would double the lookups per job."""
    known = _HASH_CACHE.get
    values = [known(t) for t in terms]
    if None in values:
        values = [_crc(t) if v is None else v for v, t in zip(values, terms, strict=True)]
    return np.array(values, dtype=np.int64) % dim
