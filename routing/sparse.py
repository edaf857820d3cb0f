"""Discriminative linear models on sparse n-grams of the prompt: a subject classifier and a
direct regression of the strong model's gain.

Features (`NgramSpace`): TF-IDF of word 1-2-grams and of character 3-5-grams inside words, each
block scaled to unit length (sublinear term frequency, vocabulary and IDF from the fitting rows
only). Both models are kernel ridge regressions on these vectors (a linear kernel, plus a constant
for the bias), solved through one eigendecomposition of the fitting rows' kernel: every penalty
on the grid, and every row's leave-one-out prediction under it, then cost one matrix product
(`KernelRidge`), so each choice below is made inside the rows fitted, by leave-one-out:

- the subject classifier regresses the one-hot category; its posterior is a softmax of the
  scores at a temperature, the (penalty, temperature) of least leave-one-out log-loss;
- the direct model regresses the gain (strong right - weak right), the penalty of least
  leave-one-out squared error.

Training needs scipy (sparse products); scoring with the fitted weights (`LinearScorer`) needs
only numpy.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

_WORD = re.compile(r"\w\w+")
# Only the beginning of a prompt is read, like the hashed features: it says what it is about.
TEXT_CHARS = 1_200
CHAR_SIZES = (3, 4, 5)


def word_terms(text: str) -> list[str]:
    """Word unigrams and bigrams of the lowercased text."""
    words = _WORD.findall(text[:TEXT_CHARS].lower())
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def char_terms(text: str) -> list[str]:
    """Character 3-5-grams inside each word padded with a space either side (so a gram at a
    word's edge says so)."""
    out: list[str] = []
    for word in _WORD.findall(text[:TEXT_CHARS].lower()):
        padded = f" {word} "
        for size in CHAR_SIZES:
            out.extend(padded[i:i + size] for i in range(len(padded) - size + 1))
    return out


@dataclass
class NgramSpace:
    """Two vocabularies (words, characters) with their IDF; a text becomes a sparse vector of
    sublinear TF-IDF, each block of unit length."""

    words: dict[str, int]
    chars: dict[str, int]
    idf: np.ndarray  # len(words) + len(chars)

    @property
    def dim(self) -> int:
        return len(self.words) + len(self.chars)

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 2) -> NgramSpace:
        blocks: list[dict[str, int]] = []
        idfs: list[np.ndarray] = []
        for terms_of in (word_terms, char_terms):
            df: Counter[str] = Counter()
            for text in texts:
                df.update(set(terms_of(text)))
            kept = sorted(t for t, c in df.items() if c >= min_df)
            blocks.append({t: i for i, t in enumerate(kept)})
            counts = np.array([df[t] for t in kept], dtype=np.float64)
            idfs.append(np.log((1 + len(texts)) / (1 + counts)) + 1.0)
        return cls(blocks[0], blocks[1], np.concatenate(idfs))

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's nonzero columns and values."""
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for vocabulary, offset, terms in ((self.words, 0, word_terms(text)),
                                          (self.chars, len(self.words), char_terms(text))):
            counts = Counter(i for i in map(vocabulary.get, terms) if i is not None)
            if not counts:
                continue
            index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts)) + offset
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            weight = tf * self.idf[index]
            columns.append(index)
            values.append(weight / np.sqrt(weight @ weight))
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)

    def matrix(self, texts: Sequence[str]) -> Any:
        """The texts as a scipy CSR matrix (training only)."""
        from scipy import sparse

        indptr = [0]
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for text in texts:
            c, v = self.vector(text)
            columns.append(c)
            values.append(v)
            indptr.append(indptr[-1] + len(c))
        return sparse.csr_matrix(
            (np.concatenate(values) if values else np.zeros(0),
             np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64), indptr),
            shape=(len(texts), self.dim))


# The penalties tried (the kernel's eigenvalues run from ~0 to ~len(rows)); the softmax
# temperatures tried on the one-hot scores (which run from about 0 to 1).
PENALTIES: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
TEMPERATURES: tuple[float, ...] = (0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2)


