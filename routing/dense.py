"""Router candidates that combine the static text embedding with the shipped hashed words.

The embedding (`routing.embedding`) alone routes worse than the hashed words (its ridge and
nearest-neighbour candidates, `routing.candidates`); these families ask whether it adds to them:

- `embedding-logistic`: per tier, a logistic regression of "this tier's answer was right" on the
  standardised embedding; the score is P(strong right) - P(weak right);
- `embedding-stacked`: the same regressions with the hashed classifier's own per-tier logit as a
  fixed offset (the embedding and the hashed words in one model): the classifier's logits on
  the rows it learns from are taken out of fold, as on new rows it has never seen them;
- `posterior-blend`: the hashed classifier's category posterior mixed with a softmax subject
  classifier's on the embedding, (1 - w) p_words + w p_embedding, before the per-category rates;
- `neighbour-blend`: the hashed classifier's score mixed with the mean gain of the k labelled
  prompts nearest in the embedding, (1 - w) score + w gain.

Each family's settings (the blend weight w and the hashed classifier's own setting among them)
are chosen by `routing.candidates.choose`, cross-validation inside the fitting rows only.
`bench/routing.py` measures them (all but `neighbour-blend` only with --dense-families, being
slow); none routes better than the hashed words alone on the held-out halves, so none is
shipped (README, Routing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tierline.routing.candidates import (
    HASHED_SETTINGS,
    TEMPERATURES,
    Candidate,
    Corpus,
    Scorer,
    _fitted,
    _vectors,
    folds_of,
)
from tierline.routing.classifier import RouterModel, _logit, category_of, fit_logistic


@dataclass(frozen=True)
class SoftmaxRegression:
    """A multinomial logistic regression on standardised vectors: P(class | vector)."""

    classes: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray  # (dim + 1) x classes, bias last

    def posterior(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.mean) / self.std
        logits = z @ self.weights[:-1] + self.weights[-1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return np.asarray(p / p.sum(axis=1, keepdims=True))


def fit_softmax(x: np.ndarray, labels: Sequence[str], classes: Sequence[str], l2: float,
                steps: int = 300, rate: float = 0.05) -> SoftmaxRegression:
    """Mean cross-entropy + l2/2 |W|^2 (bias not penalised), minimised by Adam on the whole
    batch: a few hundred steps of two small matrix products, well under a second."""
    index = {c: i for i, c in enumerate(classes)}
    y = np.zeros((len(x), len(classes)))
    y[np.arange(len(x)), [index[label] for label in labels]] = 1.0
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    weights = np.zeros((z.shape[1], len(classes)))
    penalty = np.full((z.shape[1], 1), l2)
    penalty[-1] = 0.0
    first, second = np.zeros_like(weights), np.zeros_like(weights)
    for step in range(1, steps + 1):
        logits = z @ weights
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        gradient = z.T @ (p - y) / len(x) + penalty * weights
        first = 0.9 * first + 0.1 * gradient
        second = 0.999 * second + 0.001 * gradient**2
        weights -= rate * (first / (1 - 0.9**step)) / (np.sqrt(second / (1 - 0.999**step)) + 1e-8)
    return SoftmaxRegression(tuple(classes), mean, std, weights)


# -- per-split caches: settings that differ only in their blend share the fits --------------

_SUBJECT_CACHE: dict[tuple[int, bytes, float], tuple[Corpus, SoftmaxRegression]] = {}


def _key(rows: np.ndarray) -> bytes:
    return np.asarray(rows).tobytes()


def subject_classifier(corpus: Corpus, rows: np.ndarray, categories: Sequence[str],
                       l2: float) -> SoftmaxRegression:
    key = (id(corpus), _key(rows) + "|".join(categories).encode(), l2)
    cached = _SUBJECT_CACHE.get(key)
    if cached is not None and cached[0] is corpus:
        return cached[1]
    labels = [category_of(corpus.examples[i].features) for i in rows]
    model = fit_softmax(_vectors(corpus)[rows], labels, categories, l2)
    if len(_SUBJECT_CACHE) >= 8:
        _SUBJECT_CACHE.pop(next(iter(_SUBJECT_CACHE)))
    _SUBJECT_CACHE[key] = (corpus, model)
    return model


def blended_posterior(model: RouterModel, word_posterior: np.ndarray,
                      subject: SoftmaxRegression, vector: np.ndarray, weight: float) -> np.ndarray:
    """(1 - w) x the words' category posterior + w x the embedding's, over the model's
    categories (a category the embedding classifier does not know gets none of its share)."""
    if weight == 0.0:
        return word_posterior
    known = {c: i for i, c in enumerate(subject.classes)}
    embedded = subject.posterior(vector)[0]
    mapped = np.array([embedded[known[c]] if c in known else 0.0 for c in model.categories])
    return np.asarray((1 - weight) * word_posterior + weight * mapped)


def posterior_blend(weight: float, alpha: float, residual_l2: float | None,
                    temperature: float = 4.0, subject_l2: float = 1e-3) -> Candidate:
    def fit_blend(corpus: Corpus, rows: np.ndarray) -> Scorer:
        model = _fitted(corpus, rows, alpha, residual_l2, temperature=temperature)
        subject = subject_classifier(corpus, rows, model.categories, subject_l2)
        x = _vectors(corpus)

        def score(index: np.ndarray, text_only: bool) -> np.ndarray:
            out = np.empty(len(index))
            for n, (i, f) in enumerate(zip(index, corpus.features(index, text_only),
                                           strict=True)):
                words = model.category_posterior(f)
                posterior = words if f.query_type else blended_posterior(
                    model, words, subject, x[i], weight)
                out[n] = model.score(f, posterior)
            return out
        return score
    return Candidate("posterior-blend",
                     f"w={weight:g},alpha={alpha:g},l2={residual_l2},T={temperature:g}",
                     fit_blend)


def neighbour_blend(weight: float, k: int, alpha: float, residual_l2: float | None,
                    temperature: float = 4.0) -> Candidate:
    def fit_neighbours(corpus: Corpus, rows: np.ndarray) -> Scorer:
        model = _fitted(corpus, rows, alpha, residual_l2, temperature=temperature)
        x = _vectors(corpus)
        unit = (x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)).astype(np.float32)
        reference, gain = unit[rows], corpus.gain[rows]

        def score(index: np.ndarray, text_only: bool) -> np.ndarray:
            words = np.array([model.score(f) for f in corpus.features(index, text_only)])
            similarity = unit[index] @ reference.T
            # A row scored on the rows it was fitted on must not be its own neighbour.
            similarity[rows[None, :] == index[:, None]] = -2.0
            nearest = np.argpartition(-similarity, min(k, len(rows) - 1), axis=1)[:, :k]
            return np.asarray((1 - weight) * words + weight * gain[nearest].mean(axis=1))
        return score
    return Candidate("neighbour-blend",
                     f"w={weight:g},k={k},alpha={alpha:g},l2={residual_l2},T={temperature:g}",
                     fit_neighbours)


def _standardise(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x[rows].mean(axis=0), x[rows].std(axis=0) + 1e-6


def embedding_logistic(l2: float) -> Candidate:
    def fit_logistic_pair(corpus: Corpus, rows: np.ndarray) -> Scorer:
        x = _vectors(corpus)
        mean, std = _standardise(x, rows)
        z = (x[rows] - mean) / std
        zero = np.zeros(len(rows))
        weak = fit_logistic(z, corpus.weak[rows] >= 0.5, zero, l2)
        strong = fit_logistic(z, corpus.strong[rows] >= 0.5, zero, l2)

        def score(index: np.ndarray, text_only: bool) -> np.ndarray:
            zi = (x[index] - mean) / std
            return np.asarray(_sigmoid(zi @ strong[:-1] + strong[-1])
                              - _sigmoid(zi @ weak[:-1] + weak[-1]))
        return score
    return Candidate("embedding-logistic", f"l2={l2:g}", fit_logistic_pair)


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-v)))


def _tier_logits(model: RouterModel, corpus: Corpus, index: np.ndarray,
                 text_only: bool) -> np.ndarray:
    """Per row, the hashed classifier's logit of P(weak right) and of P(strong right)."""
    out = np.empty((len(index), 2))
    for n, f in enumerate(corpus.features(index, text_only)):
        known = model.known_probabilities(f)
        out[n] = (_logit(known[min(known)]), _logit(known[max(known)]))
    return out


