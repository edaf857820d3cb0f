"""`bench/validation.py --cases FILE`: the figures outside checks read, and the builders'
independence from the validator they measure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.cases.run import split_spread, summarise
from bench.validation import main
from tests.module_imports import imported

ROOT = Path(__file__).resolve().parents[2]
BUILDERS = sorted(p.stem for p in (ROOT / "bench" / "cases").glob("*.py")
                  if p.stem != "run")
FORBIDDEN = ("tierline.validation", "tierline.simulator")

DOCUMENT = ("INVOICE No. 4471\nVendor: Halvorsen Tools AS\nBill to: Mirela Petrescu\n"
            "Date of issue: 3rd of July 2026\nPayment due: 2 August 2026\nTotal: 1.234,56 €\n")
SCHEMA = {"type": "object", "properties": {"vendor": {"type": "string"},
                                           "due_date": {"type": "string"}},
          "required": ["vendor", "due_date"]}


def _case(i: int, output: dict[str, Any], why: str) -> dict[str, Any]:
    return {"id": f"t{i}", "doc": f"d{i % 2}", "task": "extract", "document": DOCUMENT,
            "schema": SCHEMA, "output": output, "should_pass": why.startswith("correct"),
            "why": why}


@pytest.mark.parametrize("module", BUILDERS)
def test_the_case_builders_import_nothing_of_the_validator_or_the_sample_world(module: str) -> None:
    path = ROOT / "bench" / "cases" / f"{module}.py"
    if not path.exists():
        pytest.skip(f"{path.name} not present")
    bad = {m for m in imported(path) if m.startswith(FORBIDDEN)}
    assert bad == set()


def test_only_the_runner_calls_the_validator_and_nothing_reads_its_answer_key() -> None:
    for path in (ROOT / "bench" / "cases").glob("*.py"):
        used = imported(path)
        assert not any(m.startswith(("tierline.validation.truth", "tierline.simulator.truth"))
                       for m in used), path.name
        if path.name != "run.py":
            assert not any(m.startswith("tierline.validation") for m in used), path.name


def test_cases_on_a_small_file_prints_the_figures_outside_checks_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [_case(0, {"vendor": "Halvorsen Tools AS", "due_date": "2 August 2026"}, "correct"),
             _case(1, {"vendor": "Halvorsen Tools AS", "due_date": "2026-08-02"},
                   "correct_normalised"),
             _case(2, {"vendor": "Halvorsen Tools AS", "due_date": "3rd of July 2026"},
                   "wrong_due_is_issue_date"),
             _case(3, {"vendor": "Brightwater Ltd", "due_date": "2 August 2026"},
                   "wrong_vendor_not_in_document")]
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    assert main(["--cases", str(path), "--json", "--splits", "4"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"n", "accept_rate", "catch_rate", "by_why", "catch_rate_without_omissions",
            "strict_failures_on_correct", "strict_failures_on_wrong", "split_spread"} <= set(figures)
    assert figures["n"] == 4
    assert figures["by_why"].keys() == {c["why"] for c in cases}
    assert all(cell["n"] == 1 and cell["rejected"] in (0, 1) for cell in figures["by_why"].values())
    assert 0.0 <= figures["accept_rate"] <= 1.0 and 0.0 <= figures["catch_rate"] <= 1.0
    assert figures["split_spread"]["splits"] == 4


def test_a_case_without_its_verdict_is_refused_with_its_id(tmp_path: Path) -> None:
    bad = _case(0, {"vendor": "x"}, "correct")
    del bad["should_pass"]
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="t0"):
        main(["--cases", str(path)])


def test_outside_cases_need_neither_doc_nor_task_and_may_answer_with_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = {"id": "o1", "document": DOCUMENT, "schema": SCHEMA, "should_pass": False,
             "why": "wrong_missing_field", "output": {"vendor": "Halvorsen Tools AS"}}
    text = plain | {"id": "o2", "output": "I don't know", "why": "wrong_refusal"}
    path = tmp_path / "outside.jsonl"
    path.write_text(json.dumps(plain) + "\n" + json.dumps(text) + "\n", encoding="utf-8")
    assert main(["--cases", str(path), "--json", "--splits", "2"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["n"] == 2 and figures["documents"] == 1
    assert figures["accept_rate"] is None  # no right answers in the file


def _row(doc: str, should_pass: bool, passed: bool, why: str) -> dict[str, Any]:
    return {"id": f"{doc}-{why}", "doc": doc, "why": why, "should_pass": should_pass,
            "passed": passed, "rejected_by": [] if passed else ["some_check"], "messages": []}


def test_rates_count_right_answers_accepted_and_wrong_ones_rejected_omissions_apart() -> None:
    rows = [_row("a", True, True, "correct"), _row("b", True, False, "correct_upper_case"),
            _row("a", False, False, "wrong_date_shifted"), _row("b", False, True, "omitted_party")]
    figures = summarise(rows, splits=3)
    assert figures["accept_rate"] == 0.5
    assert figures["catch_rate"] == 0.5
    assert figures["catch_rate_without_omissions"] == 1.0
    assert figures["strict_failures_on_correct"] == {"some_check": 1}
    assert figures["strict_failures_on_wrong"] == {"some_check": 1}
    assert figures["by_why"]["omitted_party"] == {"n": 1, "rejected": 0}


def test_splits_are_by_document_and_repeatable() -> None:
    rows = [_row(f"d{i}", i % 3 != 0, i % 2 == 0, "correct" if i % 3 else "wrong_x")
            for i in range(40)]
    assert split_spread(rows, 20, seed=1) == split_spread(rows, 20, seed=1)
    spread = split_spread(rows, 20, seed=1)
    assert spread["halves"] == 40
    assert spread["accept_rate"]["p10"] <= spread["accept_rate"]["median"] <= spread["accept_rate"]["p90"]
