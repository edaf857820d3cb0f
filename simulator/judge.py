"""How a simulated model answers a judge call ("is this output supported by the document?").

The request is the one `validation.judge` writes: a system prompt whose first line is
"Task: judge.", and a user turn with the job's task, instructions, labels and schema, the
document and the output to check. The judge sees only that text, never a job's reference answer.

A judge reads the document the way the model would solve the job itself: it re-solves the job
with the simulator's solver and compares the output with its own reading. What it notices, and
how often, is a capability model like the rest of the simulator:

- each disagreement has a subtlety, from obvious (not JSON, a label that is not allowed, a
  missing final line) through invented values (not in the document) and dropped facts to subtle
  (a value the document does contain, in the wrong place: a neighbouring label, the due date for
  the invoice date, last year's revenue);
- the chance that the judge misses a real disagreement grows with its own chance of misreading
  the input (`error_probability(skill, difficulty)`) times that subtlety;
- on an output it agrees with, it still says UNSUPPORTED now and then (a small model is a noisy
  judge), more often on hard inputs; and when its own reading is wrong (the solver is not
  confident on an unfamiliar format) it flags right answers that disagree with its mistake;
- a few replies are waffle with no verdict, as small models produce.

Everything is deterministic for a given (model, prompt, seed), like the rest of the simulator.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from tierline.simulator.prompt import ParsedPrompt, Solution
from tierline.simulator.solver import solve

JUDGE_TASK = "judge"
_DOCUMENT_HEAD = "Document:\n<<<\n"
_OUTPUT_HEAD = "\n>>>\n\nOutput to check:\n<<<\n"
_OUTPUT_TAIL = "\n>>>"
_FINAL = re.compile(r"^\s*####\s*\$?\s*(-?[\d,]*\.?\d+)", re.MULTILINE)
_NOT_STATED = re.compile(r"does not (?:say|state|mention)|not stated|not mentioned|no mention",
                         re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

# Subtlety of a disagreement: how easily a reader who knows the document overlooks it.
OBVIOUS, INVENTED, DROPPED, ARITHMETIC, SUBTLE = 0.15, 0.45, 0.6, 0.7, 1.0


@dataclass
class JudgeCall:
    task: str
    document: str
    output: str
    instructions: str = ""
    labels: list[str] = field(default_factory=list)
    schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Problem:
    reason: str
    subtlety: float


def parse_judge_call(user: str) -> JudgeCall | None:
    """The job and the output to check from a judge call's user turn; None if it is not one."""
    start, middle = user.find(_DOCUMENT_HEAD), user.rfind(_OUTPUT_HEAD)
    if start < 0 or middle < start:
        return None
    head = user[:start]
    end = user.rfind(_OUTPUT_TAIL)
    output = user[middle + len(_OUTPUT_HEAD): end if end > middle else len(user)]

    def line(name: str) -> str:
        m = re.search(rf"^{name}: (.*)$", head, re.MULTILINE)
        return m.group(1).strip() if m else ""

    schema: dict[str, Any] | None = None
    if raw := line("Schema"):
        try:
            loaded = json.loads(raw)
            schema = loaded if isinstance(loaded, dict) else None
        except ValueError:
            schema = None
    labels = [x.strip() for x in line("Allowed labels").split(",") if x.strip()]
    return JudgeCall(line("Job task").lower() or "chat", user[start + len(_DOCUMENT_HEAD):middle],
                     output, line("Instructions"), labels, schema)


def _norm(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).casefold().replace(",", "").split()).strip(" .")


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, list):
        return isinstance(got, list) and [_norm(g) for g in got] == [_norm(w) for w in want]
    if isinstance(want, int | float) and not isinstance(want, bool):
        try:
            return abs(float(str(got).replace(",", "")) - float(want)) < 0.005
        except ValueError:
            return False
    return _norm(got) == _norm(want)