def embedding_stacked(l2: float, alpha: float, residual_l2: float | None,
                      temperature: float = 4.0, folds: int = 3) -> Candidate:
    def fit_stacked(corpus: Corpus, rows: np.ndarray) -> Scorer:
        x = _vectors(corpus)
        mean, std = _standardise(x, rows)
        # The hashed logits of the fitting rows out of fold, each from the rows' other folds,
        # text only where the corpus's view is (MMLU): what the classifier says of new rows.
        offsets = np.zeros((len(rows), 2))
        position = {int(r): n for n, r in enumerate(rows)}
        for held in folds_of(rows, folds, np.random.default_rng(len(rows))):
            training = np.setdiff1d(rows, held)
            model = _fitted(corpus, training, alpha, residual_l2, temperature=temperature)
            at = [position[int(r)] for r in held]
            offsets[at] = _tier_logits(model, corpus, held, True)
        final = _fitted(corpus, rows, alpha, residual_l2, temperature=temperature)
        z = (x[rows] - mean) / std
        weak = fit_logistic(z, corpus.weak[rows] >= 0.5, offsets[:, 0], l2)
        strong = fit_logistic(z, corpus.strong[rows] >= 0.5, offsets[:, 1], l2)

        def score(index: np.ndarray, text_only: bool) -> np.ndarray:
            base = _tier_logits(final, corpus, index, text_only)
            zi = (x[index] - mean) / std
            return np.asarray(_sigmoid(base[:, 1] + zi @ strong[:-1] + strong[-1])
                              - _sigmoid(base[:, 0] + zi @ weak[:-1] + weak[-1]))
        return score
    return Candidate("embedding-stacked",
                     f"l2={l2:g},alpha={alpha:g},l2r={residual_l2},T={temperature:g}",
                     fit_stacked)


