"""The oracle: what a model that reads perfectly would answer, before capability degrades it.

`solve(parsed)` knows the sample workload's formats (invoices, receipts, contracts, support
emails, reports, word problems; see `simulator.sample`), answers documents its answer book knows
(real agreements, from their annotations: `answer_book`), and falls back to generic reading
("Key: value" lines, the first sentences) for anything else. Beside the answer it lists the
plausible wrong values the document offers (a due date next to the invoice date, a previous
balance next to the total): those are what a weaker model picks by mistake.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tierline.simulator import answer_book, solver_text
from tierline.simulator.prompt import (
    ParsedPrompt,
    Solution,
    find_amounts,
    find_dates,
    labeled,
    number_words,
    parse_amount,
)

FIELD_LABELS: dict[str, list[str]] = {
    "invoice_number": ["invoice no", "invoice number", "invoice #", "invoice nr"],
    "date": ["invoice date", "date of issue", "date"],
    "subtotal": ["subtotal", "net amount"],
    "tax": ["vat", "tax", "sales tax"],
    "total": ["total due", "amount due", "grand total", "total"],
    "vendor": ["vendor", "seller", "from"],
    "merchant": ["merchant", "store"],
}
_CODES = {"€": "EUR", "$": "USD", "£": "GBP"}


def _first_line(doc: str) -> str:
    return next((line.strip() for line in doc.splitlines() if line.strip()), "")


def _currency(doc: str) -> str | None:
    total = labeled(doc, FIELD_LABELS["total"])
    for text in ([total[0]] if total else []) + [doc]:
        code = re.search(r"\b(EUR|USD|GBP|CHF|JPY)\b", text)
        if code:
            return code.group(1)
        symbol = re.search(r"[€$£]", text)
        if symbol:
            return _CODES[symbol.group()]
    return None


def _amount_of(value: str | None) -> float | None:
    amounts = find_amounts(value or "")
    if amounts:
        return amounts[0]
    bare = re.search(r"\d+(?:[.,]\d+)?", value or "")
    return parse_amount(bare.group()) if bare else None


# The sample's contracts name their two sides in several ways; the fields stay "supplier" and
# "customer".
_SIDES = {"supplier": "seller", "customer": "buyer"}
_SIDE_WORDS = {"Supplier": "seller", "Provider": "seller", "Vendor": "seller",
               "Contractor": "seller", "Customer": "buyer", "Client": "buyer",
               "Purchaser": "buyer", "Buyer": "buyer"}


def _contract_sides(doc: str) -> dict[str, str]:
    sides: dict[str, str] = {}
    m = re.search(r'between (.+?) \("(\w+)"\) and (.+?) \("(\w+)"\)', doc)
    if m:
        for name, word in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
            if word in _SIDE_WORDS:
                sides[_SIDE_WORDS[word]] = name
    return sides


def _termination(doc: str) -> tuple[int | None, str | None, list[int], list[str]]:
    days, section, other_days, other_sections = None, None, [], []
    for m in re.finditer(r"^(\d+\.\d+) (.*)$", doc, re.MULTILINE):
        counts = [v for v, _ in number_words(m.group(2))]
        if "terminate this agreement for convenience" in m.group(2).lower() and counts:
            days, section = counts[0], f"Section {m.group(1)}"
        else:
            other_days += counts
            if "terminat" in m.group(2):
                other_sections.append(f"Section {m.group(1)}")
    return days, section, other_days, other_sections


def _field(name: str, prop: dict[str, Any], doc: str) -> tuple[Any, list[Any]]:
    """One schema property's value and its distractors."""
    dates = [iso for iso, _ in find_dates(doc)]
    kind = prop.get("type")
    if name in ("vendor", "merchant"):
        found = labeled(doc, FIELD_LABELS[name])
        own = found[0] if found else _first_line(doc)
        # Other names the document gives on a label line (no digits): the customer's, say.
        names = [m.group(1).strip() for m in re.finditer(r"^[A-Za-z][\w ]{1,20}: ([^\d\n]+)$",
                                                         doc, re.M)]
        return own, [n for n in dict.fromkeys(names) if n != own][:3]
    if name == "currency":
        code = _currency(doc)
        return code, [c for c in ("EUR", "USD", "GBP") if c != code]
    if name == "line_items":
        rows = [line for line in doc.splitlines() if line.count(" | ") >= 2]
        count = max(0, len(rows) - 1)
        return count, [count + 1, count - 1] if count else []
    if name == "payment_method":
        method = "cash" if re.search(r"^CASH\b", doc, re.M | re.I) else "card"
        return method, ["card" if method == "cash" else "cash"]
    if name == "parties":
        m = re.search(r'between (.+?) \("\w+"\) and (.+?) \("\w+"\)', doc)
        return ([m.group(1), m.group(2)] if m else None), ([[m.group(2), m.group(1)]] if m else [])
    if name in _SIDES:
        sides = _contract_sides(doc)
        other = [v for k, v in sides.items() if k != _SIDES[name]]
        return sides.get(_SIDES[name]), other
    if name == "effective_date":
        m = re.search(r'as of (.+?) \(the "Effective Date"\)', doc)
        stated = find_dates(m.group(1)) if m else []
        iso = stated[0][0] if stated else (dates[0] if dates else None)
        return iso, [d for d in dates if d != iso]
    if name == "governing_law":
        m = re.search(r"governed by (?:and construed in accordance with )?the laws of (.+?)\.", doc)
        law = m.group(1) if m else None
        # Other places the same section names: where disputes go, as a reader might confuse.
        heading = re.search(r"^(\d+)\.\d+ .*governed by", doc, re.M)
        places = [w for line in re.findall(rf"^{heading.group(1)}\.\d+ (.*)$", doc, re.M)
                  for w in re.findall(r"\b(?:of|in|is) ([A-Z][a-z]+)\b", line)
                  if law is None or w not in law] if heading else []
        return law, list(dict.fromkeys(places))
    if name in ("termination_notice_days", "termination_section"):
        days, section, other_days, other_sections = _termination(doc)
        if name == "termination_notice_days":
            return days, [d for d in other_days if d != days]
        return section, other_sections
    found = labeled(doc, FIELD_LABELS.get(name, [name.replace("_", " ")]))
    if prop.get("format") == "date" or name.endswith("date"):
        if found:
            parsed = find_dates(found[0])
            iso = parsed[0][0] if parsed else None
        else:  # receipts print the date first, unlabelled
            iso = dates[0] if dates else None
        return iso, [d for d in dates if d != iso]
    if kind in ("number", "integer"):
        amount = _amount_of(found[0]) if found else None
        number: float | int | None = amount
        if amount is not None and kind == "integer":
            number = int(amount)
        return number, [a for a in dict.fromkeys(find_amounts(doc)) if a != number][:8]
    ids = re.findall(r"\b[A-Z]{2,}-\d+\b", doc)
    if found:
        return found[0], [v for v in ids if v != found[0]]
    if ids and name.endswith(("number", "id", "ref", "reference")):
        # An unlabelled identifier ("Invoice INV-77 from ..."): the first one is the document's.
        return ids[0], ids[1:]
    return None, []


