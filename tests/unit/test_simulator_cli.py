"""`tierline sim serve` and its faults file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierline.cli.main import cli
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
    for option in ("--port", "--host", "--time-scale", "--faults", "--access-log"):
        assert option in result.output


def test_without_the_sim_extra_the_simulator_commands_say_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith(("tierline.simulator", "starlette"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "starlette", None)
    result = CliRunner().invoke(cli, ["sample", "--n", "1"])
    assert result.exit_code != 0
    assert "pip install 'tierline[sim]'" in result.output
