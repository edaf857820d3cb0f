"""Real agreements as extraction jobs: the EDGAR non-disclosure agreements of Kleister NDA.

`agreement_jobs(path, n)` reads the data set's JSON lines (`id`, `document`, `expected`; see its
README) and yields extraction jobs in the shape `JobSpec.model_validate` takes;
`agreement_answers(rows, n)` is their answer key, each job's annotation by its key (normalised:
"Nike Inc.", "2001-04-18", "3 years"). The demo mixes
them into the sample workload so that the validator meets wording nobody here wrote; the
simulator answers them from the same annotations (`simulator.answer_book`).

`held_out` picks the agreements whose id starts with 8-f: the checks' heuristics were chosen
looking at the others (ids 0-7), so figures on these are not tuned ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tierline.simulator.answer_key import AnswerKey

ROOT = Path(__file__).resolve().parents[1]
# A copy of ../shared/data/kleister-nda (the train split), so the demo needs nothing outside.
DEFAULT_PATH = ROOT / "data" / "kleister-nda" / "train.jsonl"
_TEXT = {"type": ["string", "null"]}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"parties": {"type": "array", "items": {"type": "string"}},
                   "effective_date": _TEXT, "jurisdiction": _TEXT, "term": _TEXT},
    "required": ["parties", "effective_date", "jurisdiction", "term"],
}
INSTRUCTIONS = ("Extract the parties, the effective date, the governing law's jurisdiction and "
                "the agreement's term, as the agreement states them; null where it does not.")


def annotation(row: dict[str, Any]) -> dict[str, Any]:
    """The row's annotated fields under the schema's names."""
    expected = row.get("expected", {})
    return {"parties": list(expected.get("party") or []),
            "effective_date": expected.get("effective_date"),
            "jurisdiction": expected.get("jurisdiction"), "term": expected.get("term")}


def read_agreements(path: Path = DEFAULT_PATH, *, held_out: bool = True) -> list[dict[str, Any]]:
    """The rows of `path`, only the held-out half (ids 8-f) unless asked otherwise."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [r for r in rows if not held_out or r["id"][:1] in "89abcdef"]


def job_key(row: dict[str, Any]) -> str:
    return f"agreement-{row['id']}"


def agreement_answers(rows: list[dict[str, Any]], n: int) -> AnswerKey:
    """The answer key of `agreement_jobs(rows, n)`: each job's annotation by its key."""
    return {job_key(row): annotation(row) for row in rows[:n]}


def agreement_jobs(rows: list[dict[str, Any]], n: int) -> Iterator[dict[str, Any]]:
    """Up to `n` extraction jobs, one per agreement, in the file's order."""
    for row in rows[:n]:
        yield {"task": "extract", "document": row["document"], "schema": SCHEMA,
               "instructions": INSTRUCTIONS,
               "key": job_key(row), "feature": "nda-review",
               "query_type": "agreement", "tenant": "acme", "user": "legal01",
               "context": {"role": "legal", "business_impact": "medium",
                           "error_tolerance": "medium"}}