# -- the families bench/routing.py measures --------------------------------------------------

BLEND_WEIGHTS: tuple[float, ...] = (0.25, 0.5, 0.75)
NEIGHBOUR_WEIGHTS: tuple[float, ...] = (0.25, 0.5)
# k is fixed at the 150 of the first measurement of the mixed-in neighbours (README, Routing).
NEIGHBOURS_K = 150


def neighbour_blend_candidates() -> list[Candidate]:
    """The hashed classifier's settings (as `bayes_candidates`), each with the neighbours'
    share w; ordered so that settings sharing one hashed fit follow each other (it is cached)."""
    return [neighbour_blend(w, NEIGHBOURS_K, a, r, t) for a, r in HASHED_SETTINGS
            for t in TEMPERATURES for w in NEIGHBOUR_WEIGHTS]


def dense_families() -> dict[str, list[Candidate]]:
    """The slow families (a subject classifier or logistic regressions fitted per fold, a
    few minutes a split on two cores); `neighbour_blend_candidates` is quick."""
    hashed = [(a, l2, t) for a, l2 in HASHED_SETTINGS for t in TEMPERATURES]
    return {
        "posterior-blend": [posterior_blend(w, a, r, t) for a, r, t in hashed
                            for w in BLEND_WEIGHTS],
        "embedding-logistic": [embedding_logistic(l2) for l2 in (30.0, 300.0, 3000.0)],
        "embedding-stacked": [embedding_stacked(l2, a, r, t) for a, r, t in hashed
                              for l2 in (300.0, 3000.0)],
    }
