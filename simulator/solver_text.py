"""The oracle for the free-text tasks: classify, answer, summarize, math, code, plain chat."""

from __future__ import annotations

import re
from typing import Any

from tierline.simulator.prompt import ParsedPrompt, Solution, find_amounts, find_dates

# Phrases that carry a support email's intent (strong), and words that only hint at a topic.
STRONG: dict[str, list[str]] = {
    "billing": ["charged twice", "extra fee", "refund", "double charge"],
    "technical": ["crashes", "error 502", "not working", "bug in"],
    "account": ["change the email address", "add a new user", "reset my password"],
    "cancellation": ["cancel my subscription", "want to cancel", "not to renew"],
    "other": ["do you have an office", "say thanks"],
}
WEAK: dict[str, list[str]] = {
    "billing": ["invoice", "bill", "charge", "payment"],
    "technical": ["app", "slow", "error", "crash"],
    "account": ["account", "password", "login"],
    "cancellation": ["cancel", "renew", "vendors"],
    "other": ["office", "thanks"],
}

MathStep = tuple[str, float | int | str, str, float | int | str]  # label, a, op, b; "sN" = step N


def _scores(text: str, labels: list[str]) -> dict[str, int]:
    low = text.lower()
    return {label: 5 * sum(p in low for p in STRONG.get(label, []))
            + sum(low.count(w) for w in WEAK.get(label, [label.lower()])) for label in labels}


def solve_classify(parsed: ParsedPrompt) -> Solution:
    labels = parsed.labels or ["other"]
    own = [ln for ln in parsed.document.splitlines()
           if not ln.startswith(">") and not ln.rstrip().endswith("wrote:")]
    quoted = "\n".join(ln for ln in parsed.document.splitlines() if ln.startswith(">"))
    scores = _scores("\n".join(own), labels)
    best = max(labels, key=lambda k: scores[k])
    confident = scores[best] > 0
    if not confident:
        best = "other" if "other" in labels else labels[-1]
    quoted_scores = _scores(quoted, labels)
    ranked = sorted((k for k in labels if k != best),
                    key=lambda k: -(scores[k] + quoted_scores[k]))
    return Solution(best, best, confident, {"": ranked})


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def solve_answer(parsed: ParsedPrompt) -> Solution:
    doc = parsed.document
    question = (parsed.instructions or doc).lower()
    sentences = _sentences(doc)
    main = next((s for s in sentences if re.search(r"ordered|paid", s)), doc)
    if "order" in question and "number" in question:
        ids = list(dict.fromkeys(re.findall(r"\b[A-Z]+-\d+\b", doc)))
        first = next((i for i in ids if i in main), ids[0] if ids else None)
        if first:
            return Solution(f"The order that has not arrived is {first}.", first, True,
                            {"": [i for i in ids if i != first]})
    if "how much" in question or "pay" in question:
        money = r"(?<![\d.])(\d[\d,]*\.\d{2})(?![\d.])"
        amounts = re.findall(money, doc)
        own = re.findall(money, main)
        if own:
            return Solution(f"The customer paid {own[0]} USD.", own[0], True,
                            {"": [a for a in amounts if a != own[0]]})
    if "date" in question or "when" in question:
        dates = [raw for _, raw in find_dates(main)] or [raw for _, raw in find_dates(doc)]
        if dates:
            return Solution(f"The order was placed on {dates[0]}.", dates[0], True, {"": []})
    if "phone" in question:
        phone = re.search(r"(?:\+\d{1,3}[ -]?)?\(?\d{3}\)?[ -]\d{3}[ -]\d{4}\b", doc)
        if phone:
            return Solution(f"The phone number is {phone.group()}.", phone.group(), True, {})
        return Solution("The document does not say what the customer's phone number is.",
                        "not stated", True, {"": ["+1 555 0134"]})
    words = set(re.findall(r"\w{4,}", question))
    best = max(sentences or [doc], key=lambda s: len(words & set(re.findall(r"\w{4,}", s.lower()))))
    return Solution(best, best, False, {"": sentences[:3]})


KEY_FACTS = [r"^Revenue for", r"board approved", r"Headcount (?:reached|grew)"]
DISTRACTOR_FACTS = [r"prior year|year earlier|months before", r"was rejected"]


