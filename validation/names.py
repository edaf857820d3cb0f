"""Names of people and organisations as documents print them, matched the way a reader would.

"NIKE, Inc.", "Nike Inc" and "NIKE,\\nINC." are one name; so are "Intel Corporation" and "Intel
Corp", "Leggett & Platt, Incorporated" and "Leggett and Platt Inc.", "L. B. Foster Company" and
"L.B. FOSTER CO". A name is found when its core words (the name without its corporate suffix and
a leading "the") occur one after another in the document, up to case, punctuation, line breaks,
"&"/"and", the spelling of the suffix and a plural "s". Nothing looser: a party of another
agreement shares at most a word or two with this one, never the whole core in order.
"""

from __future__ import annotations

from functools import lru_cache

from tierline.validation.normalize import document_text, norm_text

# Each corporate form's spellings, mapped to one.
_SUFFIXES = {
    "incorporated": "inc", "inc": "inc", "corporation": "corp", "corp": "corp",
    "company": "co", "co": "co", "limited": "ltd", "ltd": "ltd", "llc": "llc", "lp": "lp",
    "llp": "llp", "plc": "plc", "ag": "ag", "sa": "sa", "nv": "nv", "bv": "bv", "gmbh": "gmbh",
    "pty": "pty", "lc": "lc", "pc": "pc", "pllc": "pllc", "asa": "asa", "spa": "spa",
}
_DROPPED = frozenset({"and", "the"})


def _merge_initials(words: list[str]) -> list[str]:
    """Runs of single letters are one word: "l l c" → "llc", "l b foster" → "lb foster"."""
    out: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(word)
    if run:
        out.append(run)
    return out


@lru_cache(maxsize=65_536)  # a document's words: most of them many times over
def _canon(word: str) -> str:
    word = _SUFFIXES.get(word, word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def name_words(text: str) -> list[str]:
    """`text`'s words in the canonical form names are compared in."""
    return _canonical(norm_text(text))


def _canonical(norm: str) -> list[str]:
    return [_canon(w) for w in _merge_initials(norm.split()) if w not in _DROPPED]


@lru_cache(maxsize=256)
def _document_names(document: str) -> str:
    # The document's `norm_text` is cached already: not normalised a second time.
    return " " + " ".join(_canonical(document_text(document))) + " "


def name_core(value: str) -> list[str]:
    """The words that identify a name: its canonical words without trailing corporate forms."""
    words = name_words(value)
    suffixes = set(_SUFFIXES.values())
    while words and words[-1] in suffixes:
        words.pop()
    return words


_SUFFIX_FORMS = frozenset(_SUFFIXES.values())


def name_found(value: str, document: str) -> bool:
    """Whether the name `value` occurs in `document`, in the sense of this module.

    A value that ends in a corporate form ("Acme Corp") must meet its core followed by one in
    the document: "Acme Supplies GmbH" does not ground "Acme Corporation".
    """
    core = name_core(value)
    if not core or not any(any(c.isalpha() for c in w) for w in core):
        return False
    names = _document_names(document)
    probe = " " + " ".join(core) + " "
    if len(core) == len(name_words(value)):
        return probe in names
    at = names.find(probe)
    while at >= 0:
        following = names[at + len(probe):].split(" ", 1)[0]
        if following in _SUFFIX_FORMS:
            return True
        at = names.find(probe, at + 1)
    return False
