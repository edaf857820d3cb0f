"""The judge: its wire format, reading its verdict, and the simulator's imperfect judge model."""

from __future__ import annotations

import functools
import json
from typing import Any

from tierline.jobs.models import JobSpec, TaskType
from tierline.simulator import simulate_completion
from tierline.simulator.answer_key import AnswerKey
from tierline.simulator.judge import Problem, parse_judge_call, verdict
from tierline.simulator.sample import with_answers
from tierline.validation.judge import (
    JUDGE_MARKER,
    JUDGE_SYSTEM,
    judge_check,
    judge_prompt,
    parse_verdict,
)
from tierline.validation.runner import validate

JUDGE_MODEL = "llama-3.1-8b-instant"
SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}}


def ask(system: str, user: str, model: str = JUDGE_MODEL) -> str:
    out = simulate_completion(model, system, [{"role": "user", "content": user}], 64)
    return out.text


@functools.cache
def _sample(n: int = 1200) -> tuple[list[JobSpec], AnswerKey]:
    jobs, answers = with_answers(n, 7)
    return [JobSpec.model_validate(j) for j in jobs], answers


def sample_jobs(task: str) -> list[JobSpec]:
    return [j for j in _sample()[0] if j.task.value == task]


def reference(job: JobSpec) -> Any:
    """The job's right answer, from the sample's answer key."""
    return _sample()[1][str(job.key)]


def _bump(value: Any) -> Any:
    """An invented value of the same type: what a weak model makes up."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value + 7
    if isinstance(value, list):
        return [*value[:-1], "Acme Corporation"]
    return "ZZ-" + str(value)


# --- the wire format --------------------------------------------------------------------------

def test_judge_prompt_is_marked_and_carries_the_job_document_and_output() -> None:
    job = JobSpec.model_validate({"task": "extract", "document": "Total due: USD 119.00\n\nThanks.",
                                  "schema": SCHEMA, "instructions": "Read the\ntotal."})
    user = judge_prompt(job, {"total": 119.0})
    assert JUDGE_SYSTEM.startswith(JUDGE_MARKER) and JUDGE_MARKER == "Task: judge."
    call = parse_judge_call(user)
    assert call is not None
    assert call.task == "extract" and call.schema == SCHEMA
    assert call.document == "Total due: USD 119.00\n\nThanks."
    assert json.loads(call.output) == {"total": 119.0}
    assert call.instructions == "Read the total."


def test_judge_prompt_carries_the_labels_to_choose_from() -> None:
    job = JobSpec(task=TaskType.CLASSIFY, document="Please refund me.", labels=["billing", "other"])
    call = parse_judge_call(judge_prompt(job, "billing"))
    assert call is not None and call.labels == ["billing", "other"]


def test_text_that_is_not_a_judge_call_is_not_read_as_one() -> None:
    assert parse_judge_call("Document:\n<<<\nno output block\n>>>") is None
    out = simulate_completion(JUDGE_MODEL, JUDGE_SYSTEM, [{"role": "user", "content": "hi"}])
    assert parse_verdict(out.text) is None


def test_parse_verdict_reads_the_first_word_and_json_and_says_none_when_unclear() -> None:
    assert parse_verdict("SUPPORTED\nAll values are in the document.") is True
    assert parse_verdict("UNSUPPORTED\ntotal 126 is not stated.") is False
    assert parse_verdict("Not supported: the date is wrong") is False
    assert parse_verdict('{"verdict": "UNSUPPORTED", "reason": "x"}') is False
    assert parse_verdict('{"supported": true}') is True
    assert parse_verdict("The answer looks broadly in line with the request.") is None
    assert parse_verdict("") is None


def test_judge_verdict_model_misses_subtle_errors_more_often_than_obvious_ones() -> None:
    import random

    def caught(subtlety: float) -> int:
        rng = random.Random(3)
        return sum(verdict([Problem("x", subtlety)], 0.5, rng)[0] == "caught" for _ in range(500))

    assert caught(0.15) > caught(1.0) > 250
    rng = random.Random(4)
    false_flags = sum(verdict([], 0.5, rng)[0] == "false_flag" for _ in range(1000))
    assert 5 <= false_flags <= 80  # a few percent, never zero: a small model is a noisy judge


# --- the simulated judge on real sample jobs --------------------------------------------------

def test_simulated_judge_catches_most_invented_values_and_passes_most_right_outputs() -> None:
    jobs = [j for j in sample_jobs("extract") if isinstance(reference(j), dict)][:120]
    caught = passed = 0
    for job in jobs:
        ref = dict(reference(job))
        name = sorted(ref)[len(ref) // 2]
        wrong = ref | {name: _bump(ref[name])}
        caught += parse_verdict(ask(JUDGE_SYSTEM, judge_prompt(job, wrong))) is False
        passed += parse_verdict(ask(JUDGE_SYSTEM, judge_prompt(job, ref))) is not False
    assert caught >= 0.7 * len(jobs), caught
    assert caught < len(jobs), "an 8B judge is not an oracle"
    assert passed >= 0.9 * len(jobs), passed


def test_simulated_judge_flags_most_neighbouring_labels_and_a_weaker_judge_misses_more() -> None:
    jobs = [j for j in sample_jobs("classify") if j.labels][:150]
    flagged = 0
    for job in jobs:
        wrong = next(label for label in job.labels if label != reference(job))
        flagged += parse_verdict(ask(JUDGE_SYSTEM, judge_prompt(job, wrong))) is False
    assert 0.6 * len(jobs) <= flagged < len(jobs)
    # Same input, same subtle error: the chance of a miss follows the judge's skill.
    import random

    from tierline.simulator import error_probability

    def caught(skill: float) -> int:
        rng = random.Random(5)
        misread = error_probability(skill, 0.5)
        return sum(verdict([Problem("x", 1.0)], misread, rng)[0] == "caught" for _ in range(800))

    assert caught(0.35) < caught(0.9)


def test_simulated_judge_is_deterministic_and_costs_tokens() -> None:
    job = sample_jobs("summarize")[0]
    user = judge_prompt(job, " ".join(map(str, reference(job) or [])))
    messages = [{"role": "user", "content": user}]
    first = simulate_completion(JUDGE_MODEL, JUDGE_SYSTEM, messages, 64)
    assert first == simulate_completion(JUDGE_MODEL, JUDGE_SYSTEM, messages, 64)
    assert first.failure is not None and first.failure.startswith("judge_")
    assert first.input_tokens > 50 and 0 < first.output_tokens <= 64


def test_validate_records_the_simulated_judges_verdict() -> None:
    job = next(j for j in sample_jobs("extract") if isinstance(reference(j), dict))
    verdict_ = validate(job, json.dumps(reference(job)), judge=ask, judge_fraction=1.0)
    judged = [f for f in verdict_.findings if f.check == "judge"]
    assert len(judged) == 1 and judged[0].message.startswith("judge:")
    assert judge_check(job, reference(job), ask).check == "judge"
