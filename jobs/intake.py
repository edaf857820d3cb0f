"""Reading jobs from files: JSONL, CSV, or a folder of text files. Pure parsing, no database.

Every problem is collected with the line (or file) it came from, so a producer fixes a bad file in
one pass; a file with any problem is rejected whole. Files are read as a stream of lines, so
`tasks.submit` can write a file of any size in chunks without holding it.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tierline.jobs import strict_json
from tierline.jobs.models import JobSpec

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


def iter_specs(
    records: Iterable[tuple[str, Any]],
) -> Iterator[tuple[str, JobSpec | InputProblem]]:
    """Validate (where, raw) pairs one at a time: each yields its job, or what is wrong."""
    for where, raw in records:
        if isinstance(raw, InputProblem):
            yield where, raw
        elif not isinstance(raw, dict):
            yield where, InputProblem(where, "expected a JSON object")
        else:
            try:
                yield where, JobSpec.model_validate(raw)
            except ValidationError as exc:
                yield where, InputProblem(where, _describe(exc))


def parse_records(records: Iterable[tuple[str, Any]]) -> list[JobSpec]:
    """Validate (where, raw) pairs into jobs, or raise InvalidInput naming every bad one."""
    jobs: list[JobSpec] = []
    problems: list[InputProblem] = []
    for _, item in iter_specs(records):
        if isinstance(item, InputProblem):
            problems.append(item)
        else:
            jobs.append(item)
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


def jsonl_records(lines: Iterable[bytes], name: str) -> Iterator[tuple[str, Any]]:
    """One record per non-blank line; a byte-order mark before the first is allowed."""
    for number, raw_line in enumerate(lines, start=1):
        where = f"{name} line {number}"
        if number == 1:
            raw_line = raw_line.removeprefix(codecs.BOM_UTF8)
        line = _decode(raw_line.rstrip(b"\r\n"), where)
        if isinstance(line, InputProblem):
            yield where, line
            continue
        if not line.strip():
            continue
        try:
            yield where, strict_json.loads(line)
        except strict_json.StrictJSONError as exc:
            yield where, InputProblem(where, f"refused JSON: {exc}")
        except json.JSONDecodeError as exc:
            yield where, InputProblem(where, f"malformed JSON: {exc.msg} (column {exc.colno})")


_JSON_COLUMNS = {"schema", "messages", "labels"}
_CONTEXT_COLUMNS = {
    "role", "business_impact", "error_tolerance", "sensitive", "min_tier", "max_tier",
}
# A CSV field may hold a whole document; the csv module's default limit is 128 KiB.
csv.field_size_limit(max(csv.field_size_limit(), 2**28))


def _csv_row(row: dict[str, str], where: str) -> dict[str, Any] | InputProblem:
    record: dict[str, Any] = {}
    context: dict[str, Any] = {}
    for column, value in row.items():
        if value == "":
            continue
        if column in _CONTEXT_COLUMNS:
            context[column] = value
        elif column == "labels" and not value.lstrip().startswith("["):
            record["labels"] = [label.strip() for label in value.split("|") if label.strip()]
        elif column in _JSON_COLUMNS:
            try:
                record[column] = strict_json.loads(value)
            except strict_json.StrictJSONError as exc:
                return InputProblem(where, f"column {column} is refused JSON: {exc}")
            except json.JSONDecodeError as exc:
                return InputProblem(where, f"column {column} is not valid JSON: {exc.msg}")
        else:
            record[column] = value
    if context:
        record["context"] = context
    return record


class _CsvLines:
    """A file's lines decoded for the csv reader, remembering which could not be read (the
    reader goes on, so every problem of the file is found in one pass)."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self.lines = lines
        self.bad: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        for number, raw in enumerate(self.lines, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad[number] = f"not valid UTF-8 (byte {exc.start})"
                text = raw.decode("utf-8", errors="replace")
            if "\x00" in text:
                self.bad[number] = "contains a NUL character"
                text = text.replace("\x00", "")
            yield text


def csv_records(lines: Iterable[bytes], name: str) -> Iterator[tuple[str, Any]]:
    """One record per row, the first row naming the columns; a row with more or fewer values
    than the header is refused rather than guessed at."""
    source = _CsvLines(lines)
    reader = csv.reader(source)
    try:
        header = next(reader, None)
        if header is None:
            return
        doubled = sorted({c for c in header if header.count(c) > 1})
        if doubled:
            yield f"{name} line 1", InputProblem(f"{name} line 1",
                                                 f"column(s) {', '.join(doubled)} named twice")
            return
        last = reader.line_num
        for row in reader:
            first, last = last + 1, reader.line_num
            # A row's line is where the reader finished it (a quoted field may span lines).
            where = f"{name} line {last}"
            bad = [source.bad[n] for n in range(first, last + 1) if n in source.bad]
            if bad:
                yield where, InputProblem(where, bad[0])
            elif not row:
                continue
            elif len(row) != len(header):
                yield where, InputProblem(
                    where, f"{len(row)} values in a file whose header has {len(header)} columns")
            else:
                yield where, _csv_row(dict(zip(header, row, strict=True)), where)
    except csv.Error as exc:
        where = f"{name} line {reader.line_num}"
        yield where, InputProblem(where, f"unreadable CSV: {exc}")


def folder_records(
    folder: Path, task: str, schema: dict[str, Any] | None, labels: list[str]
) -> Iterator[tuple[str, Any]]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for path in files:
        text = _decode(path.read_bytes().removeprefix(codecs.BOM_UTF8), path.name)
        if isinstance(text, InputProblem):
            yield path.name, text
            continue
        if "\x00" in text:
            yield path.name, InputProblem(path.name, "contains a NUL character")
            continue
        record: dict[str, Any] = {"task": task, "document": text}
        if schema is not None:
            record["schema"] = schema
        if labels:
            record["labels"] = labels
        yield path.name, record


def _file_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        yield from stream


def open_records(
    path: Path,
    *,
    task: str | None = None,
    schema: dict[str, Any] | None = None,
    labels: list[str] | None = None,
) -> Iterator[tuple[str, Any]]:
    """The raw records of a JSONL or CSV file, or of a folder of text files (one job each),
    read as they are consumed: a file of any size is never held whole."""
    if path.is_dir():
        if not task:
            raise InvalidInput([InputProblem(str(path), "a folder of documents needs --task")])
        return folder_records(path, task, schema, labels or [])
    if not path.exists():
        raise InvalidInput([InputProblem(str(path), "no such file")])
    if path.suffix.lower() == ".csv":
        return csv_records(_file_lines(path), path.name)
    return jsonl_records(_file_lines(path), path.name)


def read_jobs(
    path: Path,
    *,
    task: str | None = None,
    schema: dict[str, Any] | None = None,
    labels: list[str] | None = None,
) -> list[JobSpec]:
    """Jobs from a JSONL or CSV file, or from a folder of text files (one job each)."""
    return parse_records(open_records(path, task=task, schema=schema, labels=labels))
