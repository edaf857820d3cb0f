"""The evaluation protocol: random halves, choices made inside the fitting half, spreads."""

from __future__ import annotations

import numpy as np
import pytest

from tierline.jobs.models import JobSpec, TaskType
from tierline.routing.candidates import (
    Candidate,
    Corpus,
    Criterion,
    choose,
    embedding_ridge,
    hashed,
)
from tierline.routing.classifier import Example, fit
from tierline.routing.features import extract
from tierline.routing.protocol import (
    check_figures,
    choose_levels,
    flag_levels,
    learning_curve,
    random_halves,
    run_protocol,
    share_of,
    spread,
    summarise,
)


def _corpus(n: int = 240, seed: int = 0) -> Corpus:
    """Two kinds of MMLU-like question (hard physics, easy marketing) and maths problems; the
    weak model fails the hard kind, the strong one gets everything right."""
    rng = np.random.default_rng(seed)
    examples, weak, strong, dataset = [], [], [], []
    for i in range(n):
        maths = i % 3 == 0
        hard = bool(rng.random() < 0.5)
        if maths:
            job = JobSpec(task=TaskType.MATH, document=f"Tom has {i} apples and buys {i % 7}.")
        else:
            text = (f"A ball of mass {i} kg falls from a height; its momentum?" if hard
                    else f"Which slogan sells product {i} best to young buyers?")
            job = JobSpec(task=TaskType.ANSWER, document=text,
                          query_type="physics" if hard else "marketing")
        ok_weak = not hard if not maths else bool(rng.random() < 0.6)
        examples.append(Example(extract(job), {1: ok_weak, 3: True}))
        weak.append(float(ok_weak))
        strong.append(1.0)
        dataset.append("gsm8k" if maths else "mmlu")
    vectors = rng.normal(size=(n, 8)) + np.array(weak)[:, None]
    return Corpus(examples, np.array(weak), np.array(strong), np.array(dataset), vectors)


def test_random_halves_halve_each_dataset_apart_and_repeat_with_the_seed() -> None:
    groups = np.array(["a"] * 10 + ["b"] * 7)
    splits = random_halves(groups, 20, seed=3)
    assert len(splits) == 20
    for split in splits:
        assert not set(split.fit) & set(split.held)
        assert sorted([*split.fit, *split.held]) == list(range(17))
        assert (groups[split.fit] == "a").sum() == 5
        assert (groups[split.fit] == "b").sum() == 3
    again = random_halves(groups, 20, seed=3)
    assert all((a.fit == b.fit).all() for a, b in zip(splits, again, strict=True))
    assert len({tuple(s.fit) for s in splits}) > 10


def test_spread_and_summary_give_median_and_the_10th_to_90th_percentile() -> None:
    values = list(np.arange(1.0, 12.0))
    assert spread(values) == {"median": 6.0, "p10": 2.0, "p90": 10.0}
    summary = summarise([{"apgr": v, "n": 1.0} for v in values])
    assert summary["apgr_median"] == 6.0
    assert summary["apgr_p10"] == 2.0
    assert summary["apgr_p90"] == 10.0
    assert spread([float("nan"), 1.0])["median"] == 1.0


def test_levels_follow_each_kind_s_precision_on_the_rows_given() -> None:
    # "slip" fires on 9 wrong answers and 1 right one; "odd" on 2 wrong and 2 right (the base
    # rate of wrong answers is 11/20); "noise" on right answers only.
    kinds = ([frozenset({"slip"})] * 9 + [frozenset({"slip"})] + [frozenset({"odd"})] * 4
             + [frozenset({"noise"})] * 2 + [frozenset()] * 4)
    weak = np.array([0.0] * 9 + [1.0] + [0.0, 0.0, 1.0, 1.0] + [1.0, 1.0] + [1.0] * 4)
    levels = choose_levels(kinds, weak)
    assert levels == {"slip": 2, "odd": 0, "noise": 0}
    flagged = flag_levels(kinds, levels)
    assert flagged.tolist() == [2] * 10 + [0] * 10
    figures = check_figures(flagged >= 2, weak)
    assert figures["check_precision"] == pytest.approx(0.9)
    assert figures["check_recall"] == pytest.approx(9 / 11)
    assert figures["check_false_flags"] == pytest.approx(1 / 9)


def test_choose_prefers_the_candidate_that_routes_better_inside_the_rows() -> None:
    corpus = _corpus()

    def oracle(c: Corpus, rows: np.ndarray) -> object:
        return lambda index, text_only: c.gain[index] + 0.0
    perfect = Candidate("oracle", "-", oracle)  # type: ignore[arg-type]
    constant = Candidate("constant", "-", lambda c, rows: lambda index, t: np.zeros(len(index)))
    best, scores = choose([constant, perfect], corpus, np.arange(len(corpus.weak)))
    assert best is perfect
    assert scores["oracle(-)"] > scores["constant(-)"]