def solve_extract(parsed: ParsedPrompt) -> Solution:
    props: dict[str, Any] = (parsed.schema or {}).get("properties", {})
    known = answer_book.lookup(parsed.document)
    if known is not None and props and set(props) <= set(known.answer):
        answer = {name: known.answer[name] for name in props}
        return Solution(json.dumps(answer, ensure_ascii=False), answer, confident=True,
                        distractors={n: list(known.distractors.get(n, [])) for n in props},
                        scripted=known.scripted)
    value: dict[str, Any] = {}
    distractors: dict[str, list[Any]] = {}
    for name, prop in props.items():
        value[name], distractors[name] = _field(name, prop if isinstance(prop, dict) else {},
                                                parsed.document)
    missing = sum(v is None for v in value.values())
    return Solution(json.dumps(value, ensure_ascii=False), value,
                    confident=bool(props) and missing <= len(props) // 3, distractors=distractors)


def solve(parsed: ParsedPrompt) -> Solution:
    """The right answer to the job in `parsed`, as a strong model would write it."""
    if parsed.task == "extract":
        return solve_extract(parsed)
    handlers = {"classify": solver_text.solve_classify, "answer": solver_text.solve_answer,
                "summarize": solver_text.solve_summarize, "math": solver_text.solve_math,
                "code": solver_text.solve_code}
    return handlers.get(parsed.task, solver_text.solve_chat)(parsed)
