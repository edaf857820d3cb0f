"""Recompute the arithmetic in a worked maths answer (GSM8K style) and check its final line.

A weak model's chain of thought usually fails in one of three visible ways: a claim such as
"3 x 60 = 170" (or the calculator form "<<3*60=170>>") that is simply wrong, an answer cut off
before its "#### N" line, or a final "#### N" that is not the value the working arrived at. Each
is cheap to detect without knowing the right answer, so a failing check is a reason to escalate.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from validation.base import Finding

CHECK_NAME = "arithmetic"

_NUM = r"-?\$?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)%?"
_OP = r"(?:[+\-*/×÷]|x(?=\s*[\d$(]))"
_EXPR = rf"[( \t]*{_NUM}[) \t]*(?:{_OP}[( \t]*{_NUM}[) \t]*)*"
# A chain of expressions joined by '=': "3 x 60 = 180", "22 + 4 x 12 = 22 + 48 = 70".
_CHAIN = re.compile(rf"{_EXPR}(?:=[ \t]*{_EXPR})+")
_HAS_OP = re.compile(rf"{_NUM}[) \t]*{_OP}")
_OPERATOR_NEXT = re.compile(r"[ \t]*[+\-*/×÷]")
_OPERATOR_BEFORE = re.compile(r"[+\-*/×÷][ \t]*\Z")
_LEADING_NUMBER = re.compile(rf"({_NUM})[ \t]*{_OP}")
_ANNOTATION = re.compile(r"<<([^<>]*)>>")
_FINAL = re.compile(r"####\s*(" + _NUM + ")")
_TOKEN = re.compile(rf"\s*({_NUM[2:]}|[-+*/×÷x()])")


@dataclass(frozen=True)
class Claim:
    text: str
    computed: float
    stated: float

    @property
    def holds(self) -> bool:
        return _close(self.computed, self.stated)


def _close(a: float, b: float) -> bool:
    # Models round their intermediate results ("10/3 = 3.33"), so allow the last printed digit.
    return abs(a - b) <= max(0.01, 0.005 * abs(b))


def _number(text: str) -> float:
    text = text.replace("$", "").replace(",", "")
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


def final_answer(text: str) -> float | None:
    """The number on the answer's last "#### N" line, or None when it has none."""
    found = _FINAL.findall(text)
    return _number(found[-1].replace("%", "")) if found else None


def _evaluate(expression: str) -> float | None:
    """Evaluate + - * / with precedence and parentheses; None when it is not that."""
    tokens: list[str] = _TOKEN.findall(expression)
    if "".join(tokens).replace(" ", "") != re.sub(r"\s+", "", expression):
        return None
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom() -> float:
        token = take()
        if token == "(":
            value = expr()
            if take() != ")":
                raise ValueError("unbalanced")
            return value
        if token == "-":
            return -atom()
        return _number(token)

    def term() -> float:
        value = atom()
        while peek() in ("*", "/", "×", "÷", "x"):
            op = take()
            right = atom()
            value = value * right if op in ("*", "×", "x") else value / right
        return value

    def expr() -> float:
        value = term()
        while peek() in ("+", "-"):
            op = take()
            right = term()
            value = value + right if op == "+" else value - right
        return value

    try:
        value = expr()
    except (ValueError, IndexError, ZeroDivisionError):
        return None
    return value if pos == len(tokens) else None


def _trim_brackets(expression: str) -> str:
    # A match may start or end inside a bracket the regex could not see; drop the stray ones.
    expression = expression.strip()
    while expression.count("(") > expression.count(")") and expression.startswith("("):
        expression = expression[1:].strip()
    while expression.count(")") > expression.count("(") and expression.endswith(")"):
        expression = expression[:-1].strip()
    return expression


def _value(expression: str) -> float | None:
    value = _evaluate(expression)
    if value is None and "%" in expression:
        value = _evaluate(expression.replace("%", ""))
    return value


