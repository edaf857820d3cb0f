"""The case format, shared by the builders and the runner.

One JSON object a line:

| key | meaning |
| --- | --- |
| id | unique within the file |
| doc | the document the case comes from (cases of one document share it; splits are by it) |
| task | the job's task, `extract` |
| document | the text the model read |
| schema | JSON Schema of the answer |
| output | the model's answer (a JSON object) |
| should_pass | whether the answer is right |
| why | a short category: `correct...` for right answers, else the kind of error |
| features | (optional) what else is notable in the answer, e.g. `upper_case`, `line_break` |
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REQUIRED = {"id": str, "doc": str, "task": str, "document": str, "schema": dict, "output": dict,
            "should_pass": bool, "why": str}


def problems(case: dict[str, Any]) -> list[str]:
    """What is wrong with a case's shape (empty when it is well formed)."""
    found = [f"{key}: missing or not {kind.__name__}" for key, kind in REQUIRED.items()
             if not isinstance(case.get(key), kind)]
    if found:
        return found
    if case["should_pass"] != case["why"].startswith("correct"):
        found.append(f"why {case['why']!r} disagrees with should_pass={case['should_pass']}")
    props = case["schema"].get("properties", {})
    if set(case["output"]) != set(props):
        found.append(f"output keys {sorted(case['output'])} are not the schema's {sorted(props)}")
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
