"""Recompute the arithmetic in a worked maths answer (GSM8K style) and check its final line.

A weak model's chain of thought usually fails in one of three visible ways: a claim such as
"3 x 60 = 170" (or the calculator form "<<3*60=170>>") that is simply wrong, an answer cut off
before its "#### N" line, or a final "#### N" that is not the value the working arrived at. Each
is cheap to detect without knowing the right answer, so a failing check is a reason to escalate.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from tierline.validation.base import Finding

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
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Claim:
    text: str
    computed: float
    stated: float
    # Where the claim starts in the answer, so that "the last computed value" is the last one
    # written, whether it was a calculator annotation or prose.
    position: int = 0

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


# Half the sides of a claim are a bare number ("= 36"), and an answer's expressions recur in its
# next tier's answer and in other answers to the same question: each is evaluated once.
@lru_cache(maxsize=4096)
def _evaluate(expression: str) -> float | None:
    """Evaluate + - * / with precedence and parentheses; None when it is not that."""
    tokens: list[str] = _TOKEN.findall(expression)
    if "".join(tokens).replace(" ", "") != _SPACES.sub("", expression):
        return None
    if len(tokens) == 1:
        return _bare_number(tokens[0])
    parser = _Parser(tokens)
    try:
        value = parser.expr()
    except (ValueError, IndexError, ZeroDivisionError):
        return None
    return value if parser.pos == len(tokens) else None


class _Parser:
    """Recursive descent over the tokens of `_evaluate`: sums of products of atoms.

    A class rather than nested functions: functions that call one another through their
    closures form a reference cycle, garbage only the cycle collector frees.
    """

    __slots__ = ("pos", "tokens")

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def atom(self) -> float:
        token = self.take()
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise ValueError("unbalanced")
            return value
        if token == "-":
            return -self.atom()
        return _number(token)

    def term(self) -> float:
        value = self.atom()
        while self.peek() in ("*", "/", "×", "÷", "x"):
            op = self.take()
            right = self.atom()
            value = value * right if op in ("*", "×", "x") else value / right
        return value

    def expr(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            value = value + right if op == "+" else value - right
        return value


def _bare_number(token: str) -> float | None:
    """What the parser of `_evaluate` makes of a single token, without building it: a number,
    or None for an operator or a bracket on its own (which no number follows)."""
    try:
        return _number(token)
    except ValueError:
        return None


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


def _claims_in(text: str, offset: int = 0) -> list[Claim]:
    claims: list[Claim] = []
    for match in _CHAIN.finditer(text):
        at = offset + match.start()
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
            claim = Claim(f"{left} = {right}", computed, stated, at)
            lead = _LEADING_NUMBER.match(right)
            if not claim.holds and lead and _close(computed, _number(lead.group(1))):
                # "6 x 6 = 36 / 12 = 3": the result, then the next step written on from it.
                claim = Claim(claim.text, computed, computed, at)
            if not claim.holds and "%" in left + right:
                # "50 * 20% = 10" and "20% of 50 = 10%" both occur: accept either reading.
                alt_left, alt_right = _value(left.replace("%", "")), _value(right.replace("%", ""))
                readings = [(computed, alt_right), (alt_left, stated), (alt_left, alt_right)]
                if any(a is not None and b is not None and _close(a, b) for a, b in readings):
                    claim = Claim(claim.text, computed, computed, at)
            claims.append(claim)
    return claims


def arithmetic_claims(text: str) -> list[Claim]:
    """Every "a op b = c" claim in `text`, from calculator annotations and from the prose."""
    return list(_claims_of(text))


# The validate step reads one answer's claims several times (the working check, its message,
# the exactness check, the working before "####"): parsed once per text.
@lru_cache(maxsize=64)
def _claims_of(text: str) -> tuple[Claim, ...]:
    # Markdown-escaped operators ("3 \\* 4") are common in chat models' answers.
    text = text.replace("\\*", "*")
    claims = [c for a in _ANNOTATION.finditer(text) for c in _claims_in(a.group(1), a.start())]
    # The prose is read with the annotations taken out; each claim keeps its place in `text`.
    # `pieces` holds, per stretch of prose, where it starts in the prose and in `text`.
    prose: list[str] = []
    pieces: list[tuple[int, int]] = []
    cursor = length = 0
    for annotation in [*_ANNOTATION.finditer(text), None]:
        end = annotation.start() if annotation else len(text)
        pieces.append((length, cursor))
        prose.append(text[cursor:end])
        length += end - cursor
        cursor = annotation.end() if annotation else end
    for claim in _claims_in("".join(prose)):
        in_prose, in_text = max(p for p in pieces if p[0] <= claim.position)
        claims.append(dataclasses.replace(claim, position=in_text + claim.position - in_prose))
    return tuple(sorted(claims, key=lambda c: c.position))


_QUESTION_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def unused_numbers(question: str, text: str) -> list[float]:
    """Numbers the question gives that the working never mentions (1 aside, and a percentage
    counts as used as a fraction too): an answer that ignores a given is usually wrong."""
    def numbers(t: str) -> set[float]:
        return {float(n.replace(",", "")) for n in _QUESTION_NUMBER.findall(t)}

    used = numbers(text)
    return sorted(n for n in numbers(question)
                  if n != 1 and n not in used and n / 100 not in used)


# Units a question may ask its answer in, by what they measure: an answer worked out in another
# unit of the same kind ("how many minutes" answered in hours) has skipped a conversion.
_UNITS: dict[str, str] = {
    **dict.fromkeys(("second", "minute", "hour", "day", "week", "month", "year"), "time"),
    **dict.fromkeys(("cent", "dollar"), "money"),
    **dict.fromkeys(("inch", "foot", "feet", "yard", "mile", "meter", "centimeter",
                     "kilometer"), "length"),
    **dict.fromkeys(("ounce", "pound", "gram", "kilogram", "ton"), "weight"),
}
_ASKED_UNIT = re.compile(r"how (?:many|much) (?:more |fewer |less |total )?([a-z]+)"
                         r"|\bin ([a-z]+)\s*\?", re.IGNORECASE)
_NUMBER_AND_UNIT = re.compile(r"\d[\d,]*(?:\.\d+)?\s*([a-z]+)", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"(?<![\w.])-?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_SENTENCE_END = (".", "!", "?", ")", "*", '"', "'")


def _unit(word: str) -> str | None:
    word = word.lower()
    for candidate in (word, word.removesuffix("s"), word.removesuffix("es")):
        if candidate in _UNITS:
            return "foot" if candidate == "feet" else candidate
    return None


def asked_unit(question: str) -> str | None:
    """The unit the question's last ask names ("How many minutes ...?"), if it is one we know."""
    found = [m.group(1) or m.group(2) for m in _ASKED_UNIT.finditer(question)]
    return _unit(found[-1]) if found else None


