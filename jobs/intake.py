"""Reading jobs from files: JSONL, CSV, or a folder of text files. Pure parsing, no database.

Every problem is collected with the line (or file) it came from, so a producer fixes a bad file in
one pass; a file with any problem is rejected whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from jobs.models import JobSpec

MAX_ERRORS_SHOWN = 20


@dataclass(frozen=True)
class InputProblem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class InvalidInput(ValueError):
    """The input has problems; nothing of it was written."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:MAX_ERRORS_SHOWN])
        more = len(problems) - MAX_ERRORS_SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        count = len(problems)
        super().__init__(f"{count} problem(s) in the input, nothing submitted:\n{shown}{tail}")


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def parse_records(records: Iterable[tuple[str, Any]]) -> list[JobSpec]:
    """Validate (where, raw) pairs into jobs, or raise InvalidInput naming every bad one."""
    jobs: list[JobSpec] = []
    problems: list[InputProblem] = []
    for where, raw in records:
        if isinstance(raw, InputProblem):
            problems.append(raw)
            continue
        if not isinstance(raw, dict):
            problems.append(InputProblem(where, "expected a JSON object"))
            continue
        try:
            jobs.append(JobSpec.model_validate(raw))
        except ValidationError as exc:
            problems.append(InputProblem(where, _describe(exc)))
    if problems:
        raise InvalidInput(problems)
    if not jobs:
        raise InvalidInput([InputProblem("input", "no jobs found")])
    return jobs


def _decode(data: bytes, where: str) -> str | InputProblem:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputProblem(where, f"not valid UTF-8 (byte {exc.start})")


def jsonl_records(data: bytes, name: str) -> Iterator[tuple[str, Any]]:
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        where = f"{name} line {number}"
        line = _decode(raw_line, where)
        if isinstance(line, InputProblem):
            yield where, line
            continue
        if not line.strip():
            continue
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            yield where, InputProblem(where, f"malformed JSON: {exc.msg} (column {exc.colno})")


_JSON_COLUMNS = {"schema", "messages", "labels", "reference"}
_CONTEXT_COLUMNS = {
    "role", "business_impact", "error_tolerance", "sensitive", "min_tier", "max_tier",
}


def _csv_row(row: dict[str, str], where: str) -> dict[str, Any] | InputProblem:
    record: dict[str, Any] = {}
    context: dict[str, Any] = {}
    for column, value in row.items():
        if column is None or value is None or value == "":
            continue
        if column in _CONTEXT_COLUMNS:
            context[column] = value
        elif column == "labels" and not value.lstrip().startswith("["):
            record["labels"] = [label.strip() for label in value.split("|") if label.strip()]
        elif column in _JSON_COLUMNS:
            try:
                record[column] = json.loads(value)
            except json.JSONDecodeError as exc:
                return InputProblem(where, f"column {column} is not valid JSON: {exc.msg}")
        else:
            record[column] = value
    if context:
        record["context"] = context
    return record


def csv_records(data: bytes, name: str) -> Iterator[tuple[str, Any]]:
    text = _decode(data, name)
    if isinstance(text, InputProblem):
        yield name, text
        return
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        # Header is line 1; a row's line is where the reader finished it.
        where = f"{name} line {reader.line_num}"
        yield where, _csv_row(row, where)


def folder_records(
    folder: Path, task: str, schema: dict[str, Any] | None, labels: list[str]
) -> Iterator[tuple[str, Any]]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for path in files:
        text = _decode(path.read_bytes(), path.name)
        if isinstance(text, InputProblem):
            yield path.name, text
            continue
        record: dict[str, Any] = {"task": task, "document": text}
        if schema is not None:
            record["schema"] = schema
        if labels:
            record["labels"] = labels
        yield path.name, record


def read_jobs(
    path: Path,
    *,
    task: str | None = None,
    schema: dict[str, Any] | None = None,
    labels: list[str] | None = None,
) -> list[JobSpec]:
    """Jobs from a JSONL or CSV file, or from a folder of text files (one job each)."""
    if path.is_dir():
        if not task:
            raise InvalidInput([InputProblem(str(path), "a folder of documents needs --task")])
        return parse_records(folder_records(path, task, schema, labels or []))
    if not path.exists():
        raise InvalidInput([InputProblem(str(path), "no such file")])
    data = path.read_bytes()
    if path.suffix.lower() == ".csv":
        return parse_records(csv_records(data, path.name))
    return parse_records(jsonl_records(data, path.name))
