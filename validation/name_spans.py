"""Where a document names a party: the spans of a name's words, case-insensitively, joined by
spaces, punctuation or "and", and not inside a longer run of ASCII letters and digits.

`pattern(name)` is that search as a regex. Compiling it costs about half a millisecond (its
character classes under IGNORECASE), and nearly every job names parties no job named before.
`spans` finds the same spans with `str.find` when the name is ASCII and the document matches
ASCII letters case-insensitively by lowering alone; otherwise it compiles the pattern.

How the pattern matches, which `_rest` follows: a gap between two words is the longest run of
characters other than letters and digits (the next word starts with one, so a shorter run never
helps), then, tried first, an "and" and the run after it; the next word must start right there.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

_WORDS = re.compile(r"[^\W_]+")
_GAP = re.compile(r"[\W_]*")
_ALNUM = frozenset(string.ascii_letters + string.digits)
# The non-ASCII characters that case-insensitive matching equates with ASCII letters (İ, ı, ſ
# and the Kelvin sign); a document holding one is left to the regex.
_LOOKALIKES = re.compile("[\u0130\u0131\u017f\u212a]")


@lru_cache(maxsize=1024)
def pattern(name: str) -> re.Pattern[str] | None:
    """The regex of `name`'s spans; None for a name without a letter or digit."""
    words = _WORDS.findall(name)  # as written: "Kjær" must stay one word
    if not words:
        return None
    gap = r"[\W_]*(?:(?:and|&)[\W_]*)?"
    return re.compile(r"(?<![A-Za-z0-9])" + gap.join(re.escape(w) for w in words)
                      + r"(?![A-Za-z0-9])", re.IGNORECASE)


@lru_cache(maxsize=256)
def _lowered(document: str) -> str | None:
    """`document` lowered, if each of its characters lowers to one and none is a lookalike:
    then an ASCII word matches case-insensitively exactly where its lowered form is found."""
    lowered = document.lower()
    if len(lowered) != len(document) or _LOOKALIKES.search(document):
        return None
    return lowered


def spans(name: str, document: str) -> list[tuple[int, int]] | None:
    """`[m.span() for m in pattern(name).finditer(document)]`, None if `pattern` is."""
    words = _WORDS.findall(name)
    if not words:
        return None
    lowered = _lowered(document) if all(w.isascii() for w in words) else None
    if lowered is None:
        compiled = pattern(name)
        assert compiled is not None
        return [m.span() for m in compiled.finditer(document)]
    wanted = [w.lower() for w in words]
    found: list[tuple[int, int]] = []
    at = lowered.find(wanted[0])
    while at >= 0:
        end = None
        if at == 0 or document[at - 1] not in _ALNUM:
            end = _rest(document, lowered, at + len(wanted[0]), wanted[1:])
        if end is None:
            at = lowered.find(wanted[0], at + 1)
        else:
            found.append((at, end))
            at = lowered.find(wanted[0], end)
    return found


def _rest(document: str, lowered: str, at: int, words: list[str]) -> int | None:
    """Where the match that has reached `at` ends, given the `words` still to match."""
    if not words:
        return at if at == len(document) or document[at] not in _ALNUM else None
    gap = _gap_end(document, at)
    if lowered.startswith("and", gap):
        after = _gap_end(document, gap + 3)
        if lowered.startswith(words[0], after):
            end = _rest(document, lowered, after + len(words[0]), words[1:])
            if end is not None:
                return end
    if lowered.startswith(words[0], gap):
        return _rest(document, lowered, gap + len(words[0]), words[1:])
    return None


def _gap_end(document: str, at: int) -> int:
    match = _GAP.match(document, at)  # `*`: it always matches
    return match.end() if match else at