def cut_off(text: str) -> bool:
    """The answer stops mid-way: inside a calculator annotation, or not at the end of a
    sentence (a model that ran out of tokens), and without a final "#### N" line."""
    stripped = text.rstrip()
    if final_answer(stripped) is not None:
        return False
    return (not stripped or stripped.rfind("<<") > stripped.rfind(">>")
            or not stripped.endswith(_SENTENCE_END))


def concluded_answer(text: str) -> float | None:
    """The answer's final value: its "#### N", or else, when it is not cut off, its last number
    (how GSM8K answers are graded)."""
    answer = final_answer(text)
    if answer is not None or cut_off(text):
        return answer
    numbers = _ANY_NUMBER.findall(_ANNOTATION.sub("", text))
    return _number(numbers[-1]) if numbers else None


@dataclass(frozen=True)
class MathFinding:
    kind: str
    message: str


def math_findings(
    text: str, whole_number: bool = False, question: str | None = None, min_claims: int = 0,
    require_final_line: bool = True,
) -> list[MathFinding]:
    """Everything suspicious about a worked answer, in the order `check_math_working` reports
    them. Kinds: wrong_claim, no_final_line, cut_off, not_whole, contradicts_working,
    few_steps, unused_number, wrong_unit."""
    found: list[MathFinding] = []
    claims = arithmetic_claims(text)
    wrong = [c for c in claims if not c.holds]
    if wrong:
        first = wrong[0]
        found.append(MathFinding("wrong_claim", f"{len(wrong)} wrong claim(s), first "
                                 f"{first.text!r} (it is {first.computed:g})"))
    answer = final_answer(text)
    if answer is None and (require_final_line or cut_off(text)):
        kind = "cut_off" if cut_off(text) else "no_final_line"
        found.append(MathFinding(kind, "no final '#### N' answer line"
                                 + (" (the answer stops mid-way)" if kind == "cut_off" else "")))
    answer = concluded_answer(text)
    if answer is None:
        return found
    if whole_number and (answer < 0 or abs(answer - round(answer)) > 1e-9):
        found.append(MathFinding("not_whole", f"final answer {answer:g} is not a whole number"))
    cut = text.rfind("####")
    body = text[:cut] if cut >= 0 else text
    body_claims = [c for c in claims if c.position < len(body)]
    # A final answer the working never arrived at (no claim and no number of the working is it)
    # contradicts the working; one it did state (choosing among computed options) is left alone.
    if (cut >= 0 and body_claims and not _close(body_claims[-1].stated, answer)
            and not states_value(body, answer, body_claims)):
        found.append(MathFinding(
            "contradicts_working", f"final answer {answer:g} is not the last computed "
            f"value {body_claims[-1].stated:g}, nor any value of the working"))
    if len(claims) < min_claims:
        found.append(MathFinding(
            "few_steps", f"only {len(claims)} computation(s) shown, expected {min_claims}"))
    if question is not None:
        missing = unused_numbers(question, text)
        if missing:
            shown = ", ".join(f"{n:g}" for n in missing[:3])
            found.append(MathFinding("unused_number",
                                     f"the working never uses {shown} from the question"))
        wanted, given = asked_unit(question), concluded_unit(body)
        if wanted and given and given != wanted and _UNITS[given] == _UNITS[wanted]:
            found.append(MathFinding(
                "wrong_unit", f"the question asks for {wanted}s, the working ends in {given}s"))
    return found


