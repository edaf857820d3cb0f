"""Checks at submit time that need the tiers file: a job no tier could ever take is refused
with its line, like any other bad line, instead of failing later in the fleet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jobs.intake import InputProblem
from jobs.models import JobSpec
from jobs.tiers import TiersConfig


def largest_window(tiers: TiersConfig) -> tuple[int, int]:
    """The largest context window any tier offers (every endpoint of a tier must fit the job,
    as the router requires), and that tier."""
    return max((t.context_window, t.tier) for t in tiers.tiers)


def oversized(specs: Sequence[JobSpec], wheres: Sequence[str],
              tiers: TiersConfig) -> list[InputProblem]:
    """The jobs larger (input plus expected output, as the router counts them) than every
    tier's context window."""
    from routing.features import extract

    window, tier = largest_window(tiers)
    problems = []
    for spec, where in zip(specs, wheres, strict=True):
        tokens = extract(spec).total_tokens
        if tokens > window:
            problems.append(InputProblem(
                where, f"about {tokens:,} tokens, more than any tier's context window (the "
                       f"largest is tier {tier}'s, {window:,} tokens)"))
    return problems


def record_wheres(path: Path, task: str | None, schema: dict[str, Any] | None,
                  labels: list[str] | None) -> list[str]:
    """Where each job of a file that parsed cleanly came from (`FILE line N`, or a file name),
    in the order `jobs.intake.read_jobs` returned them."""
    from jobs import intake

    if path.is_dir():
        records = intake.folder_records(path, task or "", schema, labels or [])
    elif path.suffix.lower() == ".csv":
        records = intake.csv_records(path.read_bytes(), path.name)
    else:
        records = intake.jsonl_records(path.read_bytes(), path.name)
    return [where for where, _ in records]