def test_criterion_judges_typed_datasets_from_the_text_only() -> None:
    assert Criterion.for_corpus(_corpus()).views == (("gsm8k", False), ("mmlu", True))


def test_protocol_reports_every_figure_with_its_spread_and_the_families() -> None:
    corpus = _corpus()
    kinds = [frozenset({"slip"}) if d == "gsm8k" and w < 0.5 else
             (frozenset() if d == "gsm8k" else None)
             for d, w in zip(corpus.dataset, corpus.weak, strict=True)]
    out = run_protocol(corpus, [hashed(0.5, None), hashed(0.1, None)], kinds, splits=3,
                       families={"hashed": [hashed(0.5, None)],
                                 "embedding-ridge": [embedding_ridge(10.0)]})
    assert out["splits"] == 3
    for figure in ("mmlu_apgr", "mmlu_text_only_strong_share_at_95", "gsm8k_apgr",
                   "cascade_strong_share_at_95", "check_false_flags",
                   "embedding-ridge_mmlu_text_only_apgr", "hashed_gsm8k_apgr"):
        for stat in ("median", "p10", "p90"):
            assert f"{figure}_{stat}" in out, figure
    assert sum(out["chosen"].values()) == 3
    # The subject separates hard from easy questions exactly: with half of them hard, the
    # best APGR there is, 1 - 1/4 (random: 0.5).
    assert out["mmlu_apgr_median"] == pytest.approx(0.75, abs=0.03)
    # The check fires on exactly the wrong maths answers, and is chosen to escalate them.
    assert out["check_precision_median"] == 1.0
    assert out["check_recall_median"] == 1.0
    assert out["check_false_flags_median"] == 0.0


def test_settings_apart_only_in_temperature_share_one_fit_and_score_apart() -> None:
    corpus = _corpus()
    rows = np.arange(0, len(corpus.weak), 2)
    held = np.arange(1, len(corpus.weak), 2)
    sharp, soft = hashed(0.1, 10.0, 1.0), hashed(0.1, 10.0, 4.0)
    assert soft.params["temperature"] == 4.0 and soft.name.endswith("T=4)")
    sharp_scores = sharp.fit(corpus, rows)(held, True)
    soft_scores = soft.fit(corpus, rows)(held, True)
    assert not np.allclose(sharp_scores, soft_scores)
    # Each is what a fit at its own temperature gives, shared fit or not.
    own = fit([corpus.examples[i] for i in rows], version="t", alpha=0.1, residual_l2=10.0,
              temperature=4.0)
    expected = [own.score(f) for f in corpus.features(held, True)]
    assert soft_scores == pytest.approx(expected)
    # Another corpus with the same rows is never served the first one's fit.
    other = _corpus(seed=1)
    other_scores = soft.fit(other, rows)(held, True)
    refit = fit([other.examples[i] for i in rows], version="t", alpha=0.1, residual_l2=10.0,
                temperature=4.0)
    assert other_scores == pytest.approx([refit.score(f) for f in other.features(held, True)])


def test_share_of_cuts_each_dataset_apart() -> None:
    groups = np.array(["a"] * 40 + ["b"] * 20)
    rows = np.arange(0, 60, 2)  # 20 of a, 10 of b
    kept = share_of(rows, groups, 0.5, np.random.default_rng(0))
    assert set(kept) <= set(rows)
    assert (groups[kept] == "a").sum() == 10
    assert (groups[kept] == "b").sum() == 5


def test_learning_curve_grows_with_the_rows_and_extrapolates_its_line() -> None:
    # A noisy subject: with few rows, the per-subject rates are far from the truth.
    rng = np.random.default_rng(4)
    examples, weak, dataset = [], [], []
    for i in range(600):
        subject = f"s{i % 30}"
        job = JobSpec(task=TaskType.ANSWER, document=f"question {i} about {subject} {subject}",
                      query_type=subject)
        ok = bool(rng.random() < (0.2 if i % 30 < 15 else 0.9))
        examples.append(Example(extract(job), {1: ok, 3: True}))
        weak.append(float(ok))
        dataset.append("mmlu")
    corpus = Corpus(examples, np.array(weak), np.ones(600), np.array(dataset))
    out = learning_curve(corpus, [hashed(0.1, None)], splits=4, fractions=(0.1, 0.3, 1.0))
    assert out["fractions"] == [0.1, 0.3, 1.0]
    low = out["mmlu_text_only_apgr_at_0.1_median"]
    high = out["mmlu_text_only_apgr_at_1_median"]
    assert low < high
    assert out["mmlu_text_only_apgr_per_doubling_median"] > 0
    assert out["mmlu_text_only_apgr_at_2_median"] > out["mmlu_text_only_apgr_at_1_p10"]
    assert "gsm8k_apgr_at_1_median" not in out
