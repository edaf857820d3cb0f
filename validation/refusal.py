"""Give-ups: refusals, "I don't know", empty or truncated answers, answers in the wrong language."""

from __future__ import annotations

import re
from functools import lru_cache

from tierline.validation.base import Finding
from tierline.validation.normalize import document_text, norm_text

REFUSAL = "refusal"
EMPTY = "empty"
TRUNCATED = "truncated"
LANGUAGE = "language"

TRUNCATING_FINISH_REASONS = frozenset({"length", "max_tokens", "max_output_tokens"})

_REFUSAL = re.compile(
    r"\b(?:i\s+(?:do\s*n[o']?t|don[’']t)\s+know"
    r"|i(?:\s+a|[’'])m\s+not\s+(?:sure|certain|able)"
    r"|as\s+an?\s+(?:ai|a\.i\.|language\s+model|large\s+language\s+model)"
    r"|i\s+(?:cannot|can\s*not|can[’']t|am\s+unable|[’']m\s+unable|am\s+not\s+able)"
    r"|i\s+(?:will\s+not|won[’']t)\s+(?:help|answer|provide)"
    r"|unable\s+to\s+(?:determine|answer|help|provide|extract|complete|assist)"
    r"|i\s+(?:apologi[sz]e|am\s+sorry|[’']m\s+sorry)"
    r"|no\s+idea)\b",
    re.IGNORECASE,
)
# "The document does not say" is the answer the prompt asks for when the answer is absent.
_NOT_STATED = re.compile(
    r"\b(?:(?:does|do)\s*n[o']?t\s+(?:say|state|mention|specify|include|provide|contain|give)"
    r"|is\s*n[o']?t\s+(?:stated|mentioned|specified|given|provided|included)"
    r"|not\s+(?:stated|mentioned|specified|given|provided)"
    r"|no\s+(?:mention|information))\b",
    re.IGNORECASE,
)
_STOPWORD_TEXT = (
    "the a an and or of to in on for with is are was were be been it this that at by from as "
    "not but have has had will would can could should i you he she we they his her its their our "
    "your my me him them there which who what when where how if then than so do does did"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[^\W\d_]+")
_NON_LATIN = re.compile("[^\x00-\u024f]")


def says_not_stated(text: str) -> bool:
    return bool(_NOT_STATED.search(text))


def check_empty(text: str) -> Finding:
    blank = not text.strip()
    return Finding(EMPTY, not blank, "empty answer" if blank else "answer present")


def check_truncated(finish_reason: str) -> Finding:
    cut = str(finish_reason).strip().lower() in TRUNCATING_FINISH_REASONS
    return Finding(TRUNCATED, not cut,
                   f"output cut off (finish reason {finish_reason!r})" if cut else "complete")


def check_refusal(text: str, *, allow_not_stated: bool = False, document: str = "") -> Finding:
    """Refusals and give-ups in the first lines of the answer; a phrase the answer quotes from
    the document ("I cannot log in", says the customer) is not one."""
    head = text[:600]
    quoted = document_text(document) if document else ""
    for match in _REFUSAL.finditer(head):
        if not quoted or norm_text(match.group(0)) not in quoted:
            return Finding(REFUSAL, False, f"gave up: {match.group(0)!r}")
    if not allow_not_stated and says_not_stated(head) and len(head.split()) < 25:
        return Finding(REFUSAL, False, "says the document does not give the answer")
    return Finding(REFUSAL, True, "no refusal")


def _profile(text: str) -> tuple[int, float, float]:
    """Length (words, or letters/4 for scripts without spaces), share of English stop-words,
    share of letters outside the Latin scripts."""
    words = _WORD.findall(text[:4000])
    if not words:
        return 0, 0.0, 0.0
    letters = "".join(words)
    stop = sum(w.lower() in _STOPWORDS for w in words) / len(words)
    foreign = 0 if letters.isascii() else len(_NON_LATIN.findall(letters))
    return max(len(words), len(letters) // 4), stop, foreign / max(1, len(letters))


# A document is profiled again for every answer to it.
_document_profile = lru_cache(maxsize=256)(_profile)


def check_language(text: str, document: str) -> Finding:
    """The answer is written in the document's language (a cheap script and stop-word test)."""
    n, stop, foreign = _profile(text)
    doc_n, doc_stop, doc_foreign = _document_profile(document)
    if n < 8 or doc_n < 8:
        return Finding(LANGUAGE, True, "too short to judge the language")
    if foreign > 0.3 and doc_foreign < 0.1:
        return Finding(LANGUAGE, False, f"{foreign:.0%} non-Latin letters; the document is Latin")
    if doc_stop >= 0.12 and stop < 0.04 and foreign < 0.3:
        return Finding(LANGUAGE, False,
                       f"{stop:.0%} English stop-words against {doc_stop:.0%} in the document")
    return Finding(LANGUAGE, True, "same language as the document")
