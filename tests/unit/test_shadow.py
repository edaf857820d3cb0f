"""Shadow testing's pure parts: the tiers file's candidates, the sample, agreement, the report."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tierline.config.tiers import DEFAULT_TIERS_FILE, TiersFileError, load_tiers
from tierline.jobs.models import JobSpec, TaskType
from tierline.reports.shadow import MIN_COMPARED, ShadowPair, shadow_verdict, summarize_shadows
from tierline.routing.shadow import sampled_candidates, should_shadow
from tierline.validation.agreement import outputs_agree

CANDIDATE = {
    "provider": "groq", "model": "llama-3.3-70b-versatile", "price_in": 0.59,
    "price_out": 0.79, "context_window": 131072, "fraction": 0.25,
}


def _toml_value(value: Any) -> str:
    return json.dumps(value)


def tiers_file(tmp_path: Path, *shadows: dict[str, Any]) -> Path:
    """The default tiers file with `shadows` added to tier 1."""
    raw = tomllib.loads(DEFAULT_TIERS_FILE.read_text(encoding="utf-8"))
    text = DEFAULT_TIERS_FILE.read_text(encoding="utf-8")
    blocks = ["\n".join(["[[tiers.shadows]]",
                         *(f"{k} = {_toml_value(v)}" for k, v in shadow.items())])
              for shadow in shadows]
    # Insert the blocks right after tier 1's endpoints, before the second [[tiers]].
    head, sep, tail = text.partition("\n[[tiers]]\ntier = 2")
    assert sep and raw["tiers"][1]["tier"] == 2
    path = tmp_path / "tiers.toml"
    path.write_text(head + "\n" + "\n\n".join(blocks) + "\n" + sep + tail, encoding="utf-8")
    return path


def test_tier_reads_its_shadow_candidates(tmp_path: Path) -> None:
    tiers = load_tiers(tiers_file(tmp_path, CANDIDATE))
    (shadow,) = tiers.get(1).shadows
    assert (shadow.label, shadow.fraction, shadow.timeout_s) == (
        "groq:llama-3.3-70b-versatile", 0.25, 30.0)
    assert tiers.get(1).shadow("groq:llama-3.3-70b-versatile") == shadow
    assert tiers.get(2).shadows == () and tiers.get(1).shadow("groq:other") is None
    # Candidates are not part of the fallback chain.
    assert shadow.model not in [e.model for e in tiers.endpoints()]


def test_shipped_tiers_file_has_no_active_shadow_and_its_commented_example_parses(
        tmp_path: Path) -> None:
    assert all(t.shadows == () for t in load_tiers().tiers)
    text = DEFAULT_TIERS_FILE.read_text(encoding="utf-8")
    uncommented = re.sub(r"(?m)^  # (\[\[tiers\.shadows\]\]|\w+ = .*)$", r"  \1", text)
    path = tmp_path / "tiers.toml"
    path.write_text(uncommented, encoding="utf-8")
    (shadow,) = load_tiers(path).get(1).shadows
    assert shadow.fraction == 0.1


@pytest.mark.parametrize(("change", "message"), [
    ({"fraction": 1.5}, "less than or equal to 1"),
    ({"fraction": -0.1}, "greater than or equal to 0"),
    ({"fraction": "often"}, "valid number"),
    ({"price_in": -1}, "greater than or equal to 0"),
    ({"colour": "red"}, "Extra inputs are not permitted"),
])
def test_bad_shadow_values_are_named_in_the_error(tmp_path: Path, change: dict[str, Any],
                                                  message: str) -> None:
    with pytest.raises(TiersFileError) as caught:
        load_tiers(tiers_file(tmp_path, {**CANDIDATE, **change}))
    assert "shadows" in str(caught.value) and message in str(caught.value)


def test_shadow_needs_a_fraction(tmp_path: Path) -> None:
    candidate = {k: v for k, v in CANDIDATE.items() if k != "fraction"}
    with pytest.raises(TiersFileError, match=r"(?s)shadows.*fraction.*Field required"):
        load_tiers(tiers_file(tmp_path, candidate))


def test_shadowing_the_pinned_model_itself_or_a_candidate_twice_is_refused(
        tmp_path: Path) -> None:
    itself = {**CANDIDATE, "model": "llama-3.1-8b-instant"}
    with pytest.raises(TiersFileError, match="pinned model itself"):
        load_tiers(tiers_file(tmp_path, itself))
    with pytest.raises(TiersFileError, match="twice"):
        load_tiers(tiers_file(tmp_path, CANDIDATE, CANDIDATE))


def test_sampling_is_deterministic_and_takes_about_the_fraction() -> None:
    ids = [f"job-{i}" for i in range(20_000)]
    first = [should_shadow(i, "groq:a", 0.1) for i in ids]
    assert first == [should_shadow(i, "groq:a", 0.1) for i in ids]
    assert 0.09 < sum(first) / len(ids) < 0.11
    assert not any(should_shadow(i, "groq:a", 0.0) for i in ids[:100])
    assert all(should_shadow(i, "groq:a", 1.0) for i in ids[:100])


def test_sampling_grows_with_the_fraction_and_is_independent_per_candidate() -> None:
    ids = [f"job-{i}" for i in range(5_000)]
    small = {i for i in ids if should_shadow(i, "groq:a", 0.1)}
    large = {i for i in ids if should_shadow(i, "groq:a", 0.3)}
    assert small <= large  # raising the fraction keeps the jobs already sampled
    other = {i for i in ids if should_shadow(i, "groq:b", 0.1)}
    # Independent samples of 10% overlap on about 1% of the jobs, not 10%.
    assert len(small & other) < 0.03 * len(ids)


def test_sampled_candidates_of_a_tier(tmp_path: Path) -> None:
    second = {**CANDIDATE, "model": "mixtral-8x7b-32768", "fraction": 0.0}
    tier = load_tiers(tiers_file(tmp_path, {**CANDIDATE, "fraction": 1.0}, second)).get(1)
    assert [s.model for s in sampled_candidates(tier, "any-job")] == ["llama-3.3-70b-versatile"]


EXTRACT = JobSpec(task=TaskType.EXTRACT, document="Invoice INV-1, total 12.50",
                  schema={"type": "object", "properties": {"total": {"type": "number"}}})
CLASSIFY = JobSpec(task=TaskType.CLASSIFY, document="refund please",
                   labels=["billing", "refund", "other"])
MATH = JobSpec(task=TaskType.MATH, document="What is 2 + 3?")
SUMMARY = JobSpec(task=TaskType.SUMMARIZE, document="A long report.")


@pytest.mark.parametrize(("job", "live", "candidate", "expected"), [
    (EXTRACT, '{"total": 12.5, "id": "INV-1"}', '```json\n{"id": "INV-1", "total": 12.50}\n```',
     True),
    (EXTRACT, '{"total": 1250}', '{"total": 1250.0}', True),
    (EXTRACT, '{"flag": true}', '{"flag": 1}', False),
    (EXTRACT, '{"total": 12.5}', '{"total": 15}', False),
    (EXTRACT, '{"total": 12.5}', "I don't know.", False),
    (EXTRACT, "not json", "I don't know.", None),
    (CLASSIFY, "refund", "**Refund.**", True),
    (CLASSIFY, "refund", "billing", False),
    (CLASSIFY, "shipping", "none of these", None),
    (MATH, "2 + 3 = 5\n#### 5", "Adding: 5\n#### 5.0", True),
    (MATH, "#### 5", "#### 6", False),
    (MATH, "#### 5", "five", False),
    (SUMMARY, "A report.", "A report.", None),
])
def test_agreement_compares_canonical_forms(job: JobSpec, live: str, candidate: str,
                                            expected: bool | None) -> None:
    assert outputs_agree(job, live, candidate) is expected


def pair(pinned: bool | None, candidate: bool | None, *, answered: bool = True,
         agrees: bool | None = None, candidate_cost: str = "0.002") -> ShadowPair:
    return ShadowPair(
        tier=1, pinned_model="small-1", candidate="groq:big-2", answered=answered,
        candidate_passed=candidate if answered else None, pinned_passed=pinned, agrees=agrees,
        candidate_latency_ms=300.0, pinned_latency_ms=100.0,
        candidate_cost=Decimal(candidate_cost) if answered else Decimal(0),
        pinned_cost=Decimal("0.001"),
    )


def test_verdict_needs_enough_jobs_then_reads_the_paired_outcomes() -> None:
    assert shadow_verdict(MIN_COMPARED - 1, 0, 20).startswith("too few samples")
    assert shadow_verdict(100, 3, 2) == (
        "candidate passes as often as the pinned model on 100 jobs")
    assert shadow_verdict(100, 12, 2) == (
        "candidate fails more often than the pinned model on 100 jobs")
    assert shadow_verdict(100, 0, 9).startswith("candidate passes more often")
    assert shadow_verdict(40, 0, 0).startswith("candidate passes as often")


def test_report_compares_on_the_same_jobs_and_counts_errors_as_failures() -> None:
    pairs = [
        *[pair(True, True, agrees=True) for _ in range(30)],
        *[pair(True, False, agrees=False) for _ in range(6)],
        *[pair(True, None, answered=False) for _ in range(4)],
        pair(None, True),  # live attempt not validated yet: not compared
    ]
    (summary,) = summarize_shadows(pairs)
    assert (summary.jobs, summary.errors, summary.compared, summary.comparable) == (41, 4, 40, 36)
    assert summary.pinned_pass_rate == 1.0
    assert summary.candidate_pass_rate == 30 / 40
    assert summary.agreement_rate == 30 / 36
    assert summary.candidate_latency_ms == 300.0 and summary.pinned_latency_ms == 100.0
    # The candidate's cost per answered call; the errors cost nothing.
    assert summary.candidate_cost_per_1k == Decimal("2")
    assert summary.pinned_cost_per_1k == Decimal("1")
    assert summary.candidate_cost_usd == Decimal("0.002") * 37
    assert summary.verdict == "candidate fails more often than the pinned model on 40 jobs"
    as_dict = summary.as_dict()
    assert as_dict["candidate"] == "groq:big-2" and as_dict["candidate_pass_rate"] == 0.75
    json.dumps(as_dict)


def test_report_groups_per_tier_pinned_model_and_candidate() -> None:
    a = pair(True, True)
    b = replace(a, candidate="groq:other-3")
    c = replace(a, tier=2, pinned_model="mid-1")
    keys = [(s.tier, s.pinned_model, s.candidate) for s in summarize_shadows([c, b, a, a])]
    assert keys == [(1, "small-1", "groq:big-2"), (1, "small-1", "groq:other-3"),
                    (2, "mid-1", "groq:big-2")]
    assert summarize_shadows([]) == []
