"""The LLM router: ask the tier-1 model how hard the job is, fall back to the local classifier.

The model call is injected (`complete`), so routing imports no provider SDK and tests script it.
A failed, unparseable or slow answer never blocks a job: the local classifier decides instead,
and the decision says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from tierline.config.tiers import TiersConfig
from tierline.jobs.models import JobSpec, Message
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.routing.base import Decision, Stopwatch
from tierline.routing.features import extract
from tierline.routing.router import ClassifierRouter, decide_with

Complete = Callable[[CompletionRequest], Completion]

SYSTEM = (
    "You route jobs to language models. Tier 1 is a small fast model (extraction, "
    "classification, simple questions); tier 2 a mid-size model (multi-step reasoning, "
    "moderate summaries); tier 3 a frontier model (hard reasoning, expert knowledge, "
    "high stakes). Reply with only the digit of the cheapest tier that will answer the job "
    "correctly."
)
# What a chosen tier, and the tiers around it, are taken to be worth: the LLM gives a label,
# not a probability, so the policy sees a clear yes for it and above and a clear no below.
_AT_OR_ABOVE, _BELOW = 0.9, 0.2
_PREVIEW_CHARS = 2000
_DIGIT = re.compile(r"\b([1-9])\b")


def routing_request(job: JobSpec) -> CompletionRequest:
    text = job.input_text()
    body = (f"Task type: {job.task.value}\n"
            f"Instructions: {job.instructions or '-'}\n"
            f"Input ({len(text)} characters, first {_PREVIEW_CHARS} shown):\n"
            f"{text[:_PREVIEW_CHARS]}\n\nWhich tier (1, 2 or 3)?")
    return CompletionRequest(system=SYSTEM, messages=[Message(role="user", content=body)],
                             max_tokens=4, metadata={"purpose": "routing"})


def parse_tier(text: str, top: int) -> int:
    found = _DIGIT.search(text)
    if not found or not 1 <= int(found.group(1)) <= top:
        raise ValueError(f"no tier in the router model's answer {text[:40]!r}")
    return int(found.group(1))


class LLMRouter:
    """Asks a model; `fallback` decides when the model fails or takes over `timeout_s`."""

    def __init__(self, complete: Complete, fallback: ClassifierRouter,
                 timeout_s: float = 2.0, name: str = "tier1") -> None:
        self.complete = complete
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.version = f"llm:{name}+{fallback.version}"
        # Calls run on worker threads so the wait is bounded even when the call itself is not;
        # a few of them, so one stuck call does not hold up the next decisions.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm-router")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def decide(self, job: JobSpec, tiers: TiersConfig) -> Decision:
        started = Stopwatch.start()
        try:
            future = self._pool.submit(self.complete, routing_request(job))
            answer = future.result(timeout=self.timeout_s)
            label = parse_tier(answer.text, tiers.top)
        except FutureTimeout:
            return self._fall_back(job, tiers, started, f"took over {self.timeout_s:g}s")
        except Exception as exc:  # any failure of the model call means: use the classifier
            return self._fall_back(job, tiers, started, f"{type(exc).__name__}: {exc}")
        probabilities = {t: _AT_OR_ABOVE if t >= label else _BELOW
                         for t in range(1, tiers.top + 1)}
        return decide_with(job, extract(job), probabilities, tiers, self.fallback.policy,
                           self.version, started, (f"LLM router chose tier {label}",))

    def _fall_back(self, job: JobSpec, tiers: TiersConfig, started: Stopwatch,
                   why: str) -> Decision:
        features, probabilities, prior = self.fallback.probabilities(job, tiers)
        return decide_with(job, features, probabilities, tiers, self.fallback.policy,
                           self.fallback.version, started,
                           (f"LLM router failed ({why}): local classifier", *prior))
