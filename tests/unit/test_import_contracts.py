"""The import contracts of pyproject's [tool.importlinter] hold: the layers (workers -> tasks ->
routing | providers | validation -> the lower packages) and the simulator room that only the demo
entry points import."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = [c["id"] for c in tomllib.loads((ROOT / "pyproject.toml").read_text(
    encoding="utf-8"))["tool"]["importlinter"]["contracts"]]


def test_the_strict_contracts_are_the_ones_configured() -> None:
    assert sorted(CONTRACTS) == ["layers", "simulator"]


@pytest.mark.parametrize("contract", CONTRACTS)
def test_the_import_contract_holds(contract: str) -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed")
    done = subprocess.run([lint, "--contract", contract, "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


FOLDERS = ("jobs", "config", "persistence", "reports", "prompts", "routing", "providers",
           "validation", "tasks", "workers", "migrations", "cli", "simulator")


def test_nothing_imports_the_folders_by_their_bare_names() -> None:
    # Run from the repository root, `import jobs` would still work and load a second copy of
    # every module beside `tierline.jobs`; installed, it fails.
    bare = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "build") or "out" in rel.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            bare += [f"{rel}:{node.lineno} {n}" for n in names if n.split(".")[0] in FOLDERS]
    assert bare == []
