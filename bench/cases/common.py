"""The case format, shared by the builders and the runner.

One JSON object a line:

| key | meaning |
| --- | --- |
| id | unique within the file |
| doc | the document the case comes from; cases of one document share it and splits are by it (optional: the document's text stands in) |
| task | the job's task (optional, default `extract`) |
| document | the text the model read |
| schema | JSON Schema of the answer |
| output | the model's answer: a JSON object (or the raw text a model returned) |
| should_pass | whether the answer is right |
| why | a short category: `correct...` for right answers, else the kind of error |
| features | (optional) what else is notable, e.g. `upper_case`, `line_break`, a locale |
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# What the runner needs of any case file (outside ones included); `task` defaults to extract
# and `doc` to the document's text.
REQUIRED = {"id": str, "document": str, "schema": dict, "should_pass": bool, "why": str}


def problems(case: dict[str, Any]) -> list[str]:
    """What keeps the runner from judging a case (empty when it can)."""
    found = [f"{key}: missing or not {kind.__name__}" for key, kind in REQUIRED.items()
             if not isinstance(case.get(key), kind)]
    if "output" not in case:
        found.append("output: missing")
    return found


def builder_problems(case: dict[str, Any]) -> list[str]:
    """What is wrong with a case this package built: the runner's needs, plus a `doc`, a `why`
    that agrees with `should_pass`, and an answer with exactly the schema's keys."""
    found = problems(case)
    if found:
        return found
    if not isinstance(case.get("doc"), str) or case.get("task") != "extract":
        found.append("doc or task missing")
    if case["should_pass"] != case["why"].startswith("correct"):
        found.append(f"why {case['why']!r} disagrees with should_pass={case['should_pass']}")
    props = case["schema"].get("properties", {})
    if not isinstance(case["output"], dict) or set(case["output"]) != set(props):
        found.append(f"output keys are not the schema's {sorted(props)}")
    if not case["document"].strip():
        found.append("empty document")
    return found


def write_cases(cases: Iterable[dict[str, Any]], out: Path) -> int:
    """Write one case a line (keys in a fixed order, so that files diff well); return the count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_cases(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def nullable(kind: str, description: str) -> dict[str, Any]:
    return {"type": [kind, "null"], "description": description}
