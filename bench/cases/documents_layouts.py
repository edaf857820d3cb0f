"""How documents from elsewhere write names, dates and money, and how scans damage them.

Locales (each: labels, date forms, money form):
- `us`: "July 3, 2026", "07/03/2026", "$1,234.56";
- `uk`: "3rd of July 2026", "3 July 2026", "03/07/2026", "£1,234.56";
- `de`: "03.07.2026", "3. Juli 2026", "1.234,56 €", German labels;
- `ch`: "03.07.2026", "1'234.56 CHF";
- `fr`: "03/07/2026", "3 juillet 2026", "1 234,56 €", French labels.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from decimal import Decimal

EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
DE_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
             "September", "Oktober", "November", "Dezember")
FR_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")

LOCALES = ("us", "uk", "de", "ch", "fr")
DATE_STYLES = {
    "us": ("month_day_year", "us_slash"),
    "uk": ("ordinal_of", "day_month_year", "uk_slash"),
    "de": ("dots", "de_long"),
    "ch": ("dots", "day_month_year"),
    "fr": ("uk_slash", "fr_long"),
}
CURRENCY = {"us": "USD", "uk": "GBP", "de": "EUR", "ch": "CHF", "fr": "EUR"}


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def render_date(date: dt.date, style: str) -> str:
    m = date.month - 1
    forms = {
        "iso": date.isoformat(),
        "month_day_year": f"{EN_MONTHS[m]} {date.day}, {date.year}",
        "us_slash": f"{date.month:02d}/{date.day:02d}/{date.year}",
        "ordinal_of": f"{_ordinal(date.day)} of {EN_MONTHS[m]} {date.year}",
        "day_month_year": f"{date.day} {EN_MONTHS[m]} {date.year}",
        "short": f"{date.day} {EN_MONTHS[m][:3]} {date.year}",
        "uk_slash": f"{date.day:02d}/{date.month:02d}/{date.year}",
        "dots": f"{date.day:02d}.{date.month:02d}.{date.year}",
        "de_long": f"{date.day}. {DE_MONTHS[m]} {date.year}",
        "fr_long": f"{date.day} {FR_MONTHS[m]} {date.year}",
    }
    return forms[style]


@dataclass(frozen=True)
class Money:
    value: Decimal
    locale: str
    symbol_first: bool = True

    @property
    def number(self) -> float:
        return float(self.value)

    @property
    def digits(self) -> str:
        """The amount without currency, as the locale groups it: 1,234.56 / 1.234,56 /
        1'234.56 / 1 234,56."""
        whole, cents = f"{self.value:.2f}".split(".")
        groups = f"{int(whole):,}"
        sep, dec = {"us": (",", "."), "uk": (",", "."), "de": (".", ","), "ch": ("'", "."),
                    "fr": ("\u202f", ",")}[self.locale]
        return groups.replace(",", sep) + dec + cents

    @property
    def printed(self) -> str:
        d = self.digits
        if self.locale == "us":
            return f"${d}"
        if self.locale == "uk":
            return f"£{d}"
        if self.locale == "ch":
            return f"CHF {d}" if self.symbol_first else f"{d} CHF"
        return f"{d} €"

    def with_value(self, value: Decimal) -> Money:
        return Money(value.quantize(Decimal("0.01")), self.locale, self.symbol_first)


def money(value: float | Decimal, locale: str, rng: random.Random) -> Money:
    return Money(Decimal(str(value)).quantize(Decimal("0.01")), locale, rng.random() < 0.5)


# --- names: vocabulary of this generator alone -------------------------------------------------

_COMPANY_HEADS = ("Halvorsen", "Quintero", "Obuya", "Lindqvist", "Tessaro", "Kowalczyk",
                  "Nakamura", "Adebayo", "Fairbairn", "Vasquez-Roe", "Brannigan", "Okonkwo",
                  "Sorensen", "Ferreira", "Takahashi", "Mbeki", "Dufresne", "Aalto", "Zeller",
                  "Petrov", "Castellano", "Greenhalgh", "Iversen", "Moreau", "Szabo", "Yilmaz")
_COMPANY_TRADES = ("Tools", "Logistics", "Dental Supply", "Textil", "Print Studio",
                   "Marine Services", "Bakery", "Solar", "Robotics", "Landscaping",
                   "Audio Works", "Ceramics", "Data Labs", "Cold Chain", "Optics", "Timber")
_LEGAL_FORMS = {"us": ("Inc.", "LLC", "Corp."), "uk": ("Ltd", "LLP", "plc"),
                "de": ("GmbH", "AG", "KG"), "ch": ("AG", "GmbH", "SA"),
                "fr": ("SARL", "SAS", "S.A.")}
_FIRST = ("Aiko", "Mirela", "Tomasz", "Ngozi", "Henrik", "Lucía", "Dmitri", "Fatima", "Oskar",
          "Priya", "Jonas", "Amara", "Giulia", "Kwame", "Sofie", "Rafael", "Yuki", "Ines")
_LAST = ("Tanaka", "Petrescu", "Wiśniewski", "Eze", "Lund", "Ortega", "Volkov", "Haddad",
         "Brandt", "Raman", "Berg", "Diallo", "Conti", "Asante", "Kjær", "Monteiro", "Sato",
         "Carvalho")
_STREETS = {"us": ("455 Mercer Avenue", "1200 Alder Street"),
            "uk": ("12 Wharf Road", "88 Tannery Lane"),
            "de": ("Hauptstraße 7", "Kastanienallee 52"),
            "ch": ("Bahnhofstrasse 21", "Rue du Rhône 40"),
            "fr": ("14 rue des Tanneurs", "3 place Bellecour")}
_CITIES = {"us": ("Portland, OR 97205", "Austin, TX 78701"), "uk": ("Leeds LS1 4DY",
           "Bristol BS1 5TR"), "de": ("10115 Berlin", "80331 München"),
           "ch": ("8001 Zürich", "1204 Genève"), "fr": ("69002 Lyon", "33000 Bordeaux")}


def company(locale: str, rng: random.Random) -> str:
    return (f"{rng.choice(_COMPANY_HEADS)} {rng.choice(_COMPANY_TRADES)} "
            f"{rng.choice(_LEGAL_FORMS[locale])}")


def person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def address(locale: str, rng: random.Random) -> str:
    return f"{rng.choice(_STREETS[locale])}\n{rng.choice(_CITIES[locale])}"


# --- scans -------------------------------------------------------------------------------------

_SLIPS = (("l", "1"), ("O", "0"), ("o", "0"), ("I", "l"), ("rn", "m"), ("S", "5"))


def ocr_slip(text: str, rng: random.Random, rate: float = 0.25) -> str:
    """Letters mistaken for digits (and back) inside words, as a scanner reads a thermal slip:
    "Tota1", "C0ffee", "lnvoice"; numbers are left alone (their slips are a wrong answer)."""

    def slip(m: re.Match[str]) -> str:
        word = m.group()
        if rng.random() > rate or len(word) < 4:
            return word
        for a, b in rng.sample(_SLIPS, len(_SLIPS)):
            if a in word[1:]:
                i = word.index(a, 1)
                return word[:i] + b + word[i + len(a):]
        return word

    return re.sub(r"[A-Za-zÀ-ÿ]{4,}", slip, text)


def table(rows: list[list[str]], widths: list[int]) -> str:
    """Fixed-width columns, text left and figures right, as a PDF's text layer gives them."""
    lines = []
    for row in rows:
        cells = [cell.ljust(w) if i == 0 else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
