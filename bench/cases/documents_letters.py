"""Service contracts and support e-mails (see `documents_kinds.Doc` for what each returns)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from bench.cases import documents_layouts as lay
from bench.cases.documents_kinds import Doc, amount, string

_ROLE_WORDS = (("Provider", "Customer"), ("Supplier", "Client"), ("Service Provider", "Client"),
               ("Licensor", "Licensee"), ("Contractor", "Principal"))
_LAW = {"us": (["the State of New York", "the State of Delaware"], ["New York", "Delaware"]),
        "uk": (["England and Wales"], ["England and Wales"]),
        "de": (["the Federal Republic of Germany"], ["Germany"]),
        "ch": (["Switzerland"], ["Switzerland"]),
        "fr": (["France"], ["France"])}
_NUMBER_WORDS = {6: "six", 12: "twelve", 18: "eighteen", 24: "twenty-four", 36: "thirty-six",
                 1: "one", 2: "two", 3: "three", 5: "five"}
_SERVICES = ("cloud hosting and monitoring of the Client's booking platform",
             "maintenance of refrigeration units at the Client's sites",
             "translation and localisation of product documentation",
             "payroll processing for up to 250 employees",
             "on-call repair of production robots")


def term_text(number: int, unit: str, words: bool) -> str:
    plural = unit + ("s" if number != 1 else "")
    return f"{_NUMBER_WORDS[number]} ({number}) {plural}" if words else f"{number} {plural}"


def contract(rng: random.Random, locale: str) -> Doc:
    provider_word, customer_word = rng.choice(_ROLE_WORDS)
    provider, customer = lay.company(locale, rng), lay.company(locale, rng)
    while customer.split()[0] == provider.split()[0]:
        customer = lay.company(locale, rng)
    style = rng.choice(lay.DATE_STYLES[locale] + ("ordinal_of",))
    effective = dt.date(2026, rng.randint(1, 12), rng.randint(1, 28))
    signed = effective - dt.timedelta(days=rng.randint(2, 20))
    number, unit = rng.choice(((12, "month"), (24, "month"), (36, "month"), (18, "month"),
                               (1, "year"), (2, "year"), (3, "year"), (5, "year")))
    words = rng.random() < 0.6
    m = lay.money(0, locale, rng)
    fee = m.with_value(Decimal(rng.randint(800, 25000)) + Decimal(rng.choice((0, 50, 99))) / 100)
    setup = m.with_value(Decimal(rng.randint(5, 60)) * 100)
    cap = m.with_value(fee.value * 12)
    law_text, law_norm = _LAW[locale]
    law_i = rng.randrange(len(law_text))
    provider_shown = provider.upper() if rng.random() < 0.5 else provider
    # A long name is broken over a line in the preamble, as a PDF's text layer breaks it.
    broken = provider_shown.replace(" ", "\n", 1) if rng.random() < 0.3 else provider_shown
    title = rng.choice(("MASTER SERVICES AGREEMENT", "Service Agreement", "SUPPORT CONTRACT"))
    dispute = rng.choice((f"Disputes are decided by arbitration seated in "
                          f"{rng.choice(('Geneva', 'London', 'Stockholm'))}.",
                          "Each party submits to the exclusive jurisdiction of the competent "
                          "tribunals at the registered seat of the defendant."))
    text = "\n".join([
        title, "",
        f"This agreement (the \"Agreement\") is made on {lay.render_date(effective, style)} "
        f"(the \"Effective Date\") between",
        f"{broken}, {lay.address(locale, rng).replace(chr(10), ', ')} (the \"{provider_word}\"),",
        "and",
        f"{customer}, {lay.address(locale, rng).replace(chr(10), ', ')} "
        f"(the \"{customer_word}\").", "",
        f"1. Services. The {provider_word} provides {rng.choice(_SERVICES)}.",
        f"2. Duration. The Agreement starts on the Effective Date and runs for "
        f"{term_text(number, unit, words)}; it renews for further periods of twelve months "
        f"unless either party gives three months' notice.",
        f"3. Fees. The {customer_word} pays a one-off onboarding fee of {setup.printed} and a "
        f"monthly fee of {fee.printed}, excluding VAT, within 30 days of each invoice.",
        f"4. Liability. Each party's liability is capped at {cap.printed} per contract year.",
        f"5. Law. This Agreement is governed by the laws of {law_text[law_i]}. {dispute}", "",
        f"Signed on {lay.render_date(signed, style)}.",
        f"For the {provider_word}: {provider.upper()}    For the {customer_word}: "
        f"{customer.upper()}",
        f"Name: {lay.person(rng)}    Name: {lay.person(rng)}",
    ]) + "\n"
    schema = {"type": "object", "properties": {
        "provider": string("the party that provides the services"),
        "customer": string("the party that receives and pays for the services"),
        "effective_date": string("the date the agreement takes effect"),
        "term": string("the initial duration of the agreement, e.g. '2 years'"),
        "monthly_fee": amount("the recurring monthly fee"),
        "governing_law": string("the law that governs the agreement"),
    }, "required": ["provider", "customer", "effective_date", "term", "monthly_fee",
                    "governing_law"]}
    printed = {"provider": provider_shown, "customer": customer,
               "effective_date": lay.render_date(effective, style),
               "term": term_text(number, unit, words),
               "monthly_fee": rng.choice((fee.printed, fee.digits)),
               "governing_law": law_text[law_i]}
    normalised = printed | {"provider": provider,
                            "effective_date": effective.isoformat(),
                            "term": term_text(number, unit, False),
                            "monthly_fee": fee.number, "governing_law": law_norm[law_i]}
    features = [locale, style, "term_words" if words else "term_digits"]
    if broken != provider_shown:
        features.append("line_break")
    return Doc("contract", locale, text, schema, printed, normalised,
               dates={"effective_date": (effective, style)},
               amounts={"monthly_fee": fee},
               other_dates={"effective_date": [("signature date", signed)]},
               other_amounts={"monthly_fee": [("onboarding fee", setup), ("liability cap", cap)]},
               name_fields=("provider", "customer"), roles=("provider", "customer"),
               terms={"term": (number, unit, "words" if words else "digits")},
               features=features)


_PRODUCTS = ("cordless drill set", "standing desk frame", "espresso grinder", "rain jacket",
             "set of ceramic bowls", "bike child seat", "label printer")
_REQUESTS = {"refund": "I would like my money back, please.",
             "replacement": "Could you send me a replacement?",
             "repair": "Can you repair it under warranty?"}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _mail_date(day: dt.date, rng: random.Random) -> str:
    return (f"{_WEEKDAYS[day.weekday()]}, {day.day} {lay.EN_MONTHS[day.month - 1][:3]} "
            f"{day.year} {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
            f" +0{rng.choice((0, 1, 2))}00")


def support_email(rng: random.Random, locale: str) -> Doc:
    customer, agent = lay.person(rng), lay.person(rng)
    while agent.split()[1] == customer.split()[1]:
        agent = lay.person(rng)
    shop = lay.company(locale, rng)
    ordered = dt.date(2026, rng.randint(1, 11), rng.randint(1, 28))
    sent = ordered + dt.timedelta(days=rng.randint(3, 12))
    replied = sent - dt.timedelta(days=1)
    style = rng.choice(lay.DATE_STYLES[locale])
    order = f"{shop.split()[0][:2].upper()}-{rng.randint(10000, 99999)}"
    m = lay.money(0, locale, rng)
    shipping = m.with_value(Decimal(rng.choice((490, 590, 990, 1290))) / 100)
    paid = m.with_value(Decimal(rng.randint(2500, 60000)) / 100 + shipping.value)
    request = rng.choice(tuple(_REQUESTS))
    product = rng.choice(_PRODUCTS)
    domain = shop.split()[0].lower().replace("-", "")
    first = customer.split()[0]
    text = "\n".join([
        f"From: {customer} <{first.lower()}@mailbox.example>",
        f"To: {shop} Support <help@{domain}.example>",
        f"Date: {_mail_date(sent, rng)}",
        f"Subject: Re: order {order} - {product} arrived damaged", "",
        f"Hi {agent.split()[0]},", "",
        f"thanks for getting back to me. As I wrote, I ordered the {product} on "
        f"{lay.render_date(ordered, style)} (order {order}) and paid {paid.printed}, "
        f"of which {shipping.printed} was shipping.",
        "When the parcel came the casing was cracked and one part is missing.",
        _REQUESTS[request], "", "Best regards,", customer, "",
        f"> On {lay.render_date(replied, 'short')}, {agent} <support@{domain}.example> wrote:",
        "> Dear customer, we are sorry to hear about the problem. Could you tell us",
        "> your order number and what you would like us to do?",
        f"> {agent}, Customer Care, {shop}",
    ]) + "\n"
    schema = {"type": "object", "properties": {
        "customer_name": string("the customer who wrote the e-mail"),
        "order_number": string("the customer's order number"),
        "order_date": string("the date the order was placed"),
        "amount_paid": amount("what the customer paid for the order, shipping included"),
        "request": {"enum": sorted(_REQUESTS), "description": "what the customer asks for"},
    }, "required": ["customer_name", "order_number", "order_date", "amount_paid", "request"]}
    printed = {"customer_name": customer, "order_number": order,
               "order_date": lay.render_date(ordered, style),
               "amount_paid": rng.choice((paid.printed, paid.digits)), "request": request}
    normalised = printed | {"order_date": ordered.isoformat(), "amount_paid": paid.number}
    return Doc("email", locale, text, schema, printed, normalised,
               dates={"order_date": (ordered, style)}, amounts={"amount_paid": paid},
               other_dates={"order_date": [("date the e-mail was sent", sent),
                                           ("date of the reply", replied)]},
               other_amounts={"amount_paid": [("shipping", shipping)]},
               name_fields=("customer_name",), codes=("order_number",),
               other_names={"customer_name": [("support agent", agent)]},
               features=[locale, style])
