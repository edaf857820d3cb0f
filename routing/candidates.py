"""The routers the evaluation protocol measures against each other, and the nested choice.

Every candidate is fitted on some rows of a `Corpus` and scores others (higher: the strong model
is more needed). Families:

- `hashed`: the shipped classifier (`routing.classifier`: a category posterior from hashed
  words, by logistic regression (`subject_l2`) or naive Bayes softened by a temperature,
  per-category rates, a per-task correction on the text's shape);
- `embedding-ridge`: a ridge regression of the gain (strong right - weak right) on a static
  text embedding (`routing.embedding`);
- `embedding-neighbours`: the mean gain (strong right - weak right) of the k labelled prompts
  nearest in that embedding (cosine).

Each family has a few settings; `choose` picks one by cross-validation inside the rows it is
given, so that a figure reported on other rows owes nothing to them. Discriminative models on
sparse n-grams are further families (`routing.sparse_candidates`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tierline.routing.classifier import Example, RouterModel, fit, with_residual
from tierline.routing.features import Features
from tierline.routing.metrics import evaluate

# index of rows, text_only -> scores
Scorer = Callable[[np.ndarray, bool], np.ndarray]


@dataclass
class Corpus:
    """Labelled rows: features (with the subject as query type when known), outcomes, the
    dataset each row is from, and optionally each row's text embedding."""

    examples: list[Example]
    weak: np.ndarray
    strong: np.ndarray
    dataset: np.ndarray
    vectors: np.ndarray | None = None
    _typed: list[Features] = field(default_factory=list, repr=False)
    _text_only: list[Features] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._typed = [e.features for e in self.examples]
        self._text_only = [dataclasses.replace(f, query_type=None) for f in self._typed]

    def features(self, index: np.ndarray, text_only: bool) -> list[Features]:
        """The rows' features; `text_only`: without the field naming their kind (a subject)."""
        source = self._text_only if text_only else self._typed
        return [source[i] for i in index]

    @property
    def gain(self) -> np.ndarray:
        return np.asarray(self.strong - self.weak)

    @classmethod
    def of_examples(cls, examples: Sequence[Example], datasets: Sequence[str],
                    vectors: np.ndarray | None = None) -> Corpus:
        """Examples as a corpus: tier 1's outcome is the weak one, the top tier's the strong."""
        def outcome(example: Example, strongest: bool) -> float:
            tiers = sorted(example.good)
            return float(example.good[tiers[-1] if strongest else tiers[0]]) if tiers else 0.0
        return cls(
            examples=list(examples),
            weak=np.array([outcome(e, False) for e in examples]),
            strong=np.array([outcome(e, True) for e in examples]),
            dataset=np.array(list(datasets)),
            vectors=vectors,
        )


@dataclass(frozen=True)
class Candidate:
    family: str
    setting: str
    fit: Callable[[Corpus, np.ndarray], Scorer]
    # The keyword arguments of `routing.classifier.fit` this setting stands for (hashed only).
    params: dict[str, float | None] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.family}({self.setting})"


def hashed(alpha: float, residual_l2: float | None, temperature: float = 1.0,
           subject_l2: float | None = None) -> Candidate:
    """The shipped classifier with this Bayes smoothing, shape-correction penalty, posterior
    temperature and, when given, the logistic posterior's penalty (which makes the first and
    third moot)."""
    def fit_hashed(corpus: Corpus, rows: np.ndarray) -> Scorer:
        model = _fitted(corpus, rows, alpha, residual_l2, subject_l2, temperature)
        return lambda index, text_only: hashed_scores(model, corpus.features(index, text_only))
    setting = f"alpha={alpha:g},l2={residual_l2},T={temperature:g}"
    if subject_l2 is not None:
        setting = f"subject_l2={subject_l2:g},l2={residual_l2}"
    return Candidate("hashed", setting, fit_hashed,
                     {"alpha": alpha, "residual_l2": residual_l2, "temperature": temperature,
                      "subject_l2": subject_l2})