def _json_object(text: str) -> dict[str, Any] | None:
    for candidate in (text, text[text.find("{"): text.rfind("}") + 1]):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _extract_problems(call: JudgeCall, solution: Solution) -> list[Problem]:
    got = _json_object(call.output)
    if got is None:
        return [Problem("the output is not a JSON object", OBVIOUS)]
    want = solution.value if isinstance(solution.value, dict) else {}
    problems = []
    doc = _norm(call.document)
    for name, value in want.items():
        mine = got.get(name)
        if _same(mine, value):
            continue
        if mine is None:
            problems.append(Problem(f"{name} is missing", DROPPED))
        elif any(_same(mine, d) for d in solution.distractors.get(name, [])) or (
                not isinstance(mine, list | dict) and _norm(mine) in doc):
            problems.append(Problem(f"{name} {mine!r} is in the document but is not the "
                                    f"{name.replace('_', ' ')}", SUBTLE))
        else:
            problems.append(Problem(f"{name} {mine!r} is not stated in the document", INVENTED))
    return problems


def _classify_problems(call: JudgeCall, solution: Solution) -> list[Problem]:
    label = _norm(call.output.strip().strip("\"'`*"))
    if call.labels and label not in {_norm(x) for x in call.labels}:
        return [Problem(f"{call.output.strip()[:40]!r} is not an allowed label", OBVIOUS)]
    if label != _norm(solution.value):
        return [Problem(f"the message reads as {solution.value}, not {label}", SUBTLE)]
    return []


def _answer_problems(call: JudgeCall, solution: Solution) -> list[Problem]:
    value, text = str(solution.value), call.output
    if value == "not stated":
        return [] if _NOT_STATED.search(text) else [
            Problem("the answer states something the document does not say", INVENTED)]
    if _norm(value) in _norm(text):
        return []
    if _NOT_STATED.search(text) or "don't know" in text.lower():
        return [Problem(f"the document does state it ({value})", DROPPED)]
    if any(_norm(d) in _norm(text) for d in solution.distractors.get("", [])):
        return [Problem("the answer quotes another value from the document", SUBTLE)]
    return [Problem("the answer's value is not in the document", INVENTED)]


def _summary_problems(call: JudgeCall, solution: Solution) -> list[Problem]:
    keys = [str(k) for k in solution.value] if isinstance(solution.value, list) else []
    said = [s for s in _SENTENCE.split(call.output.strip()) if s]
    doc = _norm(call.document)
    problems = [Problem(f"not in the document: {s[:60]!r}", INVENTED)
                for s in said if _norm(s) not in doc]
    off = [s for s in said if any(_norm(s) == _norm(d) for d in solution.distractors.get("", []))]
    problems += [Problem(f"reports {s[:60]!r}, not a current fact", SUBTLE) for s in off]
    problems += [Problem(f"leaves out {k[:60]!r}", DROPPED)
                 for k in keys if _norm(k) not in _norm(call.output)]
    return problems


def _math_problems(call: JudgeCall, solution: Solution) -> list[Problem]:
    found = _FINAL.findall(call.output)
    if not found:
        return [Problem("no final answer line", OBVIOUS)]
    if not _same(found[-1], solution.value):
        return [Problem(f"the working does not arrive at {found[-1]}", ARITHMETIC)]
    return []


_COMPARE = {"extract": _extract_problems, "classify": _classify_problems,
            "answer": _answer_problems, "summarize": _summary_problems, "math": _math_problems}


def assess(call: JudgeCall) -> tuple[list[Problem], ParsedPrompt, Solution]:
    """What the judge's own reading of the job disagrees with in the output."""
    parsed = ParsedPrompt(call.task, call.document, call.instructions, call.schema, call.labels)
    solution = solve(parsed)
    compare = _COMPARE.get(call.task)
    return (compare(call, solution) if compare else []), parsed, solution


def verdict(problems: list[Problem], misread: float, rng: random.Random) -> tuple[str, str]:
    """(mode, reply) for a judge whose chance of misreading this input is `misread`.

    Modes: "caught", "missed", "passed", "false_flag", "unclear" (no verdict given).
    """
    if rng.random() < 0.01:
        return "unclear", "The answer looks broadly in line with the request."
    if problems:
        # The most obvious problem is the one a reader trips over.
        first = min(problems, key=lambda p: p.subtlety)
        p_miss = min(0.9, 0.04 + 0.6 * first.subtlety * misread)
        if rng.random() < p_miss:
            return "missed", "SUPPORTED\nThe answer matches the document."
        return "caught", f"UNSUPPORTED\n{first.reason[:150]}."
    if rng.random() < 0.008 + 0.06 * misread:
        return "false_flag", "UNSUPPORTED\nThe answer does not seem to match the document."
    return "passed", "SUPPORTED\nEvery fact in the answer is stated in the document."