class KernelRidge:
    """Ridge regression on sparse rows through the eigendecomposition of their kernel
    X X^T + 1 (the constant: an intercept, penalised like the rest)."""

    def __init__(self, x: Any) -> None:
        self.x = x
        kernel = np.asarray((x @ x.T).toarray()) + 1.0
        self.eigenvalues, self.eigenvectors = np.linalg.eigh(kernel)
        self.eigenvalues = np.clip(self.eigenvalues, 0.0, None)

    def _shrink(self, penalty: float) -> np.ndarray:
        return np.asarray(self.eigenvalues / (self.eigenvalues + penalty))

    def leave_one_out(self, y: np.ndarray, penalty: float) -> np.ndarray:
        """Each row's prediction by the fit on all the other rows (closed form)."""
        u, shrink = self.eigenvectors, self._shrink(penalty)
        fitted = u @ (shrink[:, None] * (u.T @ y)) if y.ndim == 2 else u @ (shrink * (u.T @ y))
        leverage = (u * u) @ shrink
        factor = 1.0 / (1.0 - leverage)
        if y.ndim == 2:
            return np.asarray((fitted - leverage[:, None] * y) * factor[:, None])
        return np.asarray((fitted - leverage * y) * factor)

    def weights(self, y: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray]:
        """Primal weights (columns x outputs, or columns) and the intercept."""
        u = self.eigenvectors
        inverse = 1.0 / (self.eigenvalues + penalty)
        dual = u @ (inverse[:, None] * (u.T @ y)) if y.ndim == 2 else u @ (inverse * (u.T @ y))
        primal = np.asarray(self.x.T @ dual)
        return primal, np.asarray(dual.sum(axis=0))


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(z / z.sum(axis=1, keepdims=True))


@dataclass
class LinearScorer:
    """Fitted weights over an `NgramSpace`: scores = x W + b (one column per output)."""

    space: NgramSpace
    weights: np.ndarray  # dim x outputs
    intercept: np.ndarray  # outputs

    def scores(self, text: str) -> np.ndarray:
        columns, values = self.space.vector(text)
        return np.asarray(values @ self.weights[columns] + self.intercept)


@dataclass
class SubjectClassifier:
    scorer: LinearScorer
    categories: list[str]
    temperature: float
    penalty: float

    def posterior(self, text: str) -> np.ndarray:
        return np.asarray(softmax(self.scorer.scores(text)[None, :], self.temperature)[0])


def fit_subjects(
    space: NgramSpace, ridge: KernelRidge, labels: Sequence[str],
    penalties: Sequence[float] = PENALTIES, temperatures: Sequence[float] = TEMPERATURES,
) -> tuple[SubjectClassifier, np.ndarray]:
    """The subject classifier of least leave-one-out log-loss, and its leave-one-out
    posteriors of the fitting rows."""
    categories = sorted(set(labels))
    index = {c: i for i, c in enumerate(categories)}
    truth = np.array([index[c] for c in labels])
    onehot = np.eye(len(categories))[truth]
    best: tuple[float, float, float, np.ndarray] | None = None
    for penalty in penalties:
        loo = ridge.leave_one_out(onehot, penalty)
        for temperature in temperatures:
            posterior = softmax(loo, temperature)
            loss = -float(np.mean(np.log(posterior[np.arange(len(truth)), truth] + 1e-12)))
            if best is None or loss < best[0]:
                best = (loss, penalty, temperature, posterior)
    assert best is not None
    _, penalty, temperature, posterior = best
    weights, intercept = ridge.weights(onehot, penalty)
    return (SubjectClassifier(LinearScorer(space, weights, intercept), categories, temperature,
                              penalty), posterior)


def fit_gain(
    space: NgramSpace, ridge: KernelRidge, gain: np.ndarray,
    penalties: Sequence[float] = PENALTIES,
) -> tuple[LinearScorer, float, np.ndarray]:
    """The gain regression of least leave-one-out squared error, its penalty, and its
    leave-one-out predictions of the fitting rows."""
    mean = float(gain.mean())
    best: tuple[float, float, np.ndarray] | None = None
    for penalty in penalties:
        loo = ridge.leave_one_out(gain - mean, penalty)
        error = float(np.mean((loo - (gain - mean)) ** 2))
        if best is None or error < best[0]:
            best = (error, penalty, loo)
    assert best is not None
    _, penalty, loo = best
    weights, intercept = ridge.weights(gain - mean, penalty)
    return (LinearScorer(space, weights[:, None], np.array([float(intercept) + mean])),
            penalty, loo + mean)


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to 0..1 (ties share their mean rank)."""
    n = len(values)
    if n < 2:
        return np.zeros(n)
    order = np.argsort(values, kind="stable")
    ranked = np.empty(n)
    ranked[order] = np.arange(n, dtype=np.float64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranked)
    return np.asarray(sums[inverse] / counts[inverse] / (n - 1))
