"""The fleet has exactly three tiers: a tiers file with any other count is refused at load."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tierline.config.tiers import DEFAULT_TIERS_FILE, TIER_COUNT, TiersFileError, load_tiers
from tierline.jobs.models import TOP_TIER, JobContext
from tierline.routing.policy import BusinessRule
from tierline.tasks.queues import TIER_QUEUES


def _tiers_file(tmp_path: Path, count: int) -> Path:
    """The shipped tiers file cut or stretched to `count` tiers (extra ones copy the last)."""
    text = DEFAULT_TIERS_FILE.read_text(encoding="utf-8")
    tiers = tomllib.loads(text)["tiers"]
    blocks = text.split("[[tiers]]")[1:]
    chosen = [blocks[min(i, len(blocks) - 1)].replace(
        f"tier = {min(i, len(blocks) - 1) + 1}\n", f"tier = {i + 1}\n", 1) for i in range(count)]
    assert len(tiers) == TIER_COUNT
    path = tmp_path / f"tiers{count}.toml"
    path.write_text("".join(f"[[tiers]]{b}" for b in chosen), encoding="utf-8")
    return path


def test_the_shipped_file_has_the_fleets_tiers() -> None:
    assert load_tiers().top == TIER_COUNT == 3
    assert list(TIER_QUEUES) == [1, 2, 3]


@pytest.mark.parametrize("count", [2, 4])
def test_any_other_number_of_tiers_is_refused_saying_why(tmp_path: Path, count: int) -> None:
    with pytest.raises(TiersFileError, match="the fleet has exactly 3 tiers, numbered 1, 2, 3"):
        load_tiers(_tiers_file(tmp_path, count))


def test_the_same_file_with_three_tiers_loads(tmp_path: Path) -> None:
    assert load_tiers(_tiers_file(tmp_path, 3)).top == 3


def test_tier_bounds_elsewhere_stop_at_the_top_tier() -> None:
    with pytest.raises(ValueError):
        JobContext(max_tier=4)
    with pytest.raises(ValueError):
        BusinessRule(name="x", min_tier=4)
    assert JobContext().max_tier == TOP_TIER == TIER_COUNT
