"""Candidate routers on sparse n-grams (`routing.sparse`), for the protocol to measure against
the naive Bayes that was shipped when they were measured (`routing.candidates`, bench/routing.py):

- `sparse-subjects`: the discriminative subject classifier's posterior in place of the naive
  Bayes one, feeding the same per-category rates and shape correction;
- `sparse-gain`: the direct regression of the gain (strong right - weak right);
- `sparse-blend`: a weighted mean of the three scores' ranks (naive Bayes, subjects, gain), the
  weights those of the best mean APGR on out-of-fold scores of the fitting rows;
- `sparse-rank-mean`: the plain mean of those three ranks.

Every choice (penalties, temperature, blend weights) is made inside the rows a candidate is
fitted on, so each family is one candidate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np

from tierline.routing.candidates import (
    Candidate,
    Corpus,
    Criterion,
    Scorer,
    _fitted,
    bayes_candidates,
    choose,
    folds_of,
)
from tierline.routing.classifier import RouterModel, category_of
from tierline.routing.features import Features
from tierline.routing.metrics import evaluate
from tierline.routing.sparse import (
    KernelRidge,
    LinearScorer,
    NgramSpace,
    SubjectClassifier,
    fit_gain,
    fit_subjects,
)

# The naive Bayes whose rates the subject posterior feeds: its smoothing does not touch the
# rates, and the shape correction's penalty is the shipped default.
RATES_ALPHA, RATES_L2 = 0.5, 10.0
BLEND_STEP = 0.25


def prompt_text(features: Features) -> str:
    """The words the features kept of the prompt, in order (without the marker terms)."""
    return " ".join(t for t in features.terms if not t.startswith("__"))


@dataclass
class SparseFit:
    subjects: SubjectClassifier
    gain: LinearScorer
    # Leave-one-out, per fitting row: the subject posterior and the gain.
    subject_loo: np.ndarray
    gain_loo: np.ndarray


_CACHE: dict[tuple[int, bytes], tuple[Corpus, SparseFit]] = {}
_CACHE_SIZE = 4


def sparse_fit(corpus: Corpus, rows: np.ndarray) -> SparseFit:
    key = (id(corpus), hashlib.sha1(np.asarray(rows).tobytes()).digest())
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is corpus:
        return cached[1]
    texts = [prompt_text(corpus.examples[i].features) for i in rows]
    space = NgramSpace.fit(texts)
    ridge = KernelRidge(space.matrix(texts))
    subjects, subject_loo = fit_subjects(
        space, ridge, [category_of(corpus.examples[i].features) for i in rows])
    gain, _, gain_loo = fit_gain(space, ridge, corpus.gain[rows])
    fitted = SparseFit(subjects, gain, subject_loo, gain_loo)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (corpus, fitted)
    return fitted


def subject_scores(model: RouterModel, subjects: SubjectClassifier,
                   features: Sequence[Features],
                   posteriors: np.ndarray | None = None) -> np.ndarray:
    """The model's score with the subject classifier's posterior (a known category is used as
    it is); `posteriors`: precomputed, one row per job."""
    if subjects.categories != model.categories:
        raise ValueError("the subject classifier and the rates disagree on the categories")
    out = np.empty(len(features))
    for i, f in enumerate(features):
        if f.query_type in model.categories:
            out[i] = model.score(f)
            continue
        posterior = (posteriors[i] if posteriors is not None
                     else subjects.posterior(prompt_text(f)))
        out[i] = model.score(f, posterior)
    return out


def gain_scores(gain: LinearScorer, features: Sequence[Features]) -> np.ndarray:
    return np.array([float(gain.scores(prompt_text(f))[0]) for f in features])


def sparse_subjects() -> Candidate:
    def fit_subjects_candidate(corpus: Corpus, rows: np.ndarray) -> Scorer:
        model = _fitted(corpus, rows, RATES_ALPHA, RATES_L2)
        fitted = sparse_fit(corpus, rows)
        return lambda index, text_only: subject_scores(
            model, fitted.subjects, corpus.features(index, text_only))
    return Candidate("sparse-subjects", "loo", fit_subjects_candidate)


def sparse_gain() -> Candidate:
    def fit_gain_candidate(corpus: Corpus, rows: np.ndarray) -> Scorer:
        fitted = sparse_fit(corpus, rows)
        return lambda index, text_only: gain_scores(fitted.gain, corpus.features(index,
                                                                                  text_only))
    return Candidate("sparse-gain", "loo", fit_gain_candidate)


def empirical_cdf(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's share of the reference at or below it (a rank any single job can have)."""
    ordered = np.sort(reference)
    return np.asarray(np.searchsorted(ordered, values, side="right") / max(len(ordered), 1))


