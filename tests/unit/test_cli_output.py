"""The command's presentation: a help that imports nothing heavy, tables that fit 80 columns
without breaking words, money in decimals, passwords never printed, one-line outages."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rich.console import Console

from tierline.cli.errors import EXIT_UNREACHABLE, describe_outage, mask_url
from tierline.cli.main import COMMANDS, cli
from tierline.cli.render import decimal_text, json_document, status_tables

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "celery", "numpy", "rich", "prometheus_client", "alembic", "pydantic")


def rendered(*renderables: object, width: int = 80) -> list[str]:
    out = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    for item in renderables:
        out.print(item)
    out.file.close()
    return out.export_text().splitlines()


def test_help_lists_every_command_without_importing_any_heavy_module() -> None:
    code = ("import sys\nfrom tierline.cli.main import cli\n"
            "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])")
    shown = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                           text=True, timeout=60, check=True).stdout
    assert "LOADED []" in shown
    for name in COMMANDS:
        assert f"  {name} " in shown


def test_every_listed_command_loads_under_its_name() -> None:
    group = cli
    assert isinstance(group, click.Group)
    for name in COMMANDS:
        command = group.get_command(click.Context(group), name)
        assert command is not None and command.name == name


def test_status_fits_80_columns_without_breaking_words() -> None:
    status = {"batch_id": "3fcb3fff-7b71-4cc6-b9f3-32e6a055de00", "jobs": 123456,
              "queued": 100000, "routed": 3, "running": 5, "validating": 2, "done": 23000,
              "needs_review": 400, "failed": 46, "per_tier": {"1": 17000, "2": 5000, "3": 1400},
              "active_per_tier": {"1": 3, "2": 7}, "escalations": 3200,
              "validation_failures": 3500, "cost_usd": 1234.5678}
    lines = rendered(*status_tables(status))
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    for word in ("needs_review", "validating", "finished here", "in flight", "123,456",
                 "$1,234.5678"):
        assert word in text


def test_cost_table_fits_80_columns_and_cuts_long_groups_readably() -> None:
    from tierline.cli.costs import cost_table

    row = {"feature": "contracts-and-very-long-feature-names-that-go-on", "jobs": 12345,
           "calls": 40000, "failed_calls": 12, "input_tokens": 123_456_789,
           "output_tokens": 9_876_543, "cost_usd": Decimal("1234.5678"),
           "rejected_cost_usd": Decimal("12.3456"), "all_top_tier_cost_usd": Decimal("9876.5")}
    totals = {"cost_usd": Decimal("1234.5678"), "all_top_tier_cost_usd": Decimal("9876.5"),
              "failed_calls": 24}
    lines = rendered(cost_table(["feature"], [row, {**row, "feature": "x"}], totals, 3,
                                "claude-3-opus-20240229"))
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "contrac…" in text
    for value in ("12,345", "40,000", "123.46M/9.88M", "9876.5", "1234.5678", "rejected $",
                  "tier 3 $", "24 failed call(s)"):
        assert value in text


@pytest.mark.parametrize(("value", "text"), [
    (5.16e-06, "0.00000516"), (Decimal("0.0000051600"), "0.00000516"), (0.1, "0.1"),
    (12, "12"), (None, ""), (1e-10, "0.0000000001")])
def test_money_is_written_in_decimal_notation(value: object, text: str) -> None:
    assert decimal_text(value) == text


def test_json_document_is_one_parseable_document_with_decimals_as_numbers() -> None:
    text = json_document({"rows": [{"cost_usd": Decimal("0.00000516")}], "totals": {"n": 1}})
    assert "\n" not in text
    assert json.loads(text)["rows"][0]["cost_usd"] == pytest.approx(5.16e-06)


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://tierline:s3cr%40t@db:5432/tierline",
     "postgresql+psycopg://tierline:***@db:5432/tierline"),
    ("redis://:hunter2@redis:6379/0", "redis://:***@redis:6379/0"),
    ("redis://redis:6379/0", "redis://redis:6379/0"),
    ("sqlite:///.tierline/tierline.db", "sqlite:///.tierline/tierline.db"),
])
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_an_unreachable_database_is_described_in_one_line_without_the_password() -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    url = "postgresql+psycopg://someone:hunter2@127.0.0.1:1/nowhere"
    engine = create_engine(url)
    with pytest.raises(OperationalError) as caught:
        engine.connect()
    engine.dispose()
    message = describe_outage(caught.value, url, None)
    assert message is not None and "\n" not in message
    assert message.startswith("cannot reach the database at postgresql+psycopg://someone:***@")
    assert "hunter2" not in message
    assert describe_outage(ValueError("a bug"), url, None) is None


@pytest.mark.parametrize("args", [["status", "some-batch"], ["results", "some-batch"],
                                  ["costs", "--json"], ["report", "some-batch"],
                                  ["requeue"], ["shadow"], ["feedback", "j", "--bad"]])
def test_every_command_reports_an_unreachable_database_in_one_line(
        args: list[str], tmp_path: Path) -> None:
    env = {"TIERLINE_DATABASE_URL": "postgresql+psycopg://someone:hunter2@127.0.0.1:1/x",
           "TIERLINE_BROKER_URL": "redis://127.0.0.1:1/0", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "tierline.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "cannot reach the database" in done.stderr and "hunter2" not in done.stderr


def test_submit_reports_an_unreachable_broker_in_one_line(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"task": "summarize", "document": "A short note."}\n')
    env = {"TIERLINE_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
           "TIERLINE_BROKER_URL": "redis://:hunter2@127.0.0.1:1/0", "PATH": "/usr/bin:/bin",
           # Publishing waits out a broker outage this long before it gives up.
           "TIERLINE_OUTAGE_WINDOW_S": "2"}
    subprocess.run([sys.executable, "-m", "tierline.cli", "db", "upgrade"], cwd=ROOT, env=env,
                   capture_output=True, timeout=120, check=True)
    done = subprocess.run([sys.executable, "-m", "tierline.cli", "submit", str(jobs)], cwd=ROOT,
                          env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("tierline: cannot reach the broker at redis://:***@127.0.0.1:1/0")
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def test_a_document_larger_than_every_context_window_is_refused_with_its_line(
        tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    huge = "word " * 200_000
    jobs.write_text(json.dumps({"task": "summarize", "document": "fine"}) + "\n"
                    + json.dumps({"task": "summarize", "document": huge}) + "\n")
    result = CliRunner().invoke(cli, ["submit", str(jobs)],
                                env={"TIERLINE_HOME": str(tmp_path / "home")})
    assert result.exit_code == 2
    assert "jobs.jsonl line 2" in result.output and "context window" in result.output
    assert "line 1" not in result.output



@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_without_tables_asks_for_the_migration_in_one_line(
        database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path}/empty.db" if database == "sqlite"
           else request.getfixturevalue("pg_url"))
    env = {"TIERLINE_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "tierline.cli", "costs", "--json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("tierline: the database at ")
    assert "run `tierline db upgrade`" in done.stderr


def test_autovacuum_is_warned_of_only_when_the_server_has_it_off() -> None:
    from tierline.cli.dbcmd import autovacuum_warning

    assert "autovacuum is off" in (autovacuum_warning("off") or "")
    assert autovacuum_warning("on") is None and autovacuum_warning(None) is None
