"""Invoices and receipts: each generator returns the document, its schema, the right answer as
the document words it and normalised, and what a wrong answer can be made of (the other dates
and amounts the document prints, the names it holds, which fields are roles)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.cases import documents_layouts as lay


@dataclass
class Doc:
    kind: str
    locale: str
    text: str
    schema: dict[str, Any]
    printed: dict[str, Any]
    normalised: dict[str, Any]
    # field -> (date, style it is printed in)
    dates: dict[str, tuple[dt.date, str]] = field(default_factory=dict)
    amounts: dict[str, lay.Money] = field(default_factory=dict)
    # other lines a careless reading takes instead: field -> [(what, value)]
    other_dates: dict[str, list[tuple[str, dt.date]]] = field(default_factory=dict)
    other_amounts: dict[str, list[tuple[str, lay.Money]]] = field(default_factory=dict)
    name_fields: tuple[str, ...] = ()
    # other people or firms the document names, a careless reading's answer: field -> [(who, name)]
    other_names: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    roles: tuple[str, str] | None = None
    codes: tuple[str, ...] = ()
    # field -> (number, unit, style "words" or "digits")
    terms: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)


def string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def amount(description: str) -> dict[str, Any]:
    return {"type": ["number", "string"], "description": description}


_INVOICE_LABELS: dict[str, dict[str, Any]] = {
    "us": dict(title="INVOICE", number="Invoice #", issue="Invoice date", due="Payment due",
               bill="Bill to", sub="Subtotal", tax="Sales tax ({rate})", total="Total",
               terms="Terms: Net {days}", prev="Previous balance", delivery="Ship date",
               cols=("Description", "Qty", "Unit price", "Amount")),
    "uk": dict(title="Invoice", number="Invoice No.", issue="Date of issue", due="Payment due",
               bill="Invoice to", sub="Net amount", tax="VAT @ {rate}", total="Invoice total",
               terms="Payment terms: {days} days net", prev="Balance brought forward",
               delivery="Delivered", cols=("Item", "Qty", "Price", "Line total")),
    "de": dict(title="RECHNUNG", number="Rechnungsnummer", issue="Rechnungsdatum",
               due="Zahlbar bis", bill="Rechnungsempfänger", sub="Zwischensumme",
               tax="MwSt. {rate}", total="Gesamtbetrag", terms="Zahlungsziel: {days} Tage netto",
               prev="Offener Saldo Vormonat", delivery="Lieferdatum",
               cols=("Bezeichnung", "Menge", "Einzelpreis", "Betrag")),
    "ch": dict(title="INVOICE", number="Invoice no.", issue="Invoice date", due="Due date",
               bill="Customer", sub="Subtotal", tax="VAT {rate}", total="Total",
               terms="Payable within {days} days", prev="Outstanding from last statement",
               delivery="Delivery date", cols=("Article", "Qty", "Unit", "Amount")),
    "fr": dict(title="FACTURE", number="Facture n°", issue="Date de facturation",
               due="Échéance", bill="Client", sub="Total HT", tax="TVA {rate}",
               total="Total TTC", terms="Conditions : paiement à {days} jours",
               prev="Solde antérieur", delivery="Date de livraison",
               cols=("Désignation", "Qté", "P.U.", "Montant")),
}
_TAX = {"us": Decimal("0.0825"), "uk": Decimal("0.20"), "de": Decimal("0.19"),
        "ch": Decimal("0.081"), "fr": Decimal("0.20")}
_GOODS = ("Hydraulic hose 3/8in", "Oak floor panels", "Label printer ribbon", "Service call",
          "Thermal paper rolls", "Stainless hinge set", "Design hours", "Calibration kit",
          "LED panel 60x60", "Courier surcharge", "Espresso beans 1kg", "Safety gloves L")


def _rate_text(locale: str) -> str:
    pct = f"{_TAX[locale] * 100:.2f}".rstrip("0").rstrip(".")
    return f"{pct.replace('.', ',')} %" if locale in ("de", "fr") else f"{pct}%"


def _tax_id(locale: str, rng: random.Random) -> str:
    n = rng.randint(10**8, 10**9 - 1)
    return {"us": f"EIN {str(n)[:2]}-{str(n)[2:]}", "uk": f"VAT Reg. GB {n}",
            "de": f"USt-IdNr. DE{n}", "ch": f"UID CHE-{str(n)[:3]}.{str(n)[3:6]}.{str(n)[6:]}",
            "fr": f"SIRET {n}{rng.randint(10000, 99999)}"}[locale]


def _items(locale: str, rng: random.Random) -> tuple[list[list[str]], Decimal]:
    rows, subtotal = [], Decimal(0)
    for name in rng.sample(_GOODS, rng.randint(2, 5)):
        qty = rng.randint(1, 12)
        unit = Decimal(rng.randint(250, 48000)) / 100
        line = unit * qty
        subtotal += line
        rows.append([name, str(qty), lay.Money(unit, locale).digits,
                     lay.Money(line, locale).digits])
    return rows, subtotal


def _scanned_labels(labels: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The labels as a scan reads them ("lnvoice date", "Tota1"); the values stay intact."""
    out: dict[str, Any] = {}
    for key, label in labels.items():
        if isinstance(label, tuple):
            out[key] = tuple(lay.ocr_slip(cell, rng, 0.4) for cell in label)
            continue
        slipped = lay.ocr_slip(label, rng, 0.4)
        # a placeholder ("{days}") must survive for the value to be filled in
        out[key] = slipped if slipped.count("{") == label.count("{") and all(
            p in slipped for p in ("{rate}", "{days}") if p in label) else label
    return out