# Settings that differ only in the temperature or the shape correction's penalty share one fit
# (the temperature is read when scoring; the correction is refitted on a copy, in milliseconds,
# where the logistic posterior takes seconds): the last few fits are kept, keyed by their corpus,
# rows and the posterior's parameters. Each entry holds its corpus, so that no other corpus can
# take its id while it is cached.
_FIT_CACHE: dict[tuple[int, bytes, float, float | None], tuple[Corpus, RouterModel]] = {}
_FIT_CACHE_SIZE = 8


def _fitted(corpus: Corpus, rows: np.ndarray, alpha: float, residual_l2: float | None,
            subject_l2: float | None = None, temperature: float | None = None) -> RouterModel:
    examples = [corpus.examples[i] for i in rows]
    key = (id(corpus), hashlib.sha1(np.asarray(rows).tobytes()).digest(), alpha, subject_l2)
    cached = _FIT_CACHE.get(key)
    if cached is None or cached[0] is not corpus:
        model = fit(examples, version="candidate", alpha=alpha, residual_l2=None,
                    subject_l2=subject_l2)
        if len(_FIT_CACHE) >= _FIT_CACHE_SIZE:
            _FIT_CACHE.pop(next(iter(_FIT_CACHE)))
        _FIT_CACHE[key] = (corpus, model)
        cached = _FIT_CACHE[key]
    return with_residual(cached[1], examples, residual_l2, temperature)


def hashed_scores(model: RouterModel, features: Sequence[Features]) -> np.ndarray:
    return np.array([model.score(f) for f in features])


def _vectors(corpus: Corpus) -> np.ndarray:
    if corpus.vectors is None:
        raise ValueError("this candidate needs the corpus's text embedding")
    return corpus.vectors


def embedding_ridge(l2: float) -> Candidate:
    def fit_ridge(corpus: Corpus, rows: np.ndarray) -> Scorer:
        x = _vectors(corpus)
        mean, std = x[rows].mean(axis=0), x[rows].std(axis=0) + 1e-6
        z = (x[rows] - mean) / std
        gain = corpus.gain[rows]
        # Ridge regression of the gain on the standardised embedding: one linear solve.
        weights = np.linalg.solve(z.T @ z + l2 * np.eye(z.shape[1]), z.T @ (gain - gain.mean()))

        def score(index: np.ndarray, text_only: bool) -> np.ndarray:
            return np.asarray(((x[index] - mean) / std) @ weights)
        return score
    return Candidate("embedding-ridge", f"l2={l2:g}", fit_ridge)


def embedding_neighbours(k: int) -> Candidate:
    def fit_neighbours(corpus: Corpus, rows: np.ndarray) -> Scorer:
        x = _vectors(corpus)
        unit = (x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)).astype(np.float32)
        gain = corpus.gain[rows]
        reference = unit[rows]

        def score(index: np.ndarray, text_only: bool) -> np.ndarray:
            similarity = unit[index] @ reference.T
            nearest = np.argpartition(-similarity, min(k, len(rows) - 1), axis=1)[:, :k]
            return np.asarray(gain[nearest].mean(axis=1))
        return score
    return Candidate("embedding-neighbours", f"k={k}", fit_neighbours)


# The naive-Bayes settings: the Bayes smoothing (smaller is sharper) and the strength of the
# shape correction's penalty. The posterior's temperature is fixed, not picked: naive Bayes is
# overconfident under every setting, and a choice between temperatures inside a training set
# follows its noise. The candidate families blended with the words (routing.dense) use these.
HASHED_SETTINGS: tuple[tuple[float, float | None], ...] = (
    (0.1, 10.0), (0.5, 10.0), (0.1, 100.0), (0.5, 100.0))