def states_value(body: str, value: float, claims: list[Claim] | None = None) -> bool:
    """Whether the working states `value`: as a claim's result or as any number it writes."""
    if any(abs(c.stated - value) < 1e-6 for c in claims or arithmetic_claims(body)):
        return True
    return any(abs(_number(n) - value) < 1e-6
               for n in _ANY_NUMBER.findall(_ANNOTATION.sub("", body)))


def concluded_unit(body: str) -> str | None:
    """The unit of the last number-with-a-unit of the working, if it is one we know."""
    units = [_unit(m.group(1)) for m in _NUMBER_AND_UNIT.finditer(_ANNOTATION.sub("", body))]
    known = [u for u in units if u]
    return known[-1] if known else None


def check_math_working(
    text: str, whole_number: bool = False, question: str | None = None, min_claims: int = 0,
    require_final_line: bool = True,
) -> Finding:
    """Fail when a claim in the working is wrong, the answer stops mid-way, the final "#### N"
    is missing (unless not `require_final_line`: then the last number is the answer), or the
    final answer is a value the working never arrived at. With `whole_number` (word problems
    whose answer is a count, as in GSM8K) a fractional or negative final answer fails too;
    given the `question`, so does working that never uses one of its numbers (on Mixtral's
    GSM8K answers half of those are wrong, against a third overall) or that ends in another
    unit than the one asked; and with `min_claims`, working that shows fewer computations than
    that (multi-step word problems answered in one step are mostly wrong)."""
    found = math_findings(text, whole_number, question, min_claims, require_final_line)
    if found:
        return Finding(CHECK_NAME, False, found[0].message)
    return Finding(CHECK_NAME, True, f"{len(arithmetic_claims(text))} claim(s) recomputed")
