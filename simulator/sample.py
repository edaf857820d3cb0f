"""A deterministic workload of document-processing jobs with known answers, mostly easy.

`generate(n, seed)` yields job dicts (as `JobSpec.model_validate` takes them);
`with_answers(n, seed)` also gives their answer key (`simulator.answer_key`): each job's ground
truth by its key, never inside the job. Difficulty is real, not a label: hard jobs are longer,
carry OCR-like noise, distractor numbers and dates next to the right ones (a balance carried
forward, a payment date, an earlier agreement's date, each worded in one of several ways),
European number formats and dates written out in words. Contracts name their two sides with
varying role words. Job `i` depends only on `(seed, i)`, so `generate(10)` is a prefix of
`generate(1000)`. `matches_reference(job, reference, text)` scores a raw model output against
the job's answer.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

from tierline.simulator.answer_key import AnswerKey
from tierline.simulator.sample_parts import (
    ASIDES,
    CITIES,
    CURRENCIES,
    CUSTOMERS,
    DATE,
    EASY,
    FILLER,
    HARD,
    INTENTS,
    ITEMS,
    JUNK,
    LABELS,
    LAWS,
    MEDIUM,
    MERCHANTS,
    MONTHS,
    NAMES,
    NUM,
    NUMBER_WORDS,
    REPORT_FILLER,
    ROLE_NAMES,
    STR,
    VENDORS,
    VENUES,
    WORDING,
    fmt_amount,
    fmt_date,
    object_schema,
    ocr_label,
    pick_date,
    pick_date_style,
    pick_level,
    pick_money,
)

JobDict = dict[str, Any]


def invoice(r: random.Random, level: int) -> JobDict:
    vendor, cur = r.choice(VENDORS), r.choice(list(CURRENCIES))
    eu = level > EASY and cur == "EUR" and r.random() < 0.7
    noisy = level == HARD and r.random() < 0.7
    style, issued = pick_date_style(r, level), pick_date(r)
    number = r.choice(["INV-{y}-{n:04d}", "A/{y}/{n}", "{n:06d}"]).format(
        y=issued.year, n=r.randint(1, 9999))
    items = [(r.choice(ITEMS), r.randint(1, 12), pick_money(r, 2, 400))
             for _ in range(r.randint(1, 3 if level == EASY else 9))]
    subtotal = round(sum(q * p for _, q, p in items), 2)
    rate = r.choice([0, 7, 10, 19, 20])
    tax = round(subtotal * rate / 100, 2)
    total = round(subtotal + tax, 2)

    def a(x: float) -> str:
        return fmt_amount(x, eu)

    def lab(label: str) -> str:
        return ocr_label(r, label, noisy)

    lines = [vendor, f"{r.randint(1, 200)} Market Street", "", "INVOICE",
             f"{lab(r.choice(['Invoice No', 'Invoice number', 'Invoice #']))}: {number}",
             f"{lab('Invoice date')}: {fmt_date(issued, style)}"]
    if level > EASY:
        due = issued + dt.timedelta(days=30)
        lines.append(f"{lab(r.choice(WORDING['due']))}: {fmt_date(due, style)}")
        lines.append(f"{lab(r.choice(WORDING['po']))}: PO-{r.randint(10000, 99999)}")
    lines += [f"{r.choice(WORDING['bill_to'])}: {r.choice(CUSTOMERS)}", "",
              "Description | Qty | Unit price | Amount"]
    lines += [f"{d} | {q} | {a(p)} | {a(q * p)}" for d, q, p in items]
    if noisy:
        lines.insert(r.randint(4, len(lines)), r.choice(JUNK))
    lines += ["", f"{lab('Subtotal')}: {a(subtotal)}", f"{lab('VAT')} {rate}%: {a(tax)}"]
    if level > EASY:
        lines.append(f"{lab(r.choice(WORDING['carried']))}: {a(pick_money(r, 10, 3000))}")
    lines.append(f"{lab(r.choice(['Total due', 'Total', 'Amount due']))}: {cur} {a(total)}")
    if level == HARD:
        lines.append(f"{lab(r.choice(WORDING['received']))}: {a(pick_money(r, 0, total))}")
        lines += ["", "Payment terms: net 30 days. Late payments incur 1.5% interest per month.",
                  "Thank you for your business!"]
    schema = object_schema({"vendor": STR, "invoice_number": STR, "date": DATE,
                            "currency": STR, "subtotal": NUM, "tax": NUM, "total": NUM,
                            "line_items": {"type": "integer"}})
    ref = {"vendor": vendor, "invoice_number": number, "date": issued.isoformat(),
           "currency": cur, "subtotal": subtotal, "tax": tax, "total": total,
           "line_items": len(items)}
    return {"task": "extract", "document": "\n".join(lines), "schema": schema, "reference": ref,
            "feature": "ap-invoices", "query_type": "invoice"}


def receipt(r: random.Random, level: int) -> JobDict:
    merchant, cur = r.choice(MERCHANTS), r.choice(list(CURRENCIES))
    eu = level > EASY and cur == "EUR"
    when = pick_date(r)
    prices = [pick_money(r, 0.5, 40) for _ in range(r.randint(1, 4 if level == EASY else 12))]
    total = round(sum(prices), 2)
    method = r.choice(["cash", "card"])
    clock = f"{r.randint(7, 21)}:{r.randint(10, 59)}"
    stamp = f"{fmt_date(when, pick_date_style(r, level))} {clock}"
    lines = [merchant, f"{stamp}  Till {r.randint(1, 9)}"]
    lines += [f"{r.choice(ITEMS)[:14].upper()}  {fmt_amount(p, eu)}" for p in prices]
    if level > EASY:
        lines.append(f"{r.choice(WORDING['loyalty'])}  {r.randint(100, 2000)}")
    lines.append(f"TOTAL  {CURRENCIES[cur]}{fmt_amount(total, eu)}")
    if method == "cash":
        given = float(int(total) + r.choice([1, 5, 10]))
        lines += [f"CASH  {fmt_amount(given, eu)}", f"CHANGE  {fmt_amount(given - total, eu)}"]
    else:
        lines.append(f"CARD **** {r.randint(1000, 9999)}")
    if level == HARD:
        lines.insert(2, r.choice(JUNK))
        lines.append(f"{r.choice(WORDING['returns'])} "
                     f"{fmt_date(when + dt.timedelta(days=30), 'dotted')}")
    schema = object_schema({"merchant": STR, "date": DATE, "currency": STR, "total": NUM,
                            "payment_method": {"type": "string", "enum": ["cash", "card"]}})
    ref = {"merchant": merchant, "date": when.isoformat(), "currency": cur, "total": total,
           "payment_method": method}
    return {"task": "extract", "document": "\n".join(lines), "schema": schema, "reference": ref,
            "feature": "expense-receipts", "query_type": "receipt"}


def contract(r: random.Random, level: int) -> JobDict:
    a, b = r.sample(VENDORS, 2)
    effective, style = pick_date(r), pick_date_style(r, level)
    law, days = r.choice(LAWS), r.choice([30, 60, 90, 120])
    written = f"{NUMBER_WORDS[days]} ({days})" if level == EASY or r.random() < 0.6 else (
        NUMBER_WORDS[days] if level == HARD else str(days))
    seller, buyer = r.choice(ROLE_NAMES)
    first, second = ((a, seller), (b, buyer)) if r.random() < 0.6 else ((b, buyer), (a, seller))
    head = ["MASTER SERVICES AGREEMENT", "",
            f'This Master Services Agreement (the "Agreement") is entered into as of '
            f'{fmt_date(effective, style)} (the "Effective Date") by and between {first[0]} '
            f'("{first[1]}") and {second[0]} ("{second[1]}").']
    if level > EASY:
        old = effective - dt.timedelta(days=r.randint(400, 1500))
        head.append(r.choice(WORDING["replaces"]).format(old=fmt_date(old, style)))
    n_filler = 1 if level == EASY else 3 if level == MEDIUM else 6
    sections: list[tuple[str, list[str]]] = [
        ("Services", [f"{seller} shall provide the services described in each order form."]),
        ("Fees and Payment", [f"{buyer} shall pay each invoice within "
                              f"{NUMBER_WORDS[r.choice([15, 30, 45])]} days of receipt."]),
        ("Term and Termination", [
            f"This Agreement commences on the Effective Date and continues for "
            f"{r.randint(1, 5)} years.",
            f"Either party may terminate this Agreement for convenience upon {written} days' "
            "prior written notice to the other party."]),
        ("Governing Law", [f"This Agreement is governed by the laws of {law}."]),
    ]
    if level > EASY:
        cure = NUMBER_WORDS[r.choice([10, 14])]
        sections[2][1].insert(1, r.choice(WORDING["breach"]).format(n=cure))
        sections[3][1].append(r.choice(WORDING["venue"]).format(venue=r.choice(VENUES)))
    for _ in range(n_filler):
        sections.insert(r.randint(0, len(sections)), ("General", r.sample(FILLER, 3)))
    if r.random() < 0.5:
        sections.insert(0, ("Definitions", ["Capitalised terms have the meaning given here."]))
    body, section_ref = [*head, ""], ""
    for i, (title, clauses) in enumerate(sections, start=1):
        body.append(f"{i}. {title}")
        for j, clause in enumerate(clauses, start=1):
            body.append(f"{i}.{j} {clause}")
            if "terminate this Agreement for convenience" in clause:
                section_ref = f"Section {i}.{j}"
        body.append("")
    if level == HARD:  # page furniture of a multi-page scan
        step = max(4, len(body) // 4)
        for k, at in enumerate(range(step, len(body), step)):
            body.insert(at + k, f"--- Page {k + 2} ---")
    signed = effective - dt.timedelta(days=r.randint(1, 20))
    body.append(f"Signed on {fmt_date(signed, style)} by the authorised representatives.")
    schema = object_schema({"supplier": STR, "customer": STR, "effective_date": DATE,
                            "governing_law": STR,
                            "termination_notice_days": {"type": "integer"},
                            "termination_section": STR})
    ref = {"supplier": a, "customer": b, "effective_date": effective.isoformat(),
           "governing_law": law,
           "termination_notice_days": days, "termination_section": section_ref}
    return {"task": "extract", "document": "\n".join(body), "schema": schema, "reference": ref,
            "feature": "contract-review", "query_type": "contract",
            "context_hint": {"sensitive": r.random() < 0.4}}


def _email(r: random.Random, level: int, intent: str) -> tuple[str, str]:
    name, city = r.choice(NAMES), r.choice(CITIES)
    fill = {"month": r.choice(MONTHS), "email": f"{name.lower()}@example.org", "city": city}
    sentence = r.choice(INTENTS[intent]).format(**fill)
    parts = ["Hi support,", ""]
    asides = [ASIDES[k].format(**fill) for k in r.sample([k for k in LABELS if k != intent],
                                                          0 if level == EASY else level)]
    body = [*asides, sentence]
    r.shuffle(body)
    parts += [" ".join(body), "", f"Thanks, {name}"]
    if level == HARD:
        other = r.choice([k for k in LABELS if k != intent])
        quoted = r.choice(INTENTS[other]).format(**fill)
        parts += ["", "On a previous date you wrote:", f"> {quoted}", "> Kind regards, Support"]
    return "\n".join(parts), name


def support_classify(r: random.Random, level: int) -> JobDict:
    intent = r.choice(LABELS)
    doc, _ = _email(r, level, intent)
    return {"task": "classify", "document": doc, "labels": list(LABELS), "reference": intent,
            "feature": "support-triage", "query_type": "ticket"}


def support_answer(r: random.Random, level: int) -> JobDict:
    order, when, paid = f"A-{r.randint(10000, 99999)}", pick_date(r), pick_money(r, 20, 900)
    style = pick_date_style(r, level)
    lines = [f"Subject: order {order}", "",
             f"Hello, I ordered a {r.choice(ITEMS).lower()} on {fmt_date(when, style)} "
             f"(order {order}) and paid {fmt_amount(paid)} USD. It has not arrived yet."]
    if level > EASY:
        old, cost = f"A-{r.randint(10000, 99999)}", fmt_amount(pick_money(r, 20, 900))
        lines.append(r.choice([f"My previous order {old} for {cost} USD arrived fine.",
                               f"Order {old} ({cost} USD) from last spring came on time.",
                               f"The one before, {old} at {cost} USD, was delivered."]))
    if level == HARD:
        lines.append(r.choice(["The shipping fee was 9.99 USD, which I think is too much.",
                               "Delivery cost me 9.99 USD on top.",
                               "You also charged 9.99 USD to send it."]))
    question, ref = r.choice([
        ("What is the number of the order that has not arrived?", [order]),
        ("How much did the customer pay for the missing order, in USD?", [fmt_amount(paid)]),
        ("On what date was the missing order placed?", [fmt_date(when, style)]),
        ("What is the customer's phone number?", ["not stated"]),
    ])
    return {"task": "answer", "document": "\n".join(lines), "instructions": f"Question: {question}",
            "reference": ref, "feature": "support-answers", "query_type": "question"}


def report(r: random.Random, level: int) -> JobDict:
    cur, city = r.choice(list(CURRENCIES)), r.choice(CITIES)
    rev, pct, heads = round(r.uniform(1, 90), 1), r.randint(2, 40), r.randint(40, 4000)
    quarter = f"Q{r.randint(1, 4)} {r.randint(2024, 2025)}"
    facts = [f"Revenue for {quarter} was {cur} {rev} million, up {pct}% year on year.",
             f"The board approved opening a new office in {city}.",
             f"Headcount reached {heads} employees."]
    filler = r.sample(REPORT_FILLER, 1 if level == EASY else 3 if level == MEDIUM else 5)
    if level > EASY:
        other = r.choice([c for c in CITIES if c != city])
        prior = round(rev / (1 + pct / 100), 1)
        filler += [f"A proposal to open an office in {other} was rejected.",
                   r.choice([f"In the prior year revenue was {cur} {prior} million.",
                             f"A year earlier revenue stood at {cur} {prior} million.",
                             f"Revenue was {cur} {prior} million twelve months before."])]
    sentences = facts + filler * (2 if level == HARD else 1)
    r.shuffle(sentences)
    paras = [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
    return {"task": "summarize", "document": f"Quarterly report {quarter}\n\n" + "\n\n".join(paras),
            "reference": [f"{cur} {rev} million", f"{pct}%", city, str(heads)],
            "feature": "report-digest", "query_type": "report"}


def math_problem(r: random.Random, level: int) -> JobDict:
    name = r.choice(NAMES)
    kind = r.choice([0, 1]) if level == EASY else r.choice([1, 2, 3])
    if kind == 0:
        a, b, c = r.randint(2, 9), r.randint(3, 12), r.randint(1, 10)
        text = (f"{name} buys {a} packs of stickers with {b} stickers in each pack. "
                f"{name} gives away {c} stickers to friends. How many stickers are left?")
        answer: float = a * b - c
    elif kind == 1:
        s, t, s2, t2 = r.randint(40, 120), r.randint(1, 5), r.randint(40, 120), r.randint(1, 4)
        text = (f"A train travels at {s} km/h for {t} hours, then at {s2} km/h for {t2} hours. "
                "How many kilometres does it travel in total?")
        answer = s * t + s2 * t2
    elif kind == 2:
        p, a, b = r.randint(2, 30), r.randint(5, 40), r.randint(1, 4)
        text = (f"A store sells lamps for ${p} each. On Monday it sold {a} lamps, on Tuesday "
                f"twice as many as on Monday, and on Wednesday {b} fewer than on Tuesday. "
                "How much money did the store make over the three days?")
        answer = p * (a + 2 * a + (2 * a - b))
    else:
        w, h, k = r.randint(10, 40), r.randint(10, 40), r.randint(2, 8)
        pct = r.choice([10, 20, 25, 50])
        text = (f"{name} earns ${w} per hour and works {h} hours a week. {name} saves {pct}% "
                f"of the earnings. How many dollars does {name} save in {k} weeks?")
        answer = w * h * k * pct / 100
    ref = int(answer) if float(answer).is_integer() else answer
    return {"task": "math", "document": text, "reference": ref, "feature": "tutoring",
            "query_type": "word_problem"}


Builder = Callable[[random.Random, int], JobDict]
MIX: list[tuple[Builder, float]] = [(invoice, 0.25), (receipt, 0.12), (contract, 0.12),
                                    (support_classify, 0.22), (support_answer, 0.10),
                                    (report, 0.12), (math_problem, 0.07)]


def _context(r: random.Random, job: JobDict, level: int) -> dict[str, Any]:
    hint = job.pop("context_hint", {})
    financial = job["feature"] in {"ap-invoices", "report-digest"}
    role = "executive" if financial and r.random() < 0.12 else r.choice(
        ["analyst", "support_agent", "clerk", "legal", "user"])
    high = role == "executive" or (level == HARD and r.random() < 0.3)
    return {"role": role, "business_impact": "high" if high else r.choice(["low", "medium"]),
            "error_tolerance": "low" if high else r.choice(["medium", "high"]),
            "sensitive": bool(hint.get("sensitive")) or r.random() < 0.04}


def generate_with_answers(n: int, seed: int = 0) -> Iterator[tuple[JobDict, Any]]:
    """`n` sample jobs, each with its right answer."""
    builders, weights = zip(*MIX, strict=True)
    for i in range(n):
        r = random.Random(f"tierline-sample:{seed}:{i}")
        builder, level = r.choices(builders, weights)[0], pick_level(r)
        job = builder(r, level)
        # Each builder states its job's answer next to it; the answer leaves the job here.
        answer = job.pop("reference")
        job["context"] = _context(r, job, level)
        job.update(key=f"sample-{seed}-{i:06d}", tenant=r.choice(["acme", "globex", "initech"]),
                   user=f"user{r.randint(1, 40):02d}")
        yield job, answer


def generate(n: int, seed: int = 0) -> Iterator[JobDict]:
    """`n` sample jobs; each is a dict `JobSpec.model_validate` accepts."""
    for job, _ in generate_with_answers(n, seed):
        yield job


def with_answers(n: int, seed: int = 0) -> tuple[list[JobDict], AnswerKey]:
    """`n` sample jobs, and their answer key (each job's right answer by its key)."""
    jobs: list[JobDict] = []
    answers: AnswerKey = {}
    for job, answer in generate_with_answers(n, seed):
        jobs.append(job)
        answers[job["key"]] = answer
    return jobs, answers


def matches_reference(job: JobDict, reference: Any, text: str) -> bool:
    """Whether a model's raw output `text` is right for sample job `job` whose right answer is
    `reference` (strictly: extraction must be exactly the reference JSON, classification
    exactly the label, math a final "#### N" line, answers and summaries must state every key
    fact)."""
    ref, task = reference, job["task"]
    if task == "extract":
        try:
            return bool(json.loads(text) == ref)
        except json.JSONDecodeError:
            return False
    if task == "classify":
        return bool(text.strip() == ref)
    if task == "math":
        lines = text.strip().splitlines()
        return bool(lines) and lines[-1].strip() == f"#### {ref}"
    if ref == ["not stated"]:
        return "does not say" in text or "not stated" in text
    return all(str(fact) in text for fact in ref)
