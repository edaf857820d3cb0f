"""Discriminative models on sparse n-grams and their candidate routers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tests.unit.test_routing_protocol import _corpus
from tierline.jobs.models import JobSpec, TaskType
from tierline.routing.candidates import Candidate, _fitted, shipped_candidates
from tierline.routing.classifier import category_of
from tierline.routing.features import extract
from tierline.routing.protocol import run_protocol
from tierline.routing.sparse import (
    KernelRidge,
    NgramSpace,
    char_terms,
    fit_gain,
    fit_subjects,
    ranks,
    word_terms,
)
from tierline.routing.sparse_candidates import (
    empirical_cdf,
    prompt_text,
    sparse_families,
    sparse_fit,
    subject_scores,
)

TEXTS = [
    "the momentum of a falling ball", "a ball falls: its kinetic energy",
    "the best slogan for young buyers", "which advert sells a product best",
    "energy of a ball thrown upwards", "a slogan for an old product",
]


def test_terms_are_word_pairs_and_character_grams_at_word_edges() -> None:
    assert word_terms("The ball, falls!") == ["the", "ball", "falls", "the ball", "ball falls"]
    grams = char_terms("ball")
    assert " ba" in grams and "ll " in grams and "ball " in grams and " ball " not in grams
    assert all(3 <= len(g) <= 5 for g in grams)


def test_a_text_is_two_unit_blocks_and_unseen_terms_are_ignored() -> None:
    space = NgramSpace.fit(TEXTS)
    columns, values = space.vector("a ball falls zzzzzz")
    words = columns < len(space.words)
    assert words.any() and (~words).any()
    assert np.isclose(values[words] @ values[words], 1.0)
    assert np.isclose(values[~words] @ values[~words], 1.0)
    assert space.vector("qqqq xxxx")[0].size == 0


def test_leave_one_out_is_the_fit_without_the_row() -> None:
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(["ball", "energy", "slogan", "buyers", "mass", "advert"], 5))
             for _ in range(30)]
    space = NgramSpace.fit(texts)
    x = space.matrix(texts)
    y = rng.normal(size=30)
    loo = KernelRidge(x).leave_one_out(y, 3.0)
    for i in (0, 7, 29):
        others = np.array([j for j in range(30) if j != i])
        ridge = KernelRidge(x[others])
        weights, intercept = ridge.weights(y[others], 3.0)
        assert np.isclose(loo[i], x[i] @ weights + intercept)


def test_the_subject_classifier_learns_the_kinds_from_the_words() -> None:
    labels = ["physics", "physics", "marketing", "marketing", "physics", "marketing"]
    space = NgramSpace.fit(TEXTS * 3, min_df=1)
    ridge = KernelRidge(space.matrix(TEXTS * 3))
    subjects, loo = fit_subjects(space, ridge, labels * 3)
    assert subjects.categories == ["marketing", "physics"]
    assert loo.shape == (18, 2)
    assert np.argmax(subjects.posterior("a heavy ball falls")) == 1
    assert np.argmax(subjects.posterior("a slogan for buyers")) == 0
    assert np.isclose(subjects.posterior("a slogan").sum(), 1.0)


def test_the_gain_regression_ranks_the_hard_kind_higher() -> None:
    gain = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0] * 3)
    space = NgramSpace.fit(TEXTS * 3, min_df=1)
    scorer, _, loo = fit_gain(space, KernelRidge(space.matrix(TEXTS * 3)), gain)
    assert loo.shape == (18,)
    assert scorer.scores("a ball falls")[0] > scorer.scores("a slogan for buyers")[0]


def test_ranks_share_ties_and_the_cdf_places_any_value() -> None:
    assert ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [5 / 6, 0.0, 5 / 6, 1 / 3]
    assert empirical_cdf(np.array([1.0, 2.0, 3.0, 4.0]),
                         np.array([0.0, 2.0, 9.0])).tolist() == [0.0, 0.5, 1.0]


def test_a_posterior_sure_of_the_true_subject_scores_like_the_subject_itself() -> None:
    corpus = _corpus()
    rows = np.arange(len(corpus.examples))
    model = _fitted(corpus, rows, 0.5, 10.0)
    fitted = sparse_fit(corpus, rows)
    typed = corpus.features(rows[:12], False)
    sure = np.array([np.eye(len(model.categories))[model.categories.index(category_of(f))]
                     for f in typed])
    text_only = corpus.features(rows[:12], True)
    assert np.allclose(subject_scores(model, fitted.subjects, text_only, sure),
                       [model.score(f) for f in typed])


def test_prompt_text_keeps_the_words_without_markers() -> None:
    features = extract(JobSpec(task=TaskType.ANSWER, document="A ball falls."))
    assert prompt_text(features) == "a ball falls"


def test_the_sparse_families_route_the_hard_kind_to_the_strong_model() -> None:
    corpus = _corpus()
    families: dict[str, Sequence[Candidate]] = {"hashed": shipped_candidates()[:1],
                                                **sparse_families()}
    out = run_protocol(corpus, shipped_candidates()[:1], [None] * len(corpus.examples),
                       splits=2, families=families)
    for family in sparse_families():
        # The weak model fails exactly the physics questions: a router that reads the words
        # sends them first, as the naive Bayes does, far above a random router's 0.5.
        assert out[f"{family}_mmlu_text_only_apgr_median"] > 0.75
        assert out[f"{family}_mmlu_text_only_apgr_median"] >= (
            out["hashed_mmlu_text_only_apgr_median"] - 0.01)
