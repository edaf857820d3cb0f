"""The candidates that combine the text embedding with the hashed words (routing.dense)."""

from __future__ import annotations

import numpy as np
import pytest

from tierline.jobs.models import JobSpec, TaskType
from tierline.routing.candidates import Corpus, embedding_neighbours, hashed
from tierline.routing.classifier import Example, fit
from tierline.routing.dense import (
    embedding_logistic,
    embedding_stacked,
    fit_softmax,
    neighbour_blend,
    posterior_blend,
)
from tierline.routing.features import extract
from tierline.routing.metrics import evaluate


def _corpus(n: int = 240, seed: int = 0) -> Corpus:
    """Questions whose words say nothing of their kind (every one reads alike) while their
    vectors do: the weak model fails the hard kind; maths problems apart."""
    rng = np.random.default_rng(seed)
    examples, weak, strong, dataset, vectors = [], [], [], [], []
    for i in range(n):
        maths = i % 4 == 0
        hard = bool(rng.random() < 0.5)
        if maths:
            job = JobSpec(task=TaskType.MATH, document=f"Tom has {i} apples and buys {i % 7}.")
        else:
            job = JobSpec(task=TaskType.ANSWER, document=f"Question {i}: which is right?",
                          query_type="physics" if hard else "marketing")
        ok_weak = (not hard) if not maths else bool(rng.random() < 0.6)
        examples.append(Example(extract(job), {1: ok_weak, 3: True}))
        weak.append(float(ok_weak))
        strong.append(1.0)
        dataset.append("gsm8k" if maths else "mmlu")
        centre = np.zeros(6)
        centre[0 if maths else (1 if hard else 2)] = 3.0
        vectors.append(centre + rng.normal(size=6))
    return Corpus(examples, np.array(weak), np.array(strong), np.array(dataset),
                  np.array(vectors, dtype=np.float32))


def _halves(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(corpus.weak))
    return rows[rows % 2 == 0], rows[rows % 2 == 1]


def _mmlu_apgr(corpus: Corpus, scores: np.ndarray, held: np.ndarray) -> float:
    mmlu = corpus.dataset[held] == "mmlu"
    return evaluate(scores[mmlu], corpus.weak[held][mmlu], corpus.strong[held][mmlu]).apgr


def test_softmax_regression_learns_separable_classes_and_gives_posteriors() -> None:
    rng = np.random.default_rng(1)
    centres = np.array([[4.0, 0, 0], [0, 4.0, 0], [0, 0, 4.0]])
    labels = [("a", "b", "c")[i % 3] for i in range(300)]
    x = centres[[i % 3 for i in range(300)]] + rng.normal(size=(300, 3))
    model = fit_softmax(x, labels, ["a", "b", "c"], l2=1e-3)
    posterior = model.posterior(x)
    assert posterior.shape == (300, 3)
    assert posterior.sum(axis=1) == pytest.approx(np.ones(300))
    predicted = np.array(model.classes)[posterior.argmax(axis=1)]
    assert (predicted == np.array(labels)).mean() > 0.95
    # A stronger penalty makes it less sure, never surer.
    flat = fit_softmax(x, labels, ["a", "b", "c"], l2=10.0).posterior(x)
    assert flat.max(axis=1).mean() < posterior.max(axis=1).mean()


def test_blends_at_weight_zero_are_the_hashed_classifier() -> None:
    corpus = _corpus()
    rows, held = _halves(corpus)
    words = hashed(0.5, 10.0, 4.0).fit(corpus, rows)(held, True)
    assert posterior_blend(0.0, 0.5, 10.0, 4.0).fit(corpus, rows)(held, True) == (
        pytest.approx(words))
    assert neighbour_blend(0.0, 15, 0.5, 10.0, 4.0).fit(corpus, rows)(held, True) == (
        pytest.approx(words))


def test_a_full_neighbour_blend_is_the_neighbours_gain() -> None:
    corpus = _corpus()
    rows, held = _halves(corpus)
    blend = neighbour_blend(1.0, 15, 0.5, 10.0).fit(corpus, rows)(held, True)
    assert blend == pytest.approx(embedding_neighbours(15).fit(corpus, rows)(held, True))


def test_the_embedding_carries_the_kind_the_words_cannot_tell() -> None:
    corpus = _corpus()
    rows, held = _halves(corpus)
    words = _mmlu_apgr(corpus, hashed(0.5, 10.0, 4.0).fit(corpus, rows)(held, True), held)
    for candidate in (posterior_blend(0.75, 0.5, 10.0), neighbour_blend(0.5, 15, 0.5, 10.0),
                      embedding_logistic(1.0), embedding_stacked(1.0, 0.5, 10.0)):
        apgr = _mmlu_apgr(corpus, candidate.fit(corpus, rows)(held, True), held)
        assert apgr > words + 0.1, candidate.name


def test_the_posterior_blend_uses_the_subject_when_the_job_names_it() -> None:
    corpus = _corpus()
    rows, held = _halves(corpus)
    typed = posterior_blend(0.75, 0.5, 10.0, 4.0).fit(corpus, rows)(held, False)
    own = fit([corpus.examples[i] for i in rows], version="t", alpha=0.5, residual_l2=10.0,
              temperature=4.0)
    assert typed == pytest.approx([own.score(f) for f in corpus.features(held, False)])
    # From the text only, the embedding's share moves the scores.
    blind = posterior_blend(0.75, 0.5, 10.0, 4.0).fit(corpus, rows)(held, True)
    assert not np.allclose(blind, typed)

