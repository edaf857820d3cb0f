"""What grades the validator shares no code with it: the benchmarks' answer key, the sample
workload, the agreements' jobs and the simulator import nothing from `validation/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INDEPENDENT = [ROOT / "jobs" / "truth.py", ROOT / "jobs" / "sample.py",
               ROOT / "jobs" / "sample_parts.py", ROOT / "jobs" / "agreements.py",
               *sorted((ROOT / "providers" / "simulator").glob("*.py"))]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from tierline import validation` names the package in its alias.
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return names


@pytest.mark.parametrize("path", INDEPENDENT, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_nothing_of_the_validator(path: Path) -> None:
    assert not {n for n in imported(path)
                if n == "tierline.validation" or n.startswith("tierline.validation.")}


def test_the_validator_has_no_answer_key() -> None:
    assert not (ROOT / "validation" / "truth.py").exists()