TEMPERATURES: tuple[float, ...] = (4.0,)
# The shipped family's settings: the logistic posterior's penalty and the shape correction's;
# cross-validation picks among them per training. (The Bayes smoothing only shapes the term
# counts the model file also keeps.)
SUBJECT_PENALTIES: tuple[float, ...] = (0.003, 0.03)
RESIDUAL_PENALTIES: tuple[float, ...] = (10.0, 100.0)
SHIPPED_ALPHA, SHIPPED_TEMPERATURE = 0.1, 4.0


def bayes_candidates() -> list[Candidate]:
    """The classifier with the naive-Bayes posterior, as shipped before the logistic one."""
    return [hashed(alpha, l2, t) for alpha, l2 in HASHED_SETTINGS for t in TEMPERATURES]


def shipped_candidates() -> list[Candidate]:
    return [hashed(SHIPPED_ALPHA, l2, SHIPPED_TEMPERATURE, subject)
            for subject in SUBJECT_PENALTIES for l2 in RESIDUAL_PENALTIES]


def embedding_candidates() -> list[Candidate]:
    return [embedding_ridge(100.0), embedding_ridge(3000.0),
            embedding_neighbours(50), embedding_neighbours(150)]


# -- the nested choice ------------------------------------------------------------------------

@dataclass(frozen=True)
class Criterion:
    """What a choice is judged by: the mean APGR over these (dataset, text_only) views."""

    views: tuple[tuple[str, bool], ...]

    @classmethod
    def for_corpus(cls, corpus: Corpus) -> Criterion:
        """Every dataset of the corpus; one whose rows name their kind (MMLU's subject) is
        judged from the text only, as real jobs carry no such field."""
        views = []
        for dataset in sorted(set(corpus.dataset.tolist())):
            typed = any(corpus.examples[i].features.query_type
                        for i in np.nonzero(corpus.dataset == dataset)[0])
            views.append((str(dataset), bool(typed)))
        return cls(tuple(views))


def folds_of(rows: np.ndarray, folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    shuffled = rng.permutation(rows)
    return [shuffled[k::folds] for k in range(folds)]


def cross_validated_score(
    candidate: Candidate, corpus: Corpus, rows: np.ndarray, criterion: Criterion,
    folds: int, seed: int,
) -> float:
    """The candidate's mean APGR over the criterion's views, each row scored by a fit on the
    other folds of `rows` (and nothing else)."""
    parts = folds_of(rows, folds, np.random.default_rng(seed))
    scored: dict[tuple[str, bool], list[tuple[np.ndarray, np.ndarray]]] = {
        v: [] for v in criterion.views}
    for k, held in enumerate(parts):
        training = np.concatenate([p for j, p in enumerate(parts) if j != k])
        scorer = candidate.fit(corpus, training)
        for dataset, text_only in criterion.views:
            index = held[corpus.dataset[held] == dataset]
            if len(index):
                scored[(dataset, text_only)].append((index, scorer(index, text_only)))
    values = []
    for parts_of_view in scored.values():
        if not parts_of_view:
            continue
        index = np.concatenate([i for i, _ in parts_of_view])
        scores = np.concatenate([s for _, s in parts_of_view])
        apgr = evaluate(scores, corpus.weak[index], corpus.strong[index]).apgr
        if np.isfinite(apgr):
            values.append(apgr)
    return float(np.mean(values)) if values else float("-inf")


def choose(
    candidates: Sequence[Candidate], corpus: Corpus, rows: np.ndarray,
    criterion: Criterion | None = None, folds: int = 3, seed: int = 0,
) -> tuple[Candidate, dict[str, float]]:
    """The candidate with the best cross-validated criterion inside `rows`, and every score."""
    if not candidates:
        raise ValueError("no candidates to choose from")
    if len(candidates) == 1:
        return candidates[0], {}  # nothing to choose: no folds to fit
    criterion = criterion or Criterion.for_corpus(corpus)
    scores = {c.name: cross_validated_score(c, corpus, rows, criterion, folds, seed)
              for c in candidates}
    best = max(candidates, key=lambda c: scores[c.name])
    return best, scores
