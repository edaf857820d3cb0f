"""Which party an agreement casts in which role, where it says so explicitly.

Agreements define roles in the parenthesis that follows a party's name:
`Aspect Medical Systems, Inc., a Delaware corporation ("Aspect"), and Tyco Healthcare Group LP
("Receiving Party")`, `ASSET ACCEPTANCE CAPITAL CORP. (the "Company"), and James C. Lee
("Employee")`. Only the first parenthesis after a name counts, and a role pair is kept only when
both of its sides are given to two different parties: a generic "the party disclosing (the
'Disclosing Party')" names nobody, and a guess would make a wrong case.
"""

from __future__ import annotations

import re

from bench.cases.textforms import Span

# role field -> the defined terms that give it
ROLE_TERMS = {
    "employer": ("company", "employer"),
    "employee": ("employee", "executive"),
    "disclosing_party": ("disclosing party", "discloser", "provider", "owner"),
    "receiving_party": ("receiving party", "recipient"),
    "seller": ("seller",),
    "buyer": ("buyer", "purchaser"),
}
ROLE_PAIRS = (("employer", "employee"), ("disclosing_party", "receiving_party"),
              ("seller", "buyer"))
ROLE_DESCRIPTIONS = {
    "employer": "the party that employs (the company)",
    "employee": "the person employed (employee or executive)",
    "disclosing_party": "the party that discloses the confidential information",
    "receiving_party": "the party that receives the confidential information",
    "seller": "the selling party",
    "buyer": "the buying party",
}
_WINDOW = 260
_QUOTED = re.compile(r"[\"“”']\s*([^\"“”']{2,40}?)\s*[\"“”']")


def _role_of(definition: str) -> str | None:
    for term in _QUOTED.findall(definition):
        term = re.sub(r"\s+", " ", term).strip().lower()
        for role, words in ROLE_TERMS.items():
            if term in words:
                return role
    return None


def _listed_after_another(document: str, span: Span, ends: set[int]) -> bool:
    return any(re.fullmatch(r"[\s,]*", document[end:span.start])
               for end in ends if span.start - 4 <= end <= span.start)


def assign_roles(document: str, occurrences: list[list[Span]]) -> dict[str, int]:
    """Role field -> index of the party (in `occurrences`, one list of spans per party) that
    the agreement defines in it; only complete pairs given to two different parties."""
    starts = sorted(s.start for spans in occurrences for s in spans)
    ends = {s.end for spans in occurrences for s in spans}
    given: dict[int, str] = {}
    for index, spans in enumerate(occurrences):
        for span in spans:
            if _listed_after_another(document, span, ends):
                continue  # "A, B, C (collectively the 'Company')": the role is the group's
            nxt = next((s for s in starts if s > span.start), len(document))
            window = document[span.end:min(span.end + _WINDOW, nxt)]
            opening = window.find("(")
            closing = window.find(")", opening + 1)
            if opening < 0 or closing < 0:
                continue
            role = _role_of(window[opening:closing + 1])
            if role is not None:
                given.setdefault(index, role)
                break
    by_role: dict[str, list[int]] = {}
    for index, role in given.items():
        by_role.setdefault(role, []).append(index)
    roles: dict[str, int] = {}
    for first, second in ROLE_PAIRS:
        a, b = by_role.get(first, []), by_role.get(second, [])
        if len(a) == 1 and len(b) == 1 and a != b:
            roles[first], roles[second] = a[0], b[0]
    return roles
