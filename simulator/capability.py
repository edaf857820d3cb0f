"""How good a model's answer is: the solver's right answer, degraded by skill vs. difficulty.

Pure and deterministic: `simulate_completion(model, system, messages, max_tokens)` gives the
same output for the same (model, prompt, seed) every time, with no HTTP involved, so benchmarks
can call it directly. The chance of a wrong answer grows with the input's difficulty (length,
OCR noise, how many other dates, amounts and ids stand next to the right ones, how many fields
are asked for, European number formats, dates and durations in words, multi-page layout, quoted
threads, multi-step arithmetic), read from the input itself and never from phrases the
validator looks for, and shrinks with the model's skill; a prompt that
says a previous answer was rejected is easier (the findings say what to avoid).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from dataclasses import dataclass

from tierline.simulator import degrade, judge
from tierline.simulator.profiles import ModelProfile, profile_for
from tierline.simulator.prompt import ParsedPrompt, Solution, find_dates, parse_prompt
from tierline.simulator.solver import solve
from tierline.simulator.tokens import (
    count_message_tokens,
    count_tokens,
    truncate_to_tokens,
)


@dataclass(frozen=True)
class SimulatedOutput:
    text: str
    finish_reason: str  # "stop", or "length" when max_tokens cut the answer
    input_tokens: int
    output_tokens: int
    latency_s: float  # before the server's time_scale
    # The failure mode applied ("distractor", "broken_json", ...), None for the solver's answer.
    failure: str | None = None
    difficulty: float = 0.0


class UnknownModel(LookupError):
    pass


_TASK_BASE = {"extract": 0.05, "classify": 0.0, "summarize": 0.15, "answer": 0.12,
              "math": 0.08, "code": 0.4, "chat": 0.2}
# Values a reader could take for the right one: amounts with cents, order-like ids. (A
# lookahead on a match's first character lets the engine skip the other positions at once.)
_AMOUNTS = re.compile(r"(?=\d)(?<![\d.,])\d{1,3}(?:[.,']\d{3})*[.,]\d{2}(?![\d])")
_IDS = re.compile(r"\b[A-Z]{1,4}-\d{3,}\b")
_NUMBER_WORD_UNIT = re.compile(r"\b(?=[efhnost])(?:one|two|three|four|five|six|seven|eight|"
                               r"nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|"
                               r"seventy|eighty|ninety|hundred)\b[\w\s()-]{0,12}?"
                               r"\b(?:days|months|years)\b", re.IGNORECASE)
_OCR = re.compile(r"\b[A-Za-z]*[a-z][015][a-z][A-Za-z]*\b|\b[015][a-z]{2,}\b|\b[a-z]{2,}[015]\b")
# Every OCR-damaged word has a lower-case letter next to a 0, 1 or 5: most documents have none.
_OCR_HINT = re.compile(r"[a-z][015]|[015][a-z]")
_WORDY = re.compile(r"\w{2}")
# European amounts ("1.234,56", "12,50"); both forms start with a digit (see above).
_EURO_AMOUNT = re.compile(r"(?=\d)(?:\d\.\d{3},\d{2}|(?<![\d.])\d+,\d{2}\b)")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PAGE_BREAK = re.compile(r"^--- Page \d+", re.M)
_QUOTED = re.compile(r"^> ", re.M)


def difficulty(parsed: ParsedPrompt, solution: Solution) -> float:
    """0 (trivial) .. 1 (very hard), from what the input looks like, not from any label."""
    doc = parsed.document
    d = _TASK_BASE.get(parsed.task, 0.2)
    d += 0.2 * min(1.0, count_tokens(doc) / 1200)
    junk = sum(1 for line in doc.splitlines() if len(line) >= 4 and not _WORDY.search(line))
    damaged = len(_OCR.findall(doc)) if _OCR_HINT.search(doc) else 0
    d += 0.15 * min(1.0, (damaged + 2 * junk) / 4)
    dates = find_dates(doc)
    # Distractors present, counted from the input's values, not from any phrase: more dates,
    # amounts and ids than the answer needs, and more asked for at once.
    fields = len((parsed.schema or {}).get("properties", {}) or {}) or 1
    spare = (max(0, len({iso for iso, _ in dates}) - 1)
             + max(0, len(set(_AMOUNTS.findall(doc))) - fields)
             + max(0, len(set(_IDS.findall(doc))) - 1))
    d += 0.25 * min(1.0, spare / 6) + 0.05 * min(1.0, fields / 8)
    if _EURO_AMOUNT.search(doc):
        d += 0.1
    if any(not _ISO_DATE.fullmatch(raw) for _, raw in dates):
        d += 0.07
    if _NUMBER_WORD_UNIT.search(doc):
        d += 0.1
    if _PAGE_BREAK.search(doc):
        d += 0.1
    if _QUOTED.search(doc):
        d += 0.12
    if parsed.task == "math":
        d += 0.07 * max(0, int(solution.distractors.get("", [2])[0]) - 2)
    if not solution.confident:
        d += 0.35
    return min(1.0, float(d))


def error_probability(skill: float, hardness: float, retry: bool = False) -> float:
    """Chance that a model of `skill` gets an input of difficulty `hardness` wrong."""
    p = (1.0 - skill) * (0.05 + 2.2 * math.pow(hardness, 1.3))
    return min(0.95, p * (0.4 if retry else 1.0))


def _rng(seed: int, model: str, system: str, messages: list[dict[str, str]]) -> random.Random:
    blob = json.dumps([seed, model, system, messages], sort_keys=True, ensure_ascii=False)
    return random.Random(int.from_bytes(hashlib.sha256(blob.encode()).digest()[:8], "big"))


def latency(profile: ModelProfile, input_tokens: int, output_tokens: int, jitter: float) -> float:
    base = (profile.base_latency_s + profile.per_output_token_s * output_tokens
            + profile.per_input_token_s * input_tokens)
    return base * jitter


def _judge(profile: ModelProfile, messages: list[dict[str, str]], rng: random.Random
           ) -> tuple[str, str, float]:
    """(mode, reply, difficulty) of a judge call; see `simulator.judge`."""
    user = "\n\n".join(m["content"] for m in messages if m.get("role") == "user")
    call = judge.parse_judge_call(user)
    if call is None:
        return "unclear", "I cannot tell: there is no output to check.", 0.0
    problems, parsed, solution = judge.assess(call)
    hardness = difficulty(parsed, solution)
    mode, reply = judge.verdict(problems, error_probability(profile.skill, hardness), rng)
    return f"judge_{mode}", reply, hardness


def simulate_completion(model: str, system: str, messages: list[dict[str, str]],
                        max_tokens: int = 1024, *, seed: int = 0,
                        profile: ModelProfile | None = None,
                        input_tokens: int | None = None) -> SimulatedOutput:
    """What `model` answers to this prompt; raises `UnknownModel` for a model with no profile.

    `input_tokens` is `count_message_tokens(system, messages)` when the caller has it already
    (the server counts it for its context-window check).
    """
    profile = profile or profile_for(model)
    if profile is None:
        raise UnknownModel(model)
    rng = _rng(seed, model, system, messages)
    parsed = parse_prompt(system, messages)
    failure: str | None = None
    if parsed.task == judge.JUDGE_TASK:
        failure, text, hardness = _judge(profile, messages, rng)
    else:
        solution = solve(parsed)
        hardness = difficulty(parsed, solution)
        text = solution.text
        if not solution.scripted and rng.random() < error_probability(profile.skill, hardness,
                                                                      parsed.retry):
            failure, text = degrade.degrade(parsed.task, solution, profile.skill, rng,
                                            parsed.document)
    if input_tokens is None:
        input_tokens = count_message_tokens(system, messages)
    output_tokens = count_tokens(text)
    finish = "stop"
    if output_tokens > max_tokens:
        text, output_tokens, finish = truncate_to_tokens(text, max_tokens), max_tokens, "length"
    seconds = latency(profile, input_tokens, output_tokens, rng.uniform(0.85, 1.15))
    return SimulatedOutput(text, finish, input_tokens, output_tokens, seconds, failure, hardness)
