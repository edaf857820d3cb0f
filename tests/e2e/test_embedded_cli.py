"""The embedded default as a newcomer meets it: `tierline submit` in an empty folder, no broker,
no database, no keys; the batch runs in-process and its results come back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def tierline(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERLINE_")}
    env.update(TIERLINE_SIMULATOR_TIME_SCALE="0.05", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tierline.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240, check=False)


def test_folder_of_documents_runs_embedded_and_results_come_back(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Invoice INV-77 from Acme Ltd\nTotal: 120.00 EUR\n")
    (docs / "b.txt").write_text("Invoice INV-78 from Beta GmbH\nTotal: 99.50 EUR\n")
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({
        "type": "object",
        "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number"}},
        "required": ["invoice_number", "total"],
    }))
    submitted = tierline(tmp_path, "submit", "docs", "--task", "extract", "--schema", "schema.json")
    assert submitted.returncode == 0, submitted.stderr
    batch_id = submitted.stdout.strip().splitlines()[-1]
    assert (tmp_path / ".tierline" / "tierline.db").exists()
    rows = [json.loads(line) for line in tierline(tmp_path, "results", batch_id).stdout.splitlines()]
    assert sorted(r["output"]["invoice_number"] for r in rows) == ["INV-77", "INV-78"]
    assert all(r["status"] == "done" and r["validated"] for r in rows)
    again = tierline(tmp_path, "submit", "docs", "--task", "extract", "--schema", "schema.json")
    assert again.returncode == 0 and again.stdout == ""
    assert "no new job: all 2 job(s)" in again.stderr


def test_bad_file_exits_with_the_line_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"task": "summarize", "document": "fine"}\n{"task": "x"}\n')
    result = tierline(tmp_path, "submit", "bad.jsonl")
    assert result.returncode == 2
    assert "bad.jsonl line 2" in result.stderr and "nothing submitted" in result.stderr
    assert not (tmp_path / ".tierline").exists()


# `tierline` as `python -m tierline.cli` runs it, then the names of the daemon threads still
# alive: the interpreter shuts down around those (it joins the others first).
THREADS_LEFT = """
import sys, threading
from tierline.cli.main import main
sys.argv = ["tierline", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exit:
    code = exit.code
print(sorted(t.name for t in threading.enumerate() if t.daemon))
sys.exit(code)
"""


def test_an_embedded_run_ends_with_no_thread_of_its_own_left(tmp_path: Path) -> None:
    """The simulator's server and the async clients' loop, left running, met the interpreter's
    shutdown: now and then the process crashed as it ended (SIGSEGV), its work done."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Invoice INV-79 from Gamma AB\nTotal: 10.00 EUR\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERLINE_")}
    env.update(TIERLINE_SIMULATOR_TIME_SCALE="0.05", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", THREADS_LEFT, "submit", "docs", "--task",
                           "summarize"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
