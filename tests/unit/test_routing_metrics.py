"""APGR, CPT and the strong share at 95% against small cases computed by hand."""

from __future__ import annotations

import pytest

from tierline.routing.metrics import cost_per_job, evaluate, evaluate_cascade, quality_curve

# Four prompts: the weak model gets 0 and 3 right, the strong one 0, 1 and 3.
WEAK = [1, 0, 0, 1]
STRONG = [1, 1, 0, 1]


def test_perfect_ordering_by_hand() -> None:
    # Prompt 1 (the only one the strong model gains) scores highest.
    figures = evaluate([0.1, 0.9, 0.5, 0.2], WEAK, STRONG)
    assert figures.weak_quality == 0.5
    assert figures.strong_quality == 0.75
    # Curve: (0, .5) (.25, .75) then flat; area .15625 + .5625 = .71875.
    assert figures.apgr == pytest.approx((0.71875 - 0.5) / 0.25)
    assert figures.cpt50 == 0.25
    assert figures.cpt80 == 0.25
    assert figures.strong_share_at_95 == 0.25
    # Random: quality .5 + .25 s reaches .95 x .75 = .7125 at s = .85.
    assert figures.random_strong_share_at_95 == pytest.approx(0.85)
    assert figures.random_apgr == 0.5
    assert figures.n == 4


def test_worst_ordering_by_hand() -> None:
    figures = evaluate([0.9, 0.1, 0.8, 0.7], WEAK, STRONG)
    # Curve: .5 until s = .75, then .75 at s = 1; area .375 + .15625 = .53125.
    assert figures.apgr == pytest.approx((0.53125 - 0.5) / 0.25)
    assert figures.cpt50 == 1.0
    assert figures.strong_share_at_95 == 1.0


def test_ties_are_split_evenly_like_random() -> None:
    figures = evaluate([0.5] * 4, WEAK, STRONG)
    assert figures.apgr == pytest.approx(0.5)
    assert figures.cpt50 == pytest.approx(0.5)
    assert figures.strong_share_at_95 == pytest.approx(figures.random_strong_share_at_95)


def test_curve_breakpoints_follow_tie_groups() -> None:
    curve = quality_curve([2, 2, 1, 0], WEAK, STRONG)
    assert curve.share.tolist() == [0, 0.5, 0.75, 1]
    assert curve.quality.tolist() == [0.5, 0.75, 0.75, 0.75]
    assert curve.sizes.tolist() == [2, 1, 1]


def test_graded_scores_work_like_correctness() -> None:
    figures = evaluate([3, 2, 1], [8, 2, 9], [9, 9, 9])
    assert figures.weak_quality == pytest.approx(19 / 3)
    assert figures.strong_share_at_95 == pytest.approx(2 / 3)


def test_weak_already_good_enough_needs_no_strong_calls() -> None:
    figures = evaluate([0.1, 0.2], [1, 1], [1, 1])
    assert figures.strong_share_at_95 == 0.0
    assert figures.random_strong_share_at_95 == 0.0


def test_cascade_by_hand() -> None:
    # The check flags prompt 1 only: its weak answer is replaced by the strong one.
    cascade = evaluate_cascade([False, True, False, False], [0.1, 0.2, 0.3, 0.4], WEAK, STRONG)
    assert cascade.cascade_quality == 0.75
    assert cascade.cascade_strong_share == 0.25
    assert cascade.cascade_strong_share_at_95 == 0.25
    assert cascade.flag_precision == 1.0


def test_cascade_adds_unflagged_prompts_in_score_order() -> None:
    # Nothing flagged: the router's order alone decides, prompt 1 scoring highest.
    cascade = evaluate_cascade([False] * 4, [0.1, 0.9, 0.5, 0.2], WEAK, STRONG)
    assert cascade.cascade_quality == 0.5
    assert cascade.cascade_strong_share_at_95 == 0.25


def test_cost_of_a_cascade_pays_the_weak_call_for_every_job() -> None:
    assert cost_per_job(0.25, 1.0, 10.0, cascade=False) == pytest.approx(0.75 + 2.5)
    assert cost_per_job(0.25, 1.0, 10.0, cascade=True) == pytest.approx(1.0 + 2.5)


def test_surer_flags_escalate_first() -> None:
    # Prompt 1 is the only gain; it has the surer flag (2), prompt 2 a weaker one (1), and the
    # router's scores alone would put prompt 2 first.
    cascade = evaluate_cascade([0, 2, 1, 0], [0.1, 0.2, 0.9, 0.4], WEAK, STRONG)
    assert cascade.cascade_strong_share == 0.5
    assert cascade.cascade_quality == 0.75
    assert cascade.cascade_strong_share_at_95 == 0.25
    assert cascade.flag_precision == 1.0


def test_calibration_metrics_on_hand_computed_cases() -> None:
    import numpy as np

    from tierline.routing.metrics import brier, expected_calibration_error

    outcomes = np.array([1, 0, 1, 1])
    # Perfectly calibrated within each bin: 0.75 stated where 3 of 4 were good.
    assert expected_calibration_error(np.full(4, 0.75), outcomes) == pytest.approx(0.0)
    # Two bins: 0.1 stated for one good answer (gap 0.9), 0.9 stated for three (one bad: gap 0.233..).
    stated = np.array([0.1, 0.9, 0.9, 0.9])
    expected = 0.25 * 0.9 + 0.75 * abs(0.9 - 2 / 3)
    assert expected_calibration_error(stated, np.array([1, 0, 1, 1])) == pytest.approx(expected)
    assert brier(np.array([1.0, 0.0]), np.array([1, 0])) == 0.0
    assert brier(np.array([0.5, 0.5]), np.array([1, 0])) == pytest.approx(0.25)
