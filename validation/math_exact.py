"""A stricter companion to the arithmetic check: whole-number claims must be exactly right.

`validation.arithmetic` accepts a stated result within half a percent of the computed one, so
that rounded intermediate results ("10 / 3 = 3.33") pass. That tolerance also lets the commonest
slip of a weak model through: an off-by-one or off-by-a-few in a whole-number step ("84 + 321 =
404", "20 * 38 = 758"), which then carries to a wrong final answer. Here the tolerance follows
what was written instead: a result written as a whole number, of a computation whose exact value
is a whole number, must be equal; a result written with d decimals may differ by the rounding of
its last digit; a whole number stated for a fractional value may be rounded or truncated. The
final "#### N" must likewise equal the last result the working stated, exactly when both are
whole numbers, unless the answer is another value the working stated (a choice among computed
values). Claims are read in the order they are written. Percentages are left to the arithmetic
check, which knows both readings of them.
"""

from __future__ import annotations

import re

from tierline.validation.arithmetic import (
    arithmetic_claims,
    final_answer,
    math_findings,
    states_value,
)
from tierline.validation.base import Finding

MATH_EXACT = "arithmetic_exact"
_PLAIN_NUMBER = re.compile(r"^[\s(]*-?\$?(\d[\d,]*)(?:\.(\d+))?[\s)]*$")
_EPS = 1e-9


def _whole(x: float) -> bool:
    return abs(x - round(x)) < _EPS


def claim_holds(computed: float, stated: float, written: str) -> bool:
    """Whether `stated`, written as `written`, is `computed` to the precision it was written."""
    m = _PLAIN_NUMBER.match(written)
    if m is None:  # an expression or a percentage: the arithmetic check has judged it
        return True
    decimals = len(m.group(2) or "")
    if decimals == 0:
        if _whole(computed):
            return abs(computed - stated) < _EPS
        return abs(computed - stated) < 1.0  # "7 / 2 = 3" or "= 4": rounded or truncated
    return bool(abs(computed - stated) <= 0.5 / 10**decimals + _EPS * max(1.0, abs(stated)))


def check_math_exact(text: str) -> Finding:
    """Fail on a whole-number claim that is off, or a final answer that is not the last result."""
    if not isinstance(text, str):
        return Finding(MATH_EXACT, True, "no working to check")
    claims = arithmetic_claims(text)
    for claim in claims:
        if "%" in claim.text:
            continue
        if not claim_holds(claim.computed, claim.stated, claim.text.rsplit("=", 1)[-1]):
            return Finding(MATH_EXACT, False,
                           f"{claim.text.strip()!r} is off: it is {claim.computed:g}")
    answer = final_answer(text)
    cut = text.rfind("####")
    body_claims = arithmetic_claims(text[:cut]) if cut >= 0 else []
    if answer is not None and body_claims:
        last = body_claims[-1]
        # An answer equal to another result of the working is a choice among computed values
        # ("the jewelry gives $125" after computing 125 and 96), not a slip.
        chosen = states_value(text[:cut], answer, body_claims)
        if "%" not in last.text and _whole(last.stated) and _whole(answer) \
                and abs(last.stated - answer) > _EPS and not chosen:
            return Finding(MATH_EXACT, False,
                           f"final answer {answer:g} is not the last result {last.stated:g}")
    return Finding(MATH_EXACT, True, f"{len(claims)} claim(s) exact to their written precision")


def finding_kinds(text: str, question: str, whole_number: bool) -> frozenset[str]:
    """The kinds of finding the arithmetic checks have on a maths answer ("inexact" for this
    module's). Recorded answers are graded on their last number, so a missing "#### N" line is
    only a finding when the answer stops mid-way."""
    kinds = {f.kind for f in math_findings(text, whole_number=whole_number, question=question,
                                           min_claims=2, require_final_line=False)}
    if not check_math_exact(text).passed:
        kinds.add("inexact")
    return frozenset(kinds)
