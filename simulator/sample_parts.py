"""The vocabulary of the sample workload (`simulator.sample`): names, fillers, intents, and how
documents write dates and amounts, with the seeded helpers that pick them."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

EASY, MEDIUM, HARD = 0, 1, 2
LABELS = ["billing", "technical", "account", "cancellation", "other"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
NUMBER_WORDS = {7: "seven", 10: "ten", 14: "fourteen", 15: "fifteen", 30: "thirty",
                45: "forty-five", 60: "sixty", 90: "ninety", 120: "one hundred twenty"}
VENDORS = ["Acme Supplies GmbH", "Northwind Traders Ltd", "Globex Logistics SA",
           "Initech Services Inc.", "Umbrella Lab Equipment BV", "Stark Office Solutions",
           "Wayne Paper Co.", "Hooli Cloud Services", "Vandelay Industries", "Cyberdyne Parts AG"]
CUSTOMERS = ["Blue Harbor Foods", "Pinecrest Dental", "Orbit Analytics", "Maple & Stone LLP",
             "Riverside Clinic", "Kestrel Robotics"]
ITEMS = ["Printer paper A4", "Toner cartridge", "Consulting hours", "Cloud storage 1 TB",
         "Shipping", "Desk lamp", "USB-C cable", "Annual support plan", "Safety gloves",
         "Label roll", "Monitor stand", "Onboarding workshop"]
MERCHANTS = ["CORNER CAFE", "CITY PHARMACY", "FRESHMART", "METRO BOOKS", "QUICKFUEL"]
LAWS = ["the State of New York", "England and Wales", "the State of Delaware", "Germany",
        "the Netherlands", "Ireland"]
VENUES = ["London", "Amsterdam", "Wilmington", "Frankfurt", "Dublin"]
CITIES = ["Lisbon", "Toronto", "Singapore", "Austin", "Warsaw", "Melbourne"]
NAMES = ["Maria", "Tom", "Aisha", "Kenji", "Lena", "Omar", "Sofia", "Raj"]
CURRENCIES = {"EUR": "€", "USD": "$", "GBP": "£"}
# How documents word the lines that hold a plausible wrong value. Each is picked at random from
# its variants, written as invoices and contracts word them; nothing here is taken from (or
# given to) the validator, so the benchmark measures its checks on wording they were not built
# around.
WORDING = {
    "due": ["Due date", "Payment due", "Pay by", "Please pay before"],
    "po": ["Customer PO", "Your order ref", "Purchase order", "Order reference"],
    "bill_to": ["Bill to", "Invoice to", "Customer", "Sold to"],
    "carried": ["Previous balance", "Balance brought forward", "Outstanding from last statement",
                "Arrears"],
    "received": ["Amount paid", "Payment received", "Received with thanks", "Deposit"],
    "loyalty": ["LOYALTY POINTS BALANCE", "BONUS POINTS", "MEMBER STAMPS"],
    "returns": ["RETURNS ACCEPTED UNTIL", "EXCHANGE BY", "KEEP RECEIPT - REFUNDS TO"],
    "replaces": ["This Agreement supersedes the agreement between the parties dated {old}.",
                 "This Agreement replaces the earlier agreement of {old}.",
                 "The parties' letter of intent of {old} is hereby withdrawn."],
    "venue": ["The courts of {venue} shall have exclusive jurisdiction.",
              "Any dispute shall be heard in {venue}.",
              "Venue for all proceedings is {venue}."],
    "breach": ["Either party may terminate this Agreement for material breach if the breach is "
               "not cured within {n} days of notice.",
               "A party in breach has {n} days to remedy it before the other may end this "
               "Agreement.",
               "Failures to perform shall be corrected within {n} days of a written request."],
}
# The two sides of a services contract, as contracts name them (field names stay the same).
ROLE_NAMES = [("Supplier", "Customer"), ("Provider", "Client"), ("Vendor", "Purchaser"),
              ("Contractor", "Buyer")]
JUNK = ["~ ~ .. |", "=== ##### ===", "|  '  ;  .", "----- . -----", "[ scan ]  .. ,"]
FILLER = [
    "The parties shall cooperate in good faith in all matters relating to this Agreement.",
    "Headings are for convenience only and do not affect interpretation.",
    "Each party shall keep the other party's confidential information secret.",
    "No waiver of any provision shall be effective unless made in writing.",
    "Supplier shall maintain insurance with reputable insurers at its own cost.",
    "Notices shall be delivered by hand or by registered mail to the addresses above.",
    "Neither party may assign this Agreement without the other party's prior written consent.",
]
REPORT_FILLER = [
    "The team continued to focus on operational discipline and customer retention.",
    "Management reviewed the risk register and found no new material risks.",
    "Work on the new reporting platform progressed according to plan.",
    "Supplier negotiations are ongoing and are expected to conclude next quarter.",
    "Employee engagement remained stable according to the internal survey.",
]
# Phrases that carry a support email's intent; distractor sentences mention other topics loosely.
INTENTS = {
    "billing": ["I was charged twice for my {month} invoice and need a refund.",
                "Can you explain the extra fee on my last bill?"],
    "technical": ["The app crashes every time I upload a file.",
                  "I keep getting error 502 when I open the dashboard."],
    "account": ["Please change the email address on my account to {email}.",
                "I need to add a new user to our account."],
    "cancellation": ["I want to cancel my subscription at the end of this month.",
                     "We have decided not to renew and want to cancel the service."],
    "other": ["Do you have an office in {city}? We would like to visit.",
              "I just wanted to say thanks for the great service last week."],
}
ASIDES = {
    "billing": "Our finance team will look at the invoice later anyway.",
    "technical": "The app was a bit slow yesterday but that is not why I am writing.",
    "account": "My colleague also has an account with you.",
    "cancellation": "We considered other vendors last year but stayed.",
    "other": "By the way, your office in {city} looked lovely on your website.",
}


def pick_level(r: random.Random) -> int:
    x = r.random()
    return EASY if x < 0.62 else MEDIUM if x < 0.86 else HARD


def pick_date(r: random.Random) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=r.randint(0, 700))


def fmt_date(d: dt.date, style: str) -> str:
    """A date as documents write it: iso, long ("3 March 2025"), us ("March 3, 2025"), dotted."""
    if style == "long":
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if style == "us":
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    if style == "dotted":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    return d.isoformat()


def fmt_amount(x: float, eu: bool = False) -> str:
    """1234.5 -> "1,234.50", or "1.234,50" in the European convention."""
    s = f"{x:,.2f}"
    return s.translate(str.maketrans(",.", ".,")) if eu else s


def pick_date_style(r: random.Random, level: int) -> str:
    return "iso" if level == EASY else r.choice(["long", "us", "dotted", "iso"])


def ocr_label(r: random.Random, label: str, noisy: bool) -> str:
    """OCR damage for labels only: values stay readable, as on a decent scan."""
    if not noisy or r.random() < 0.5:
        return label
    swaps = {"l": "1", "o": "0", "O": "0", "S": "5", "I": "1"}
    return "".join(swaps[c] if c in swaps and r.random() < 0.4 else c for c in label)


def pick_money(r: random.Random, lo: float, hi: float) -> float:
    return round(r.uniform(lo, hi), 2)


def object_schema(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": sorted(props),
            "additionalProperties": False}


NUM = {"type": "number"}
STR = {"type": "string"}
DATE = {"type": "string", "format": "date"}