def blend_weights(components: np.ndarray, corpus: Corpus, rows: np.ndarray,
                  criterion: Criterion, step: float = BLEND_STEP) -> np.ndarray:
    """The weights (a grid of this step on the simplex) of the best mean APGR over the
    criterion's views, `components` holding each row's out-of-fold scores already as ranks
    (rows x scores)."""
    grid = np.arange(0.0, 1.0 + 1e-9, step)
    best, best_value = np.full(components.shape[1], 1.0 / components.shape[1]), -np.inf
    for weights in product(grid, repeat=components.shape[1]):
        if abs(sum(weights) - 1.0) > 1e-9:
            continue
        blended = components @ np.array(weights)
        values = []
        for dataset, _ in criterion.views:
            members = corpus.dataset[rows] == dataset
            if members.any():
                apgr = evaluate(blended[members], corpus.weak[rows][members],
                                corpus.strong[rows][members]).apgr
                if np.isfinite(apgr):
                    values.append(apgr)
        value = float(np.mean(values)) if values else -np.inf
        if value > best_value + 1e-12:
            best, best_value = np.array(weights), value
    return best


@dataclass
class BlendParts:
    """What both blends need from one set of fitting rows: each score's out-of-fold values on
    those rows (the reference its ranks are taken against) and the three fitted scorers."""

    references: list[np.ndarray]
    ranked: np.ndarray  # rows x scores: the out-of-fold scores as ranks
    scorers: tuple[Scorer, Scorer, Scorer]
    _scored: dict[tuple[bytes, bool], np.ndarray]

    def ranks_of(self, index: np.ndarray, text_only: bool) -> np.ndarray:
        """Rows x scores: each row's scores ranked against the fitting rows' references."""
        key = (hashlib.sha1(np.asarray(index).tobytes()).digest(), text_only)
        if key not in self._scored:
            self._scored[key] = np.column_stack([
                empirical_cdf(reference, scorer(index, text_only))
                for reference, scorer in zip(self.references, self.scorers, strict=True)])
        return self._scored[key]


_PARTS: dict[tuple[int, bytes], tuple[Corpus, BlendParts]] = {}


def blend_parts(corpus: Corpus, rows: np.ndarray, folds: int = 3) -> BlendParts:
    key = (id(corpus), hashlib.sha1(np.asarray(rows).tobytes()).digest())
    cached = _PARTS.get(key)
    if cached is not None and cached[0] is corpus:
        return cached[1]
    criterion = Criterion.for_corpus(corpus)
    text_only = {d: t for d, t in criterion.views}
    view_of = [text_only.get(str(corpus.dataset[i]), False) for i in rows]
    chosen, _ = choose(bayes_candidates(), corpus, rows, criterion)
    # Out-of-fold scores of the fitting rows, each as its view scores it.
    bayes_oof = np.empty(len(rows))
    position = {int(r): k for k, r in enumerate(rows)}
    for held in folds_of(rows, folds, np.random.default_rng(0)):
        scorer = chosen.fit(corpus, np.setdiff1d(rows, held))
        for flag in (False, True):
            part = np.array([i for i in held if view_of[position[int(i)]] == flag])
            if len(part):
                bayes_oof[[position[int(i)] for i in part]] = scorer(part, flag)
    model = _fitted(corpus, rows, RATES_ALPHA, RATES_L2)
    fitted = sparse_fit(corpus, rows)
    features = [corpus.features(np.array([i]), view_of[k])[0] for k, i in enumerate(rows)]
    # The subject rates were fitted with each row in: its leave-one-out posterior is the
    # part of the subject score that did not see it.
    subjects_oof = subject_scores(model, fitted.subjects, features, fitted.subject_loo)
    references = [bayes_oof, subjects_oof, fitted.gain_loo]
    parts = BlendParts(
        references=references,
        ranked=np.column_stack([empirical_cdf(r, r) for r in references]),
        scorers=(chosen.fit(corpus, rows),
                 lambda index, flag: subject_scores(model, fitted.subjects,
                                                    corpus.features(index, flag)),
                 lambda index, flag: gain_scores(fitted.gain, corpus.features(index, flag))),
        _scored={})
    if len(_PARTS) >= _CACHE_SIZE:
        _PARTS.pop(next(iter(_PARTS)))
    _PARTS[key] = (corpus, parts)
    return parts


def sparse_blend(fitted_weights: bool = True) -> Candidate:
    """The blend of the three scores' ranks; `fitted_weights` False: their plain mean."""
    def fit_blend(corpus: Corpus, rows: np.ndarray) -> Scorer:
        parts = blend_parts(corpus, rows)
        weights = (blend_weights(parts.ranked, corpus, rows, Criterion.for_corpus(corpus))
                   if fitted_weights else np.full(len(parts.references),
                                                  1.0 / len(parts.references)))
        return lambda index, flag: np.asarray(parts.ranks_of(index, flag) @ weights)
    if fitted_weights:
        return Candidate("sparse-blend", "oof", fit_blend)
    return Candidate("sparse-rank-mean", "equal", fit_blend)


def sparse_families() -> dict[str, Sequence[Candidate]]:
    return {"sparse-subjects": [sparse_subjects()], "sparse-gain": [sparse_gain()],
            "sparse-blend": [sparse_blend()],
            "sparse-rank-mean": [sparse_blend(fitted_weights=False)]}
