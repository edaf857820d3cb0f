"""`tierline router train` and `tierline router eval` end to end on small files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierline.cli.router import router

REPLAY = Path(__file__).resolve().parents[2] / "data" / "replay"


def _gsm8k_sample(tmp_path: Path, n: int = 60) -> Path:
    lines = (REPLAY / "gsm8k.jsonl").read_text(encoding="utf-8").split("\n")[:n]
    path = tmp_path / "gsm8k-sample.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_train_writes_a_versioned_model_and_eval_uses_it(tmp_path: Path) -> None:
    sample = _gsm8k_sample(tmp_path)
    out = tmp_path / "router-t.json"
    runner = CliRunner()
    trained = runner.invoke(router, ["train", str(sample), "--version", "router-t",
                                     "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    assert json.loads(out.read_text())["version"] == "router-t"
    scores = tmp_path / "scores.jsonl"
    result = runner.invoke(router, ["eval", str(sample), "--json", "--model", str(out),
                                    "--scores-out", str(scores)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    for key in ("apgr", "cpt50", "cpt80", "strong_share_at_95", "random_strong_share_at_95",
                "n", "cascade_quality", "cascade_strong_share_at_95"):
        assert key in figures
    assert figures["n"] == 60
    written = [json.loads(line) for line in scores.read_text().splitlines()]
    assert len(written) == 60
    assert set(written[0]) == {"id", "score"}


def test_eval_with_the_shipped_model_on_unseen_ids_and_scores(tmp_path: Path) -> None:
    rows = [
        {"id": "new-1", "dataset": "mmlu", "subject": "college_physics",
         "prompt": "A photon has energy 2 eV. Its wavelength?\nA. 1\nB. 2\nAnswer:",
         "weak_score": 3, "strong_score": 9},
        {"id": "new-2", "dataset": "mmlu", "prompt": "Which is a marketing mix element?\n"
         "A. price\nB. tide\nAnswer:", "weak_score": 9, "strong_score": 9},
    ]
    path = tmp_path / "graded.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(router, ["eval", str(path), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["n"] == 2
    assert "cascade_quality" not in figures


def test_eval_cross_validated(tmp_path: Path) -> None:
    result = CliRunner().invoke(router, ["eval", str(_gsm8k_sample(tmp_path)), "--cv", "3"])
    assert result.exit_code == 0, result.output
    assert "3-fold cross-validation" in result.output


def test_eval_reports_a_malformed_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(router, ["eval", str(path)])
    assert result.exit_code != 0
    assert "line 1" in result.output


def test_eval_draws_the_curve(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "curve.png"
    result = CliRunner().invoke(router, ["eval", str(_gsm8k_sample(tmp_path)), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_train_from_a_ledger_export(tmp_path: Path) -> None:
    job = {"task": "classify", "document": "refund please", "labels": ["refund", "other"],
           "query_type": "triage"}
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("\n".join(json.dumps({"job": job, "lowest_good_tier": t})
                                for t in [1, 1, 2, None]), encoding="utf-8")
    out = tmp_path / "router-l.json"
    result = CliRunner().invoke(router, ["train", "--ledger", str(ledger), "--version",
                                         "router-l", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ledger:4" in result.output
