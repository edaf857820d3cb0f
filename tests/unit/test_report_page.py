"""The report page: its figures from plain rows, and the page as headless Chromium draws it."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tierline.cli.report_html import render
from tierline.reports.page import AttemptRow, JobRow, summarize

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def job(n: int, status: str = "done", seconds: float = 10.0) -> JobRow:
    return JobRow(f"job-{n:03d}", f"key-{n}", status, "extract", START,
                  START + timedelta(seconds=seconds))


def attempt(job_no: int, no: int, tier: int, cost: str, validated: bool | None = True,
            failed: tuple[str, ...] = (), latency: float = 100.0, outcome: str = "ok",
            disagreement: bool = False) -> AttemptRow:
    findings = [{"check": c, "passed": False, "strict": True, "message": ""} for c in failed]
    if disagreement:
        findings.append({"check": "disagreement", "passed": False, "strict": False,
                         "message": "tiers agree", "checks": list(failed)})
    return AttemptRow(f"job-{job_no:03d}", no, tier, f"model-{tier}", outcome, Decimal(cost),
                      latency, 1000, 200, validated, findings)


def sample_report(disagreement: bool = True) -> tuple[list[JobRow], list[AttemptRow]]:
    jobs = [job(1), job(2, seconds=50), job(3, "needs_review", 80), job(4, seconds=5), job(5)]
    attempts = [
        attempt(1, 1, 1, "0.0001", latency=40),
        attempt(2, 1, 1, "0.0001", False, ("grounding",), latency=60),
        attempt(2, 2, 2, "0.0010", latency=300),
        attempt(3, 1, 2, "0.0010", False, ("schema",), latency=250),
        attempt(3, 2, 3, "0.0200", False, ("schema",), latency=2000,
                disagreement=disagreement),
        attempt(4, 1, 3, "0.0150", latency=1500),
        attempt(5, 1, 1, "0", None, latency=10, outcome="ServerError"),
        attempt(5, 2, 1, "0.0001", latency=50),
    ]
    return jobs, attempts


def test_summary_counts_the_funnel_costs_failures_and_latency() -> None:
    jobs, attempts = sample_report()
    data = summarize("batch b", jobs, attempts, 3, "big-model", (15.0, 75.0))
    assert [(s.label, s.jobs, s.escalated_in) for s in data.funnel] == [
        ("tier 1", 3, 0), ("tier 2", 2, 1), ("tier 3", 2, 1), ("review", 1, 1)]
    assert data.cost_by_tier == {1: Decimal("0.0003"), 2: Decimal("0.0020"),
                                 3: Decimal("0.0350")}
    # Five first answers of 1,000 input and 200 output tokens at $15 / $75 per million.
    assert data.all_top_tier_cost_usd == Decimal("0.1500")
    assert data.saving == pytest.approx(1 - 0.0373 / 0.15)
    assert {c: dict(t) for c, t in data.failures_by_check.items()} == {
        "schema": {2: 1, 3: 1}, "grounding": {1: 1}}
    assert data.disagreements == {"grounding": (0, 1), "schema": (1, 2)}
    assert [(t.tier, t.calls) for t in data.latency] == [(1, 3), (2, 2), (3, 2)]
    assert data.slowest[0].job_id == "job-003" and data.most_expensive[0].job_id == "job-003"
    assert data.most_expensive[0].tiers == "2 → 3"


def test_without_disagreement_records_the_section_is_there_and_says_so() -> None:
    jobs, attempts = sample_report(disagreement=False)
    html = render(summarize("batch b", jobs, attempts, 3, "big-model", (15.0, 75.0)))
    assert "Disagreement rate of the checks" in html and "No disagreement records yet" in html


def test_the_page_is_self_contained() -> None:
    jobs, attempts = sample_report()
    html = render(summarize("batch b", jobs, attempts, 3, "big-model", (15.0, 75.0)))
    addresses = set(re.findall(r"(?:src|href)=['\"]([^'\"]+)", html))
    assert not addresses and "<script" not in html
    assert set(re.findall(r"https?://[^\"' ]+", html)) == {"http://www.w3.org/2000/svg"}


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI"):
        pytest.fail("chromium is not installed (CI installs the Debian package `chromium`)")
    return found


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def test_headless_chromium_draws_the_page(tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed")
    jobs, attempts = sample_report()
    page = tmp_path / "report.html"
    page.write_text(render(summarize("batch b", jobs, attempts, 3, "big-model", (15.0, 75.0))))
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,2400"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    for heading in ("Escalation funnel", "Cost by tier, and against all tier 3",
                    "Validation failures by check", "Disagreement rate of the checks",
                    "Latency per tier", "Slowest jobs", "Most expensive jobs"):
        assert f"<h2>{heading}</h2>" in dom
    assert dom.count("<svg") == 4 and dom.count("<rect") >= 12
    assert "job-003" in dom and "$0.1500" in dom and "75%" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True,
                   timeout=120, check=True)
    assert _png_size(shot) == (1000, 2400)
    # A drawn page, not a blank one: a blank 1000x2400 screenshot compresses to a few kB.
    assert shot.stat().st_size > 60_000