def invoice(rng: random.Random, locale: str) -> Doc:
    scanned = rng.random() < 0.3
    L = _scanned_labels(_INVOICE_LABELS[locale], rng) if scanned else _INVOICE_LABELS[locale]
    vendor, customer = lay.company(locale, rng), rng.choice(
        (lay.company(locale, rng), lay.person(rng)))
    while customer == vendor:
        customer = lay.person(rng)
    number = f"{rng.choice(('INV-', 'RE', 'F', '2026/'))}{rng.randint(1000, 99999)}"
    issue = dt.date(2026, rng.randint(1, 12), rng.randint(1, 28))
    days = rng.choice((14, 21, 30, 45, 60))
    due = issue + dt.timedelta(days=days)
    style = rng.choice(lay.DATE_STYLES[locale])
    rows, subtotal = _items(locale, rng)
    tax = (subtotal * _TAX[locale]).quantize(Decimal("0.01"))
    m = lay.money(0, locale, rng)
    sub_m, tax_m, total_m = m.with_value(subtotal), m.with_value(tax), m.with_value(subtotal + tax)
    width = [24, 5, 12, 14]
    body = lay.table([list(L["cols"]), *rows], width)
    totals = lay.table([[L["sub"], "", "", sub_m.digits],
                        [L["tax"].format(rate=_rate_text(locale)), "", "", tax_m.digits],
                        [L["total"], "", "", total_m.printed]], width)
    header = [f"{L['number']}: {number}", f"{L['issue']}: {lay.render_date(issue, style)}"]
    other_dates: list[tuple[str, dt.date]] = [("issue date", issue)]
    if rng.random() < 0.5:
        delivery = issue - dt.timedelta(days=rng.randint(1, 6))
        header.append(f"{L['delivery']}: {lay.render_date(delivery, style)}")
        other_dates.append(("delivery date", delivery))
    header.append(f"{L['due']}: {lay.render_date(due, style)}")
    rng.shuffle(header)  # the due date is not always last, nor next to the issue date
    others = [("subtotal", sub_m), ("tax", tax_m)]
    summary = ""
    if rng.random() < 0.5:
        prev = m.with_value(Decimal(rng.randint(1000, 90000)) / 100)
        summary = f"{L['prev']}: {prev.printed}"
        others.append(("previous balance", prev))
    shown_vendor = vendor.upper() if rng.random() < 0.4 else vendor
    bill = f"{L['bill']}:\n{customer}\n{lay.address(locale, rng)}"
    letterhead = f"{shown_vendor}\n{lay.address(locale, rng)}"
    layout = rng.choice(("letterhead", "footer"))
    parts = ([letterhead, L["title"], bill] if layout == "letterhead"
             else [L["title"], bill])
    parts += ["\n".join(header), body, totals, L["terms"].format(days=days)]
    if summary:  # an account statement under the invoice: what was owed before it
        parts.insert(len(parts) - 1, summary)
    if layout == "footer":
        parts.append(f"{shown_vendor} · {lay.address(locale, rng).replace(chr(10), ', ')}"
                     f" · {_tax_id(locale, rng)}")
    text = "\n\n".join(parts) + "\n"
    schema = {"type": "object", "properties": {
        "invoice_number": string("the invoice's number"),
        "vendor": string("who issued the invoice and is to be paid"),
        "customer": string("who the invoice is addressed to (bill-to)"),
        "issue_date": string("the date the invoice was issued"),
        "due_date": string("the date payment is due"),
        "total": amount("the invoice total, tax included (not earlier balances)"),
    }, "required": ["invoice_number", "vendor", "customer", "issue_date", "due_date", "total"]}
    total_printed = rng.choice((total_m.printed, total_m.digits))
    printed = {"invoice_number": number, "vendor": shown_vendor, "customer": customer,
               "issue_date": lay.render_date(issue, style),
               "due_date": lay.render_date(due, style), "total": total_printed}
    normalised = printed | {"vendor": vendor, "issue_date": issue.isoformat(),
                            "due_date": due.isoformat(), "total": total_m.number}
    return Doc("invoice", locale, text, schema, printed, normalised,
               dates={"issue_date": (issue, style), "due_date": (due, style)},
               amounts={"total": total_m},
               other_dates={"due_date": other_dates},
               other_amounts={"total": others},
               name_fields=("vendor", "customer"), roles=("vendor", "customer"),
               codes=("invoice_number",),
               features=[locale, layout, style, *(["ocr"] if scanned else [])])