def solve_summarize(parsed: ParsedPrompt) -> Solution:
    lines = parsed.document.splitlines()
    body = "\n".join(lines[1:]) if len(lines) > 1 else parsed.document
    sentences = _sentences(body)
    keys = [s for s in sentences if any(re.search(p, s) for p in KEY_FACTS)]
    confident = bool(keys)
    if not keys:
        keys = [s for s in sentences if re.search(r"\d", s)][:3] or sentences[:3]
    distractors = [s for s in sentences if any(re.search(p, s) for p in DISTRACTOR_FACTS)]
    keys = list(dict.fromkeys(keys))[:3]
    return Solution(" ".join(keys), keys, confident, {"": distractors})


_TEMPLATES: list[tuple[str, list[MathStep]]] = [
    (r"buys (\d+) packs of \w+ with (\d+) \w+ in each pack\. \w+ gives away (\d+)",
     [("bought", "g1", "*", "g2"), ("left", "s0", "-", "g3")]),
    (r"at (\d+) km/h for (\d+) hours, then at (\d+) km/h for (\d+) hours",
     [("first leg", "g1", "*", "g2"), ("second leg", "g3", "*", "g4"),
      ("total distance", "s0", "+", "s1")]),
    (r"for \$(\d+) each\. On Monday it sold (\d+) \w+, on Tuesday twice as many as on Monday, "
     r"and on Wednesday (\d+) fewer",
     [("Tuesday", "g2", "*", 2), ("Wednesday", "s0", "-", "g3"), ("Monday and Tuesday", "g2", "+",
      "s0"), ("all three days", "s2", "+", "s1"), ("money", "s3", "*", "g1")]),
    (r"earns \$(\d+) per hour and works (\d+) hours a week\. \w+ saves (\d+)% .*? in (\d+) weeks",
     [("per week", "g1", "*", "g2"), ("earned", "s0", "*", "g4"), ("saved x 100", "s1", "*", "g3"),
      ("saved", "s2", "/", 100)]),
]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def run_math(steps: list[MathStep], groups: list[float], slip: tuple[int, float] | None = None
             ) -> tuple[str, float]:
    """Work `steps` through; `slip` = (step, delta) is an arithmetic mistake that propagates."""
    results: list[float] = []
    lines = []

    def val(x: float | int | str) -> float:
        if isinstance(x, str):
            return results[int(x[1:])] if x[0] == "s" else groups[int(x[1:]) - 1]
        return float(x)

    for i, (label, a, op, b) in enumerate(steps):
        x, y = val(a), val(b)
        r = {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else 0.0}[op]
        if slip and slip[0] == i:
            r += slip[1]
        results.append(r)
        lines.append(f"{label.capitalize()}: {_num(x)} {op} {_num(y)} = {_num(r)}")
    answer = results[-1] if results else 0.0
    return "\n".join([*lines, f"#### {_num(answer)}"]), answer


def math_plan(text: str) -> tuple[list[MathStep], list[float], bool]:
    """The steps for a known word-problem template, or a guess (sum of its numbers)."""
    for pattern, steps in _TEMPLATES:
        m = re.search(pattern, text)
        if m:
            return steps, [float(g) for g in m.groups()], True
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)][:4] or [0.0]
    guess: list[MathStep] = [("sum", "g1", "+", f"g{i}") for i in range(2, len(numbers) + 1)]
    chain: list[MathStep] = [(g[0], "g1" if i == 0 else f"s{i - 1}", g[2], g[3])
                             for i, g in enumerate(guess)] or [("value", "g1", "+", 0)]
    return chain, numbers, False


def solve_math(parsed: ParsedPrompt) -> Solution:
    steps, groups, confident = math_plan(parsed.document)
    text, answer = run_math(steps, groups)
    value: Any = int(answer) if float(answer).is_integer() else round(answer, 2)
    return Solution(text, value, confident, {"": [len(steps)]})


def solve_code(parsed: ParsedPrompt) -> Solution:
    text = "```python\ndef solution(*args):\n    raise NotImplementedError\n```"
    return Solution(text, text, False, {})


def solve_chat(parsed: ParsedPrompt) -> Solution:
    amounts = find_amounts(parsed.document)
    text = "Understood." if not amounts else f"The figures mentioned add up to {sum(amounts):.2f}."
    return Solution(text, text, False, {})
