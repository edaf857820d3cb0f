"""The ways a model gets a job wrong, each a pure function of the right answer and a seeded rng.

Extraction: a distractor value from the document (silent, passes grounding), an invented value
(not in the document), a missing field, broken JSON, prose around the JSON, a refusal.
Classification: a neighbouring label, a label that is not allowed, an explanation instead of
the label. Answers and summaries: a distractor fact, an invented number, a dropped fact, a false
"the document does not say". Math: an arithmetic slip that carries through, or no final line.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from tierline.simulator.prompt import Solution
from tierline.simulator.solver_text import math_plan, run_math

REFUSAL = "I'm sorry, but I don't know. I can't determine that from the document."


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, [weights[n] for n in names])[0]


def invent(value: Any, rng: random.Random) -> Any:
    """A plausible value that is not the right one (and usually not in the document)."""
    if isinstance(value, bool) or value is None:
        return "N/A" if value is None else not value
    if isinstance(value, int):
        return value + rng.choice([-10, -1, 1, 5, 15])
    if isinstance(value, float):
        return round(value * rng.choice([0.9, 1.1, 1.01]) + rng.choice([0, 10]), 2)
    if isinstance(value, list):
        return [*value[:-1], "Acme Corporation"] if value else ["Acme Corporation"]
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # shift the day, keep it a valid date
        day = int(text[8:]) % 28 + rng.randint(1, 27)
        return f"{text[:8]}{min(day, 28):02d}" if min(day, 28) != int(text[8:]) else text[:8] + "01"
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if digits:
        i = rng.choice(digits)
        return text[:i] + str((int(text[i]) + rng.randint(1, 8)) % 10) + text[i + 1:]
    return rng.choice(["Acme Corporation", "Global Services Ltd", "the State of California"])


def _extract(solution: Solution, skill: float, rng: random.Random) -> tuple[str, str]:
    value = dict(solution.value) if isinstance(solution.value, dict) else {}
    weak = skill < 0.5
    mode = _pick(rng, {"distractor": 0.4, "invented": 0.25, "missing": 0.1,
                       "broken_json": 0.15 if weak else 0.05, "prose": 0.07 if weak else 0.03,
                       "refusal": 0.03})
    if not value:
        return "refusal", REFUSAL
    tricky = [k for k, v in solution.distractors.items() if v]
    if mode == "distractor" and not tricky:
        mode = "invented"
    if mode == "distractor":
        name = rng.choice(tricky)
        value[name] = rng.choice(solution.distractors[name])
    elif mode in ("invented", "missing"):
        name = rng.choice(list(value))
        value[name] = invent(value[name], rng) if mode == "invented" else None
    elif mode == "refusal":
        return mode, REFUSAL
    text = json.dumps(value, ensure_ascii=False)
    if mode == "broken_json":
        text = rng.choice([text[:-1], text[:-1] + ",}", text.replace('"', "'"),
                           text[: len(text) * 2 // 3]])
    elif mode == "prose":
        text = f"Sure! Here is the extracted data:\n```json\n{text}\n```\nAnything else?"
    return mode, text


def _classify(solution: Solution, rng: random.Random) -> tuple[str, str]:
    others = list(solution.distractors.get("", []))
    mode = _pick(rng, {"distractor": 0.75, "not_allowed": 0.1, "prose": 0.1, "refusal": 0.05})
    if mode == "distractor" and others:
        return mode, others[0] if rng.random() < 0.7 else rng.choice(others)
    if mode == "prose":
        return mode, f"This message is mostly about {solution.value}, so I would label it " \
                     f"{others[0] if others else solution.value}."
    if mode == "refusal":
        return mode, "I don't know."
    return "not_allowed", rng.choice(["refund", "complaint", "general", "urgent"])


def _answer(solution: Solution, rng: random.Random) -> tuple[str, str]:
    value, others = str(solution.value), solution.distractors.get("", [])
    if value == "not stated":
        return "invented", "The customer's phone number is +1 555 0134."
    mode = _pick(rng, {"distractor": 0.5, "invented": 0.3, "refusal": 0.2})
    if mode == "distractor" and others:
        return mode, solution.text.replace(value, str(rng.choice(others)))
    if mode == "refusal":
        return mode, "The document does not say."
    return "invented", solution.text.replace(value, str(invent(value, rng)))


def _summarize(solution: Solution, rng: random.Random) -> tuple[str, str]:
    keys = [str(k) for k in solution.value] if isinstance(solution.value, list) else []
    others = solution.distractors.get("", [])
    mode = _pick(rng, {"distractor": 0.4, "invented": 0.3, "dropped": 0.25, "refusal": 0.05})
    if not keys or mode == "refusal":
        return "refusal", "I'm not able to summarize this document."
    i = rng.randrange(len(keys))
    if mode == "distractor" and others:
        keys[i] = str(rng.choice(others))
    elif mode == "dropped" and len(keys) > 1:
        del keys[i]
    else:
        mode = "invented"
        numbers = list(re.finditer(r"\d+(?:\.\d+)?", keys[i]))
        if numbers:
            m = rng.choice(numbers)
            keys[i] = keys[i][: m.start()] + str(invent(int(float(m.group()) * 10) + 7, rng)) \
                + keys[i][m.end():]
        else:
            keys[i] = keys[i].rstrip(".") + " in Chicago."
    return mode, " ".join(keys)


def _math(problem: str, rng: random.Random) -> tuple[str, str]:
    steps, groups, _ = math_plan(problem)
    slip = (rng.randrange(len(steps)), float(rng.choice([-10, -2, -1, 1, 2, 10, 100])))
    text, _ = run_math(steps, groups, slip)
    if rng.random() < 0.15:
        return "no_final_line", text.rsplit("\n", 1)[0]
    return "arithmetic_slip", text


def degrade(task: str, solution: Solution, skill: float, rng: random.Random,
            document: str = "") -> tuple[str, str]:
    """(failure mode, wrong answer text) for a job the model gets wrong."""
    if task == "extract":
        return _extract(solution, skill, rng)
    if task == "classify":
        return _classify(solution, rng)
    if task == "answer":
        return _answer(solution, rng)
    if task == "summarize":
        return _summarize(solution, rng)
    if task == "math":
        return _math(document, rng)
    return "refusal", REFUSAL
