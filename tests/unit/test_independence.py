"""What grades the validator shares no code with it: the benchmarks' answer key, the sample
workload, the agreements' jobs and the simulator import nothing from `validation/`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.module_imports import imported

ROOT = Path(__file__).resolve().parents[2]
# The whole simulator room: answer key, sample workload, agreements, the simulated providers.
INDEPENDENT = sorted((ROOT / "simulator").glob("*.py"))


@pytest.mark.parametrize("path", INDEPENDENT, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_nothing_of_the_validator(path: Path) -> None:
    assert not {n for n in imported(path)
                if n == "tierline.validation" or n.startswith("tierline.validation.")}


def test_the_validator_has_no_answer_key() -> None:
    assert not (ROOT / "validation" / "truth.py").exists()
