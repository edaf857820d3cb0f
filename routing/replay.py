"""Replay files (recorded weak/strong outcomes on real prompts) and ledger outcomes as examples.

The replay format is described in data/replay/README.md: one JSON object a line with `prompt`,
and either `weak_correct`/`strong_correct` or `weak_score`/`strong_score`. The weak model stands
for tier 1 and the strong one for the top tier.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierline.config.tiers import TIER_COUNT
from tierline.jobs.models import JobSpec, Message, TaskType
from tierline.routing.classifier import Example
from tierline.routing.features import extract

WEAK_TIER = 1
STRONG_TIER = TIER_COUNT  # GPT-4's answers stand for the top tier's


@dataclass(frozen=True)
class ReplayRow:
    id: str
    dataset: str
    prompt: str
    weak: float
    strong: float
    subject: str | None = None
    weak_response: str | None = None
    turns: tuple[str, ...] = ()
    graded: bool = False


class ReplayFormatError(ValueError):
    pass


def parse_row(raw: dict[str, Any], line: int = 0) -> ReplayRow:
    try:
        if "weak_correct" in raw:
            weak, strong, graded = float(bool(raw["weak_correct"])), float(
                bool(raw["strong_correct"])), False
        else:
            weak, strong, graded = float(raw["weak_score"]), float(raw["strong_score"]), True
        turns = raw.get("turns") or ()
        return ReplayRow(
            id=str(raw.get("id", line)),
            dataset=str(raw.get("dataset", "")),
            prompt=str(raw["prompt"]),
            weak=weak,
            strong=strong,
            subject=raw.get("subject"),
            weak_response=raw.get("weak_response"),
            turns=tuple(str(t) for t in turns),
            graded=graded,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReplayFormatError(f"line {line}: not a replay row ({exc})") from None


def read_replay(path: Path | str) -> list[ReplayRow]:
    rows: list[ReplayRow] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                rows.append(parse_row(json.loads(line), number))
    return rows


def row_job(row: ReplayRow) -> JobSpec:
    """The job a replay prompt would be in the fleet: maths word problems are `math` jobs,
    multiple-choice questions `answer` jobs typed by their subject when the row names it."""
    is_math = row.dataset == "gsm8k"
    messages = [Message(role="user", content=t) for t in row.turns[1:]]
    return JobSpec(
        task=TaskType.MATH if is_math else TaskType.ANSWER,
        document=row.turns[0] if row.turns else row.prompt,
        messages=messages,
        query_type=row.subject or None,
    )


def row_example(row: ReplayRow, threshold: float | None = None) -> Example:
    """Outcome per tier from a replay row; a graded row's score counts as good at or above
    `threshold` (default 7, for the usual 1-10 judge scale)."""
    if row.graded:
        bar = 7.0 if threshold is None else threshold
        good = {WEAK_TIER: row.weak >= bar, STRONG_TIER: row.strong >= bar}
    else:
        good = {WEAK_TIER: row.weak >= 0.5, STRONG_TIER: row.strong >= 0.5}
    return Example(extract(row_job(row)), good)


def ledger_examples(
    outcomes: Iterable[tuple[JobSpec, int | None]], top: int = 3
) -> Iterator[Example]:
    """Examples from production: per job, the lowest tier whose output passed validation and
    drew no bad feedback (None when no tier did). Tiers at or above it count as good, those
    below as not: the ledger only shows that a tier failed, or that one above it was needed."""
    for job, lowest_good in outcomes:
        good = {t: lowest_good is not None and t >= lowest_good for t in range(1, top + 1)}
        yield Example(extract(job), good)


def read_ledger_file(path: Path | str) -> list[tuple[JobSpec, int | None]]:
    """Ledger outcomes exported one JSON object a line: {"job": {...a JobSpec...},
    "lowest_good_tier": 2} (null when no tier's output was good)."""
    outcomes: list[tuple[JobSpec, int | None]] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                tier = raw["lowest_good_tier"]
                outcomes.append((JobSpec.model_validate(raw["job"]),
                                 None if tier is None else int(tier)))
            except (KeyError, TypeError, ValueError) as exc:
                raise ReplayFormatError(f"line {number}: not a ledger outcome ({exc})") from None
    return outcomes
