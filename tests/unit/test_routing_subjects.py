"""The logistic category posterior: what it learns, what it leaves alone, and its calibration."""

from __future__ import annotations

import numpy as np
import pytest

from tierline.routing.subjects import fit_subjects, logistic_posterior, term_weights


def test_term_weights_count_repeats_by_log_and_have_unit_length() -> None:
    columns, weights = term_weights(np.array([5, 3, 5, 5, 9]))
    assert columns.tolist() == [3, 5, 9]
    raw = np.log1p([1.0, 3.0, 1.0])
    assert weights == pytest.approx(raw / np.linalg.norm(raw))


def _rows(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Category 0 uses words 0-9, category 1 words 10-19; word 30 is in both; 40 rows each."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for i in range(80):
        label = i % 2
        own = rng.integers(10 * label, 10 * label + 10, size=4)
        rows.append(np.array([*own, 30]))
        labels.append(label)
    return rows, np.array(labels)


def test_it_learns_the_words_of_each_category_and_leaves_unused_columns_at_zero() -> None:
    rows, labels = _rows()
    weights, bias = fit_subjects(rows, labels, categories=2, dim=64, l2=0.01)
    assert weights.shape == (64, 2) and weights.dtype == np.float32
    assert not weights[31:].any()  # no row uses these columns
    assert weights[2, 0] > weights[2, 1] and weights[12, 1] > weights[12, 0]
    first = logistic_posterior(weights, bias, np.array([1, 2, 30]))
    second = logistic_posterior(weights, bias, np.array([11, 12, 30]))
    assert first.sum() == pytest.approx(1.0) and first[0] > 0.9
    assert second[1] > 0.9
    # A word both categories share says nothing: an even posterior.
    assert logistic_posterior(weights, bias, np.array([30]))[0] == pytest.approx(0.5, abs=0.05)


def test_a_larger_penalty_gives_a_less_sure_posterior() -> None:
    rows, labels = _rows()
    sure = logistic_posterior(*fit_subjects(rows, labels, 2, 64, l2=0.01), np.array([1, 2]))
    unsure = logistic_posterior(*fit_subjects(rows, labels, 2, 64, l2=10.0), np.array([1, 2]))
    assert 0.5 < unsure[0] < sure[0]


def test_labels_must_match_the_rows() -> None:
    rows, labels = _rows()
    with pytest.raises(ValueError, match="one label per row"):
        fit_subjects(rows, labels[:-1], 2, 64, l2=0.01)
