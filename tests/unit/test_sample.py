"""The sample workload: deterministic, valid jobs, with real variation in difficulty."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierline.jobs.intake import parse_records
from tierline.jobs.models import JobSpec, TaskType
from tierline.simulator.answer_key import AnswerKeyError, read_answers
from tierline.simulator.cli import sample
from tierline.simulator.sample import generate, with_answers
from tierline.simulator.sample_parts import WORDING, fmt_amount, fmt_date


def test_same_seed_gives_the_same_jobs() -> None:
    assert list(generate(50, seed=3)) == list(generate(50, seed=3))


def test_different_seeds_give_different_jobs() -> None:
    assert list(generate(20, seed=1)) != list(generate(20, seed=2))


def test_a_shorter_run_is_a_prefix_of_a_longer_one() -> None:
    assert list(generate(10)) == list(generate(40))[:10]


def test_every_job_validates_as_a_jobspec_with_a_unique_key_and_an_answer() -> None:
    jobs, answers = with_answers(400)
    specs = [JobSpec.model_validate(j) for j in jobs]
    assert len({s.key for s in specs}) == len(specs)
    assert set(answers) == {s.key for s in specs}
    assert all(answer is not None for answer in answers.values())
    assert jobs == list(generate(400))


def test_the_mix_covers_every_task_and_is_mostly_extraction_and_triage() -> None:
    tasks = Counter(TaskType(j["task"]) for j in generate(1000))
    assert set(tasks) >= {TaskType.EXTRACT, TaskType.CLASSIFY, TaskType.SUMMARIZE,
                          TaskType.ANSWER, TaskType.MATH}
    assert tasks[TaskType.EXTRACT] + tasks[TaskType.CLASSIFY] > 500


def test_extraction_references_validate_against_their_own_schema() -> None:
    import jsonschema

    jobs, answers = with_answers(300)
    for job in jobs:
        if job["task"] == "extract":
            jsonschema.validate(answers[job["key"]], job["schema"])


def test_hard_inputs_exist_but_are_the_minority() -> None:
    docs = [j["document"] for j in generate(1000)]
    eu = sum(bool(re.search(r"\d\.\d{3},\d{2}", d)) for d in docs)
    # A balance carried forward or an earlier agreement's date, in any of their wordings.
    wordings = [w.split("{")[0] for w in WORDING["carried"] + WORDING["replaces"]]
    distractors = sum(any(w in d for w in wordings) for d in docs)
    pages = sum("--- Page" in d for d in docs)
    assert 10 < eu < 300 and 30 < distractors < 400 and 0 < pages < 100


def test_context_sometimes_marks_executives_and_sensitive_documents() -> None:
    contexts = [j["context"] for j in generate(1000)]
    assert any(c["role"] == "executive" for c in contexts)
    assert 0 < sum(c["sensitive"] for c in contexts) < 300


def test_number_and_date_formats() -> None:
    import datetime as dt

    assert fmt_amount(1234.5) == "1,234.50"
    assert fmt_amount(1234.5, eu=True) == "1.234,50"
    day = dt.date(2025, 3, 3)
    assert fmt_date(day, "long") == "3 March 2025"
    assert fmt_date(day, "us") == "March 3, 2025"
    assert fmt_date(day, "dotted") == "03.03.2025"
    assert fmt_date(day, "iso") == "2025-03-03"


def test_sample_command_prints_jsonl() -> None:
    result = CliRunner().invoke(sample, ["--n", "5", "--seed", "2"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 5
    assert [json.loads(line) for line in lines] == list(generate(5, seed=2))


def test_sample_command_writes_the_answer_key_apart_from_the_jobs(tmp_path: Path) -> None:
    answers_file = tmp_path / "answers.jsonl"
    result = CliRunner().invoke(sample, ["--n", "5", "--seed", "2",
                                         "--answers", str(answers_file)])
    assert result.exit_code == 0
    jobs = [json.loads(line) for line in result.output.strip().splitlines()]
    assert not any("reference" in job for job in jobs)
    assert read_answers(answers_file) == with_answers(5, seed=2)[1]
    # What the command prints is a file submit takes as it is.
    lines = [(f"line {i}", job) for i, job in enumerate(jobs, start=1)]
    assert [spec.key for spec in parse_records(lines)] == [job["key"] for job in jobs]


def test_an_answer_key_file_names_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text('{"key": "a", "answer": 1}\n{"answer": 2}\n')
    with pytest.raises(AnswerKeyError, match="line 2: not an answer"):
        read_answers(path)
    path.write_text('{"key": "a", "answer": 1}\n{"key": "a", "answer": 2}\n')
    with pytest.raises(AnswerKeyError, match="line 2: key 'a' answered twice"):
        read_answers(path)
