"""Key facts: a summary must report the document's headline figures and names.

Grounding proves a summary invents nothing; it cannot see what a summary leaves out, nor a
current figure swapped for last year's. The key facts of a document are its sentences that
carry a specific (a number that is not a year, or a capitalised name inside the sentence) and
are not qualified as something other than the current state: "prior year", "previous",
"rejected", "proposal", "superseded", "was planned"... A summary covers a key fact when it
states at least half of that fact's specifics (numbers compared by value, names by word), so
paraphrase is fine but a dropped or swapped fact is not.

A summary is asked for in a few sentences, so it must cover every key fact when there are at
most `MAX_FACTS` of them, and `MAX_FACTS` of them otherwise (which ones is the writer's choice).
The document's first line is its title and is not a fact. Repeated sentences are boilerplate.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from functools import lru_cache

from tierline.validation.base import Finding
from tierline.validation.normalize import numbers_of

KEY_FACTS = "key_facts"
MAX_FACTS = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_NAME = re.compile(r"(?<=\s)[A-Z][a-z]{2,}\b")
_NUMBER = re.compile(r"(?<![A-Za-z\d.,])\d+(?:[.,]\d+)*")
_WORDS = re.compile(r"\w+")
_QUALIFIED = re.compile(
    r"\b(?:prior|previous|previously|last year|rejected|declined|withdrawn|proposal|proposed|"
    r"superseded|supersedes|cancelled|canceled|postponed|planned|would|could|might|if)\b",
    re.IGNORECASE)


def _is_year(token: str) -> bool:
    return len(token) == 4 and token.isdigit() and 1900 <= int(token) <= 2100


@lru_cache(maxsize=256)
def key_facts(document: str) -> tuple[tuple[str, frozenset[Decimal], frozenset[str]], ...]:
    """(sentence, its numbers, its names) for each key fact of `document`."""
    body = document.split("\n", 1)[1] if "\n" in document.strip() else document
    sentences = [s.strip() for s in _SENTENCE.split(body) if s.strip()]
    seen = Counter(sentences)
    facts = []
    for sentence in dict.fromkeys(sentences):
        if seen[sentence] > 1 or _QUALIFIED.search(sentence):
            continue
        tokens = [t for t in _NUMBER.findall(sentence) if not _is_year(t)]
        numbers = frozenset(n for t in tokens for n in numbers_of(t))
        names = frozenset(n.casefold() for n in _NAME.findall(" " + sentence[1:]))
        if numbers or names:
            facts.append((sentence, numbers, names))
    return tuple(facts)


def covers(summary: str, numbers: frozenset[Decimal], names: frozenset[str],
           said_numbers: frozenset[Decimal], said_words: set[str]) -> bool:
    """Whether a summary with these numbers and words states at least half of a fact."""
    total = len(numbers) + len(names)
    found = len(numbers & said_numbers) + len(names & said_words)
    return total > 0 and 2 * found >= total


def check_key_facts(summary: str, document: str, *, strict: bool = True) -> Finding:
    """Fail when the summary leaves out (or swaps away) one of the document's key facts.

    A fact the summary states none of, when the document has no more key facts than a summary
    has room for, is a plain omission and fails strictly whatever `strict` says; `strict`
    decides only for facts the summary states in part, or when it had to choose among many.
    """
    facts = key_facts(document)
    if not facts:
        return Finding(KEY_FACTS, True, "the document states no key facts")
    said_numbers = numbers_of(summary)
    said_words = set(_WORDS.findall(summary.casefold()))
    missing = [(s, nums, names) for s, nums, names in facts
               if not covers(summary, nums, names, said_numbers, said_words)]
    need = min(len(facts), MAX_FACTS)
    covered = len(facts) - len(missing)
    if covered >= need:
        return Finding(KEY_FACTS, True, f"covers {covered} of {len(facts)} key facts")
    absent = len(facts) <= MAX_FACTS and any(
        not (nums & said_numbers) and not (names & said_words) for _, nums, names in missing)
    shown = "; ".join(repr(s[:60]) for s, _, _ in missing[:2])
    return Finding(KEY_FACTS, False,
                   f"covers {covered} of {len(facts)} key facts (needs {need}); missing {shown}",
                   strict=strict or absent)
