"""Router candidates on the MiniLM sentence encoder (`routing.minilm`), for the protocol to
measure against the naive Bayes shipped when they were measured (bench/routing.py
--minilm-families):

- `minilm-logistic`: per tier, a logistic regression of "this tier's answer was right" on the
  standardised sentence vector (`routing.dense.embedding_logistic`); the score is
  P(strong right) - P(weak right), the penalty chosen by cross-validation;
- `minilm-neighbours`: the mean gain (strong right - weak right) of the k labelled prompts
  nearest in cosine (`routing.candidates.embedding_neighbours`), k chosen the same way;
- `minilm-rank-blend`: a weighted mean of the ranks of three scores (the naive Bayes,
  the logistic pair, the neighbours), each with its setting chosen inside the fitting rows and
  the weights those of the best mean APGR on the three's out-of-fold scores of those rows.

The vectors are one matrix aligned with the corpus's rows, passed in: the corpus keeps its
static embedding for the families that use it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import numpy as np

from tierline.routing.candidates import (
    Candidate,
    Corpus,
    Criterion,
    Scorer,
    bayes_candidates,
    choose,
    embedding_neighbours,
    folds_of,
)
from tierline.routing.dense import embedding_logistic
from tierline.routing.sparse_candidates import blend_weights, empirical_cdf

LOGISTIC_L2: tuple[float, ...] = (10.0, 100.0, 1000.0)
NEIGHBOURS_K: tuple[int, ...] = (50, 100, 200, 400)
# Finer than the sparse blend's: two of the three weights are often what matters.
BLEND_STEP = 0.1

_CORPORA: dict[tuple[int, int], tuple[Corpus, np.ndarray, Corpus]] = {}


def with_vectors(corpus: Corpus, vectors: np.ndarray) -> Corpus:
    """The corpus with `vectors` as its embedding (one copy per pair, kept for the run)."""
    key = (id(corpus), id(vectors))
    cached = _CORPORA.get(key)
    if cached is not None and cached[0] is corpus and cached[1] is vectors:
        return cached[2]
    if len(vectors) != len(corpus.examples):
        raise ValueError("one vector per corpus row is needed")
    derived = dataclasses.replace(corpus, vectors=vectors)
    _CORPORA.clear()  # one corpus a run: never hold on to an old one
    _CORPORA[key] = (corpus, vectors, derived)
    return derived


def on_vectors(candidate: Candidate, vectors: np.ndarray, family: str) -> Candidate:
    """`candidate` fitted and scoring with `vectors` in place of the corpus's embedding."""
    def fit(corpus: Corpus, rows: np.ndarray) -> Scorer:
        return candidate.fit(with_vectors(corpus, vectors), rows)
    return Candidate(family, candidate.setting, fit)


def logistic_settings(vectors: np.ndarray) -> list[Candidate]:
    return [on_vectors(embedding_logistic(l2), vectors, "minilm-logistic")
            for l2 in LOGISTIC_L2]


def neighbour_settings(vectors: np.ndarray) -> list[Candidate]:
    return [on_vectors(embedding_neighbours(k), vectors, "minilm-neighbours")
            for k in NEIGHBOURS_K]


def out_of_fold(candidate: Candidate, corpus: Corpus, rows: np.ndarray,
                text_only: dict[str, bool], folds: int = 3) -> np.ndarray:
    """Each fitting row's score by a fit on the rows' other folds, in its dataset's view."""
    out = np.empty(len(rows))
    position = {int(r): n for n, r in enumerate(rows)}
    for held in folds_of(rows, folds, np.random.default_rng(len(rows))):
        scorer = candidate.fit(corpus, np.setdiff1d(rows, held))
        for flag in (False, True):
            part = np.array([i for i in held
                             if text_only.get(str(corpus.dataset[i]), False) == flag], dtype=int)
            if len(part):
                out[[position[int(i)] for i in part]] = scorer(part, flag)
    return out


def rank_blend(components: Sequence[Sequence[Candidate]]) -> Candidate:
    """The blend of the components' ranks: each component's setting chosen by cross-validation
    inside the fitting rows, its out-of-fold scores there the reference its ranks are taken
    against, and the weights chosen on those ranks."""
    def fit_blend(corpus: Corpus, rows: np.ndarray) -> Scorer:
        criterion = Criterion.for_corpus(corpus)
        text_only = {d: t for d, t in criterion.views}
        references, scorers = [], []
        for settings in components:
            chosen, _ = choose(settings, corpus, rows, criterion)
            references.append(out_of_fold(chosen, corpus, rows, text_only))
            scorers.append(chosen.fit(corpus, rows))
        ranked = np.column_stack([empirical_cdf(r, r) for r in references])
        weights = blend_weights(ranked, corpus, rows, criterion, step=BLEND_STEP)
        scored: dict[tuple[bytes, bool], np.ndarray] = {}

        def score(index: np.ndarray, flag: bool) -> np.ndarray:
            key = (hashlib.sha1(np.asarray(index).tobytes()).digest(), flag)
            if key not in scored:
                scored[key] = np.column_stack([
                    empirical_cdf(reference, scorer(index, flag))
                    for reference, scorer in zip(references, scorers, strict=True)]) @ weights
            return scored[key]
        return score
    return Candidate("minilm-rank-blend", "oof", fit_blend)


def minilm_families(vectors: np.ndarray) -> dict[str, Sequence[Candidate]]:
    """The families bench/routing.py measures, on `vectors` (one row per corpus row)."""
    return {
        "minilm-logistic": logistic_settings(vectors),
        "minilm-neighbours": neighbour_settings(vectors),
        "minilm-rank-blend": [rank_blend([bayes_candidates(), logistic_settings(vectors),
                                          neighbour_settings(vectors)])],
    }
