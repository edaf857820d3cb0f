"""`tierline sim serve` and its faults file."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tierline.simulator import load_faults
from tierline.simulator.cli import sim


def test_faults_file_reads_json_and_toml(tmp_path: Path) -> None:
    as_json = tmp_path / "faults.json"
    as_json.write_text('{"llama-3.1-8b-instant": {"rate_limit": 0.2, "retry_after_s": 3}}')
    as_toml = tmp_path / "faults.toml"
    as_toml.write_text('[faults."*"]\nserver_error = 0.1\nscript = ["timeout", "ok"]\n')
    assert load_faults(as_json)["llama-3.1-8b-instant"].rate_limit == 0.2
    spec = load_faults(as_toml)["*"]
    assert spec.server_error == 0.1 and spec.script == ["timeout", "ok"]


def test_serve_command_documents_its_options() -> None:
    result = CliRunner().invoke(sim, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--host", "--time-scale", "--faults"):
        assert option in result.output
