"""An optional judge: a cheap model asked whether an output is supported by the job's input.

The model is reached through an injected `ask(system, user) -> reply` callable, so this module
stays pure; the caller decides which tier answers and pays for it. A judge that cannot be reached
or answers nonsense never rejects an output on its own: its finding is then lenient.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tierline.jobs.models import JobSpec
from tierline.jobs.sampling import in_sample
from tierline.validation.base import Finding

JUDGE = "judge"
Ask = Callable[[str, str], str]

# The wire format, shared with the simulator (`simulator.judge` reads it back): the
# system prompt's first line marks the request as a judge call; the user turn holds the job's
# own task, instructions, labels and schema, the document and the output to check, each block
# fenced by "<<<" and ">>>" lines.
JUDGE_MARKER = "Task: judge."
JUDGE_SYSTEM = (
    f"{JUDGE_MARKER}\n"
    "You check the work of another assistant. You are given a task, its input and the answer "
    "produced. Decide whether every fact in the answer is supported by the input and the answer "
    "does the task. Reply with one word on the first line, SUPPORTED or UNSUPPORTED, then one "
    "short sentence saying why."
)
DOCUMENT_HEAD = "Document:\n<<<\n"
OUTPUT_HEAD = "\n>>>\n\nOutput to check:\n<<<\n"
OUTPUT_TAIL = "\n>>>"
_MAX_INPUT_CHARS = 12_000
_NEGATIVE = re.compile(
    r"\b(?:unsupported|not\s+(?:supported|faithful|correct|grounded)|unfaithful|ungrounded"
    r"|hallucinat\w*|incorrect|fail(?:s|ed)?)\b", re.IGNORECASE)
_POSITIVE = re.compile(r"\b(?:supported|faithful|correct|grounded|pass(?:es|ed)?)\b",
                       re.IGNORECASE)
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def should_judge(job_key: str, fraction: float) -> bool:
    """Deterministic sampling: the same job always gets the same answer for the same fraction."""
    return in_sample(job_key, fraction)


def judge_prompt(job: JobSpec, output: Any) -> str:
    """The user turn of a judge call: the job as the worker saw it, then the output to check."""
    shown = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    parts = [f"Job task: {job.task.value}"]
    if job.instructions:
        parts.append("Instructions: " + " ".join(job.instructions.split()))
    if job.labels:
        parts.append("Allowed labels: " + ", ".join(job.labels))
    if job.output_schema is not None:
        parts.append("Schema: " + json.dumps(job.output_schema, sort_keys=True))
    head = "\n".join(parts)
    return (f"{head}\n\n{DOCUMENT_HEAD}{job.input_text()[:_MAX_INPUT_CHARS]}"
            f"{OUTPUT_HEAD}{shown[:_MAX_INPUT_CHARS]}{OUTPUT_TAIL}")


def parse_verdict(reply: str) -> bool | None:
    """True for supported, False for unsupported, None when the reply does not say."""
    if not isinstance(reply, str):
        return None
    text = reply.strip()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        for key in ("verdict", "supported", "answer", "result"):
            if isinstance(data.get(key), bool):
                return bool(data[key])
            if isinstance(data.get(key), str):
                text = data[key]
                break
    first = next((line for line in text.splitlines() if line.strip()), "")
    for candidate in (first, text[:400]):
        # The negative forms contain the positive word, so they are looked for first.
        negative, positive = _NEGATIVE.search(candidate), _POSITIVE.search(candidate)
        if negative and (not positive or negative.start() <= positive.start()):
            return False
        if positive:
            return True
    yes_no = _YES_NO.match(first)
    return None if yes_no is None else yes_no.group(1).lower() == "yes"


def judge_check(job: JobSpec, output: Any, ask: Ask, *, strict: bool = True) -> Finding:
    """Ask the judge; its UNSUPPORTED rejects the output when `strict`."""
    try:
        reply = ask(JUDGE_SYSTEM, judge_prompt(job, output))
    except Exception as exc:  # the judge is advisory: its outage must not fail the job
        return Finding(JUDGE, True, f"judge unavailable: {type(exc).__name__}", strict=False)
    verdict = parse_verdict(reply)
    reason = " ".join(str(reply).split())[:160]
    if verdict is None:
        return Finding(JUDGE, True, f"judge verdict unclear: {reason!r}", strict=False)
    return Finding(JUDGE, verdict, f"judge: {reason}", strict=strict)