def _claims_in(text: str) -> list[Claim]:
    claims: list[Claim] = []
    for match in _CHAIN.finditer(text):
        segments = [_trim_brackets(s) for s in match.group(0).split("=")]
        # An expression that goes on in words ("8,000 + 4,000 + the third week") is not a claim.
        if _OPERATOR_NEXT.match(text, match.end()):
            segments[-1] = ""
        if _OPERATOR_BEFORE.search(text, 0, match.start()):
            segments[0] = ""
        for left, right in itertools.pairwise(segments):
            if not (_HAS_OP.search(left) or _HAS_OP.search(right)):
                continue
            computed, stated = _evaluate(left), _evaluate(right)
            if computed is None or stated is None:
                continue
            claim = Claim(f"{left} = {right}", computed, stated)
            lead = _LEADING_NUMBER.match(right)
            if not claim.holds and lead and _close(computed, _number(lead.group(1))):
                # "6 x 6 = 36 / 12 = 3": the result, then the next step written on from it.
                claim = Claim(claim.text, computed, computed)
            if not claim.holds and "%" in left + right:
                # "50 * 20% = 10" and "20% of 50 = 10%" both occur: accept either reading.
                alt_left, alt_right = _value(left.replace("%", "")), _value(right.replace("%", ""))
                readings = [(computed, alt_right), (alt_left, stated), (alt_left, alt_right)]
                if any(a is not None and b is not None and _close(a, b) for a, b in readings):
                    claim = Claim(claim.text, computed, computed)
            claims.append(claim)
    return claims


def arithmetic_claims(text: str) -> list[Claim]:
    """Every "a op b = c" claim in `text`, from calculator annotations and from the prose."""
    # Markdown-escaped operators ("3 \\* 4") are common in chat models' answers.
    text = text.replace("\\*", "*")
    claims = [c for a in _ANNOTATION.findall(text) for c in _claims_in(a)]
    claims += _claims_in(_ANNOTATION.sub("", text))
    return claims


_QUESTION_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def unused_numbers(question: str, text: str) -> list[float]:
    """Numbers the question gives that the working never mentions (1 aside, and a percentage
    counts as used as a fraction too): an answer that ignores a given is usually wrong."""
    def numbers(t: str) -> set[float]:
        return {float(n.replace(",", "")) for n in _QUESTION_NUMBER.findall(t)}

    used = numbers(text)
    return sorted(n for n in numbers(question)
                  if n != 1 and n not in used and n / 100 not in used)


def check_math_working(
    text: str, whole_number: bool = False, question: str | None = None, min_claims: int = 0
) -> Finding:
    """Fail when a claim in the working is wrong, or the final "#### N" is missing or is not
    the last value the working computed. With `whole_number` (word problems whose answer is a
    count, as in GSM8K) a fractional or negative final answer fails too; given the `question`,
    so does working that never uses one of its numbers (on Mixtral's GSM8K answers half of
    those are wrong, against a third overall); and with `min_claims`, working that shows fewer
    computations than that (multi-step word problems answered in one step are mostly wrong)."""
    claims = arithmetic_claims(text)
    wrong = [c for c in claims if not c.holds]
    if wrong:
        first = wrong[0]
        return Finding(
            CHECK_NAME, False,
            f"{len(wrong)} wrong claim(s), first {first.text!r} (it is {first.computed:g})",
        )
    answer = final_answer(text)
    if answer is None:
        return Finding(CHECK_NAME, False, "no final '#### N' answer line")
    if whole_number and (answer < 0 or abs(answer - round(answer)) > 1e-9):
        return Finding(CHECK_NAME, False, f"final answer {answer:g} is not a whole number")
    body = text[: text.rfind("####")]
    body_claims = arithmetic_claims(body)
    if body_claims and not _close(body_claims[-1].stated, answer):
        return Finding(
            CHECK_NAME, False,
            f"final answer {answer:g} is not the last computed value {body_claims[-1].stated:g}",
        )
    if len(claims) < min_claims:
        return Finding(CHECK_NAME, False,
                       f"only {len(claims)} computation(s) shown, expected {min_claims}")
    if question is not None:
        missing = unused_numbers(question, text)
        if missing:
            shown = ", ".join(f"{n:g}" for n in missing[:3])
            return Finding(CHECK_NAME, False, f"the working never uses {shown} from the question")
    return Finding(CHECK_NAME, True, f"{len(claims)} claim(s) recomputed")