_RECEIPT_LINES = ("Flat white", "Croissant", "Sparkling water", "Club sandwich", "Parking 2h",
                  "Notebook A5", "Batteries AA x4", "Bus ticket", "Green tea", "Bagel")


def receipt(rng: random.Random, locale: str) -> Doc:
    merchant = lay.company(locale, rng).upper()
    style = rng.choice(("dots", "uk_slash", "us_slash", "short"))
    day = dt.date(2026, rng.randint(1, 12), rng.randint(1, 28))
    m = lay.money(0, locale, rng)
    rows, subtotal = [], Decimal(0)
    for name in rng.sample(_RECEIPT_LINES, rng.randint(2, 5)):
        price = Decimal(rng.randint(120, 2400)) / 100
        subtotal += price
        rows.append([name, "", "", m.with_value(price).digits])
    tip = Decimal(rng.choice((0, 0, 150, 200, 350))) / 100 if locale == "us" else Decimal(0)
    total = subtotal + tip
    tax = (total * _TAX[locale] / (1 + _TAX[locale])).quantize(Decimal("0.01"))
    width = [22, 1, 1, 10]
    lines = [[ln[0], "", "", ln[3]] for ln in rows]
    lines.append(["SUBTOTAL", "", "", m.with_value(subtotal).digits])
    others: list[tuple[str, lay.Money]] = []
    if tip:
        lines.append(["TIP", "", "", m.with_value(tip).digits])
        others.append(("subtotal", m.with_value(subtotal)))
    lines.append(["TOTAL", "", "", m.with_value(total).printed])
    lines.append([f"incl. tax {_rate_text(locale)}", "", "", m.with_value(tax).digits])
    others.append(("tax", m.with_value(tax)))
    paid_cash = rng.random() < 0.5
    if paid_cash:
        tendered = (total // 10 + 1) * 10
        lines += [["CASH", "", "", m.with_value(tendered).digits],
                  ["CHANGE", "", "", m.with_value(tendered - total).digits]]
        others.append(("cash tendered", m.with_value(tendered)))
    else:
        lines.append([f"CARD ****{rng.randint(1000, 9999)}", "", "", m.with_value(total).digits])
    # A scan: letters inside words misread, the merchant's name broken over two lines.
    items = lay.ocr_slip(lay.table(lines, width), rng, rate=0.35)
    words = merchant.split()
    cut = rng.randint(1, len(words) - 1)
    head = " ".join(words[:cut]) + "\n" + " ".join(words[cut:])
    when = f"{lay.render_date(day, style)}  {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}"
    text = "\n".join([head, lay.ocr_slip(lay.address(locale, rng), rng),
                      f"Te1 {rng.randint(100, 999)} {rng.randint(1000, 9999)}", when,
                      f"Rcpt {rng.randint(100, 9999):04d}  Till {rng.randint(1, 6)}",
                      "-" * 36, items, "-" * 36,
                      lay.ocr_slip("Thank you for your visit", rng, 0.5)]) + "\n"
    schema = {"type": "object", "properties": {
        "merchant": string("the shop or business that issued the receipt"),
        "date": string("the date of the purchase"),
        "total": amount("the total paid"),
        "payment_method": {"enum": ["cash", "card"], "description": "how it was paid"},
    }, "required": ["merchant", "date", "total", "payment_method"]}
    total_m = m.with_value(total)
    printed = {"merchant": merchant, "date": lay.render_date(day, style),
               "total": rng.choice((total_m.printed, total_m.digits)),
               "payment_method": "cash" if paid_cash else "card"}
    normalised = printed | {"date": day.isoformat(), "total": total_m.number}
    return Doc("receipt", locale, text, schema, printed, normalised,
               dates={"date": (day, style)}, amounts={"total": total_m},
               other_amounts={"total": others}, name_fields=("merchant",),
               features=[locale, style, "ocr", "line_break"])

