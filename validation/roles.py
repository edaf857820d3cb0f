"""Roles: a party extracted for a role is the one the document gives that role.

Agreements assign roles with defined terms right after a name ("Acme Corp., a Delaware
corporation (the “Disclosing Party”)", "John Smith (“Executive”)"); invoices and orders with
labels ("Bill to: ...", "Vendor: ..."). A field named after a role ("receiving_party",
"vendor", "customer", "bill_to"), or an item {"name": ..., "role": ...}, is checked against
those assignments: the value fails only when the document gives it the opposite role and never
the one asked for. A name the document assigns no role to is not judged.

E-mails and letters give the business side by its service desk: a name written with a service
mailbox ("Amara Conti <support@shop.example>") or signing with a service title ("Amara Conti,
Customer Care") speaks for the seller, so given as the customer it contradicts the document.

Which name a defined term belongs to: of the output's own names, the one that occurs last
before the term (after the previous defined term), within a short distance. Generic definitions
("each party, when it discloses, the “Disclosing Party”") name none of them and assign nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

from tierline.validation.base import Finding
from tierline.validation.doc_index import fold
from tierline.validation.name_spans import spans as name_spans
from tierline.validation.normalize import norm_text

ROLES = "roles"

# Words for each side of a relation; a field or label naming one is asking for that side.
_FAMILIES: dict[str, frozenset[str]] = {
    "disclosing": frozenset({"disclosing", "discloser"}),
    "receiving": frozenset({"receiving", "recipient"}),
    "seller": frozenset({"seller", "vendor", "supplier", "provider", "licensor", "contractor",
                         "consultant", "lieferant", "fournisseur", "vendeur", "verkaufer"}),
    "buyer": frozenset({"buyer", "customer", "client", "purchaser", "licensee", "billto",
                        "billedto", "invoiceto", "soldto", "kunde", "acheteur", "kaufer",
                        "rechnungsempfanger"}),
    "employer": frozenset({"employer"}),
    "employee": frozenset({"employee", "executive"}),
    "lender": frozenset({"lender"}),
    "borrower": frozenset({"borrower"}),
    "landlord": frozenset({"landlord", "lessor"}),
    "tenant": frozenset({"tenant", "lessee"}),
}
_OPPOSITE = {"disclosing": "receiving", "receiving": "disclosing", "seller": "buyer",
             "buyer": "seller", "employer": "employee", "employee": "employer",
             "lender": "borrower", "borrower": "lender", "landlord": "tenant",
             "tenant": "landlord"}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Defined terms in brackets: (the “Recipient”), ("Executive"), (hereinafter referred to as "X"),
# (“you” or the “Employee”): every quoted term of a short bracket.
_BRACKET = re.compile(r"\(([^()]{2,100})\)")
_QUOTED = re.compile(r"[\"“”]([^\"“”]{2,40})[\"“”]")
_LABEL = re.compile(r"^[ \t]*([^\W\d_][^\W_ ]*(?: [^\W_]+){0,3})[ \t]*:[ \t]*(.*)$",
                    re.MULTILINE)
_REACH = 300  # characters between a name and the defined term that follows it
# A label is only a role's when it is nothing but the role: "Vendor:", "Bill to:", "Customer:";
# not "Contractor Address:" or "Signature of Employee:".
_LABEL_WORDS = frozenset().union(*_FAMILIES.values(), {"bill", "billed", "invoice", "sold",
                                                      "to", "name", "party", "the"})
_NEXT_PARTY = re.compile(r"\b(?:and|between)\b", re.IGNORECASE)
# What follows a name on its line when it is the service desk's: its mailbox, or its title.
_SERVICE_MAILBOX = (r"(?:support|help|helpdesk|service|services|customerservice|customercare|care"
                    r"|kundenservice|kundendienst|sav|serviceclient)")
_SERVICE_TITLE = (r"(?:customer\s+(?:care|service|support|services)|support(?:\s+team)?"
                  r"|service\s+desk|kundenservice|kundendienst|service\s+client(?:s|èle)?)")
_SERVICE_DESK = re.compile(r"<[ \t]*" + _SERVICE_MAILBOX + r"[._-]?[\w.-]*@|[,|–-][ \t]*"
                          + _SERVICE_TITLE + r"\b", re.IGNORECASE)
_SERVICE_AFTER = re.compile(
    r"[ \t]*(?:" + _SERVICE_TITLE + r"[ \t]*)?<[ \t]*" + _SERVICE_MAILBOX + r"[._-]?[\w.-]*@"
    r"|[ \t]*[,|–-][ \t]*" + _SERVICE_TITLE + r"\b", re.IGNORECASE)


@lru_cache(maxsize=4096)  # field names, labels and role values: few, and repeated
def role_of(words: str) -> str | None:
    """The role family a field name, label or role value asks for, if it names exactly one."""
    # OCR digits inside words undone: "C1ient" is a client.
    tokens = [fold(t) for t in norm_text(_CAMEL.sub(" ", words.replace("_", " "))).split()]
    joined = {a + b for a, b in pairwise(tokens)}
    found = {family for family, names in _FAMILIES.items()
             if names & (set(tokens) | joined)}
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class Assignment:
    role: str
    at: int  # where the defined term or label is
    evidence: str
    label: bool  # a "Label: name" line rather than a defined term


@lru_cache(maxsize=256)
def assignments(document: str) -> tuple[Assignment, ...]:
    """Defined terms and labels of the document that name a role, in document order."""
    found: list[Assignment] = []
    for m in _BRACKET.finditer(document):
        terms = _QUOTED.findall(m.group(1))
        if not terms:
            continue
        # Every defined term bounds the next one's reach, roles or not ("the “Company”").
        roles = [r for r in (role_of(t) for t in terms) if r]
        found.append(Assignment(roles[0] if len(set(roles)) == 1 else "", m.start(),
                                m.group(0)[:60], label=False))
    for m in _LABEL.finditer(document):
        label = [fold(w) for w in norm_text(m.group(1)).split()]
        role = role_of(m.group(1)) if set(label) <= _LABEL_WORDS else None
        if role:
            found.append(Assignment(role, m.end(1), m.group(0).strip()[:60], label=True))
    return tuple(sorted(found, key=lambda a: a.at))


def _holder(document: str, assignment: Assignment, previous: int,
            spots: dict[str, list[tuple[int, int]]]) -> str | None:
    """The output name that occurs last before the assignment, within reach, with nothing
    between them that starts another party ("and", "between")."""
    best: tuple[int, int, str] | None = None
    for name, found in spots.items():
        before = [(s, e) for s, e in found if previous <= s and e <= assignment.at
                  and assignment.at - s <= _REACH]
        if before and (best is None or max(before)[0] > best[0]):
            start, end = max(before)
            best = (start, end, name)
    if best is None or _NEXT_PARTY.search(document, best[1], assignment.at):
        return None
    return best[2]


def _roles_given(document: str, names: Iterable[str]) -> dict[str, dict[str, str]]:
    """For each name, the roles the document gives it, with the evidence."""
    spots: dict[str, list[tuple[int, int]]] = {}
    for name in names:
        found = name_spans(name, document)
        if found is not None:
            spots[name] = found
    given: dict[str, dict[str, str]] = {name: {} for name in spots}
    for name, found in spots.items():
        for _, end in found:
            desk = _SERVICE_AFTER.match(document, end)
            if desk:
                given[name].setdefault("seller", f"written as the service desk's: "
                                                 f"{name[:30]}{desk.group(0).rstrip('@')[:30]}")
                break
    previous = 0
    for assignment in assignments(document):
        if not assignment.role:
            previous = assignment.at
            continue
        if assignment.label:
            # A label: its name is on the same line after it, or alone on the next line.
            line_end = document.find("\n", assignment.at)
            line_end = len(document) if line_end < 0 else line_end
            window = (assignment.at, line_end)
            if not document[assignment.at:line_end].strip(" \t:") and assignment.role in (
                    "seller", "buyer"):  # "Bill to:" above the address; not signature blocks
                after = document.find("\n", line_end + 1)
                window = (line_end, len(document) if after < 0 else after)
            for name, found in spots.items():
                if any(window[0] <= s < window[1] for s, _ in found):
                    given[name].setdefault(assignment.role, assignment.evidence)
            continue
        holder = _holder(document, assignment, previous, spots)
        if holder is not None:
            given[holder].setdefault(assignment.role, assignment.evidence)
        previous = assignment.at
    return given


def role_fields(value: Any) -> list[tuple[str, str]]:
    """(role family, name) pairs the output asserts: role-named string fields, and items
    carrying a name and a role."""
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            role = role_of(str(key))
            if role and isinstance(item, str) and item.strip():
                out.append((role, item))
            elif isinstance(item, list | dict):
                out += role_fields(item)
        name = value.get("name")
        role_value = value.get("role")
        if isinstance(name, str) and isinstance(role_value, str):
            role = role_of(role_value)
            if role:
                out.append((role, name))
    elif isinstance(value, list):
        for item in value:
            out += role_fields(item)
    return out


def check_roles(value: Any, document: str) -> Finding | None:
    """None when the output asserts no role; else whether each role holder is the document's."""
    pairs = role_fields(value)
    if not pairs or not (any(a.role for a in assignments(document))
                         or _SERVICE_DESK.search(document)):
        return None
    given = _roles_given(document, {name for _, name in pairs})
    problems = []
    for role, name in pairs:
        roles = given.get(name, {})
        opposite = _OPPOSITE[role]
        if opposite in roles and role not in roles:
            problems.append(f"{name[:40]!r} is given as {role}, but the document gives it the "
                            f"other side's role: {roles[opposite]!r}")
    if problems:
        return Finding(ROLES, False, "; ".join(problems[:3]))
    return Finding(ROLES, True, f"{len(pairs)} role holders not contradicted by the document")
