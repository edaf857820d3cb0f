"""A workload's answer key: each job's right answer, by the job's key, kept apart from its jobs.

A job is what a producer submits; the right answer is what only the stand-in world knows (the
sample generator, the agreements' annotations). The two meet again by the job's `key`: the
benchmarks and tests score a result row by looking its key up here. On disk the key is JSON
lines, `{"key": ..., "answer": ...}` a line (`tierline sample --answers FILE`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

AnswerKey = dict[str, Any]


class AnswerKeyError(ValueError):
    """An answer-key file that cannot be read as one."""


def write_answers(path: Path, answers: Mapping[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for key, answer in answers.items():
            out.write(json.dumps({"key": key, "answer": answer}, ensure_ascii=False,
                                 sort_keys=True) + "\n")


def read_answers(path: Path) -> AnswerKey:
    answers: AnswerKey = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                key, answer = row["key"], row["answer"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise AnswerKeyError(f"{path} line {number}: not an answer ({exc})") from None
            if key in answers:
                raise AnswerKeyError(f"{path} line {number}: key {key!r} answered twice")
            answers[key] = answer
    return answers
