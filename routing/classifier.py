"""The local classifier: per tier, the probability that the tier's answer is good enough.

What most predicts whether a cheap model is enough is *what kind* of job it is (for MMLU, the
subject: a weak model is fine at marketing and poor at college physics). So the model is:

1. a category per job: its `query_type` when the model knows it, else a posterior over
   categories from hashed words (plus task, length and signal markers), so that the text alone
   works too: a multinomial logistic regression (`routing.subjects`) in a model fitted with
   `subject_l2`, else multinomial naive Bayes;
2. per category and tier, the share of jobs that tier got right, smoothed towards the
   category's task and that towards the tier's overall rate;
3. P(tier t good) = sum over categories of P(category | job) x rate(category, t), corrected per
   task by a small logistic regression on the text's shape (length, numbers, sentences...):
   what varies in difficulty within one kind of job (on GSM8K, where every job is one kind).

Its setting (the Bayes smoothing, the correction's penalty) is chosen by cross-validation on
the rows it is trained on (`routing.training.train`), so no setting is tuned on the rows it is
judged on (`routing.protocol` holds out the other half).

The model is a JSON file (counts compressed inside it) read into numpy arrays, so deciding is a
few array operations and the router costs far less than the cheapest call it decides about.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tierline.config.tiers import TIER_COUNT
from tierline.routing.features import Features, hash_terms
from tierline.routing.subjects import fit_subjects, logistic_posterior

FORMAT = "tierline-router/1"
DEFAULT_DIM = 1 << 13
# The pseudo-count of the policy's task prior in a model `fit` writes (chosen on a workload of
# sample jobs other than the one reported, bench/ledger_learning.py).
TASK_PRIOR_STRENGTH = 400.0


class ModelFileError(ValueError):
    pass


@dataclass(frozen=True)
class Example:
    """One labelled job: its features and, per tier with a known outcome, whether it was good."""

    features: Features
    good: dict[int, bool]


@dataclass
class RouterModel:
    version: str
    dim: int
    categories: list[str]
    # Term counts per category (categories x dim) and jobs per category.
    term_counts: np.ndarray
    category_counts: np.ndarray
    # Per tier: jobs with a known outcome, and good ones, per category.
    seen: dict[int, np.ndarray]
    good: dict[int, np.ndarray]
    alpha: float = 0.5
    prior_strength: float = 5.0
    # The naive-Bayes log-posterior is divided by this before normalising: its independence
    # assumption makes it far too sure of one category, and a wrongly sure category brings that
    # category's rates; a softer posterior mixes the rates of the categories the text resembles.
    temperature: float = 1.0
    # Per tier, a logistic correction on the standardised dense features (bias last), applied to
    # the category rate's logit: what varies in difficulty within one kind of job.
    # Keyed "task:tier" (a task with enough examples of its own) or "*:tier" (all the rest).
    residual: dict[str, np.ndarray] = field(default_factory=dict)
    dense_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dense_std: np.ndarray = field(default_factory=lambda: np.ones(0))
    # The tasks it was trained on; for others the policy's task priors are used.
    tasks: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    # Each category's task: a category's rate is smoothed towards its task's, and that towards
    # the tier's overall rate (a new kind of extraction job starts from what extraction jobs
    # do, not from what multiple-choice questions do). Empty: towards the overall rate.
    category_tasks: list[str] = field(default_factory=list)
    # Pseudo-count of the policy's task prior (`probabilities(prior=...)`): a task's fitted
    # probabilities move away from the prior only as its labelled jobs outnumber this. A task
    # learned from a few dozen ledger labels is otherwise judged by them alone (0: not at all).
    task_prior_strength: float = 0.0
    # The logistic regression's weights (dim x categories) and biases: when present, the
    # category posterior is theirs (and `temperature`, naive Bayes's correction, is not used).
    subject_weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    subject_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def knows_task(self, task: str) -> bool:
        return not self.tasks or task in self.tasks

    def __post_init__(self) -> None:
        smoothed = self.term_counts.astype(np.float64) + self.alpha
        self._log_likelihood = (
            np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))
        ).T.astype(np.float32)  # dim x categories: one row gather per term
        self._log_prior = np.log(self.category_counts + 1.0)
        self._index = {c: i for i, c in enumerate(self.categories)}
        self.tiers = sorted(self.seen)
        self._rates = {t: self._smoothed_rate(t) for t in self.tiers}
        tasks = np.array(self.category_tasks if len(self.category_tasks) == len(self.categories)
                         else [""] * len(self.categories))
        self._task_seen = {str(task): {t: float(self.seen[t][tasks == task].sum())
                                       for t in self.tiers} for task in set(tasks.tolist())}

    def _smoothed_rate(self, tier: int) -> np.ndarray:
        seen, good, k = self.seen[tier], self.good[tier], self.prior_strength
        overall = good.sum() / seen.sum() if seen.sum() else 0.5
        prior = np.full(len(seen), overall)
        if len(self.category_tasks) == len(seen):
            tasks = np.array(self.category_tasks)
            for task in set(self.category_tasks):
                members = tasks == task
                prior[members] = (good[members].sum() + k * overall) / (seen[members].sum() + k)
        return np.asarray((good + k * prior) / (seen + k))

    def category_posterior(self, features: Features) -> np.ndarray:
        known = self._index.get(features.query_type or "")
        if known is not None:
            posterior = np.zeros(len(self.categories))
            posterior[known] = 1.0
            return posterior
        columns = hash_terms(features.terms, self.dim)
        if self.subject_weights.size:
            return logistic_posterior(self.subject_weights, self.subject_bias, columns)
        scores = self._log_prior + self._log_likelihood[columns].sum(axis=0, dtype=np.float64)
        scores = np.exp((scores - scores.max()) / self.temperature)
        return np.asarray(scores / scores.sum())

    def probabilities(self, features: Features, top: int = TIER_COUNT,
                      prior: dict[int, float] | None = None) -> dict[int, float]:
        """P(answer good enough) for tiers 1..top; tiers without data are interpolated.

        A tier's estimate for the job's task moves away from a reference only as the task's
        labelled jobs at that tier outnumber `task_prior_strength`: the reference is the
        policy's `prior` for the task when there is one, else what the tiers with that many
        labels say (a tier seen only in a few dozen ledger jobs, tier 2 of a task the replay
        data labels at tiers 1 and 3, is otherwise judged by those jobs alone)."""
        known = self.known_probabilities(features)
        if self.task_prior_strength > 0:
            labels = self.task_labels(features.task)
            reference = prior or self._well_labelled(known, labels)
            if reference:
                known = shrink_to_prior(known, labels, reference, self.task_prior_strength)
        return fill_tiers(known, top)

    def _well_labelled(self, known: dict[int, float],
                       labels: dict[int, float]) -> dict[int, float]:
        """Every known tier as the tiers with at least `task_prior_strength` labels give it
        (interpolated between them); empty when none has that many."""
        trusted = {t: p for t, p in known.items()
                   if labels.get(t, 0.0) >= self.task_prior_strength}
        if not trusted:
            return {}
        filled = fill_tiers(trusted, max(known))
        return {t: filled[t] for t in known}

    def task_labels(self, task: str) -> dict[int, float]:
        """Per tier, how many labelled jobs of `task` the model was fitted on."""
        return dict(self._task_seen.get(task, {}))

    def known_probabilities(self, features: Features,
                            posterior: np.ndarray | None = None) -> dict[int, float]:
        """P(answer good enough) for the tiers the model has outcomes of, as fitted (a stronger
        tier may come out below a weaker one here; `probabilities` does not allow that).
        `posterior`: the job's category posterior when it comes from elsewhere (default: this
        model's own, `category_posterior`)."""
        if posterior is None:
            posterior = self.category_posterior(features)
        known = {t: float(posterior @ self._rates[t]) for t in self.tiers}
        if self.residual and len(features.dense) == len(self.dense_mean):
            z = (np.asarray(features.dense) - self.dense_mean) / self.dense_std
            for tier in self.tiers:
                weights = self.residual.get(f"{features.task}:{tier}")
                if weights is None:
                    weights = self.residual.get(f"*:{tier}")
                if weights is None:
                    continue
                logit = _logit(known[tier]) + float(z @ weights[:-1]) + float(weights[-1])
                known[tier] = float(1.0 / (1.0 + np.exp(-logit)))
        return known

    def category_rates(self, tier: int) -> np.ndarray:
        return self._rates[tier]

    def score(self, features: Features, posterior: np.ndarray | None = None) -> float:
        """How much the strong model is needed: P(top good) - P(tier 1 good), as fitted (not
        floored at 0, which would tie every job the weak tier is expected to do as well).
        `posterior`: as in `known_probabilities`."""
        known = self.known_probabilities(features, posterior)
        return known[max(known)] - known[min(known)]

    # -- files -------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "dim": self.dim,
            "alpha": self.alpha,
            "prior_strength": self.prior_strength,
            "temperature": self.temperature,
            "categories": self.categories,
            "category_counts": self.category_counts.astype(int).tolist(),
            "term_counts": _pack(self.term_counts, COUNTS),
            "seen": {str(t): a.astype(int).tolist() for t, a in self.seen.items()},
            "good": {str(t): a.astype(int).tolist() for t, a in self.good.items()},
            "residual": {k: w.round(6).tolist() for k, w in self.residual.items()},
            "dense_mean": self.dense_mean.round(6).tolist(),
            "dense_std": self.dense_std.round(6).tolist(),
            "tasks": list(self.tasks),
            "category_tasks": self.category_tasks,
            "task_prior_strength": self.task_prior_strength,
            "metadata": self.metadata,
            **({"subject_weights": _pack(self.subject_weights, HALF_FLOAT),
                "subject_bias": self.subject_bias.round(6).tolist()}
               if self.subject_weights.size else {}),
        }

    def save(self, path: Path | str) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_json(), separators=(",", ":")), encoding="utf-8")
        return target

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RouterModel:
        if raw.get("format") != FORMAT:
            raise ModelFileError(f"not a {FORMAT} model (format {raw.get('format')!r})")
        categories = list(raw["categories"])
        dim = int(raw["dim"])
        subjects: dict[str, np.ndarray] = {}
        if "subject_weights" in raw:
            subjects = {
                "subject_weights": _unpack(raw["subject_weights"], (dim, len(categories)),
                                           HALF_FLOAT).astype(np.float32),
                "subject_bias": np.asarray(raw["subject_bias"], dtype=np.float64)}
        return cls(
            version=str(raw["version"]),
            dim=dim,
            categories=categories,
            term_counts=_unpack(raw["term_counts"], (len(categories), dim),
                                COUNTS).astype(np.float64),
            category_counts=np.asarray(raw["category_counts"], dtype=np.float64),
            seen={int(t): np.asarray(a, dtype=np.float64) for t, a in raw["seen"].items()},
            good={int(t): np.asarray(a, dtype=np.float64) for t, a in raw["good"].items()},
            alpha=float(raw["alpha"]),
            prior_strength=float(raw["prior_strength"]),
            temperature=float(raw.get("temperature", 1.0)),
            residual={str(k): np.asarray(w, dtype=np.float64)
                      for k, w in raw.get("residual", {}).items()},
            dense_mean=np.asarray(raw.get("dense_mean", []), dtype=np.float64),
            dense_std=np.asarray(raw.get("dense_std", []), dtype=np.float64),
            tasks=tuple(raw.get("tasks", ())),
            metadata=dict(raw.get("metadata", {})),
            category_tasks=[str(t) for t in raw.get("category_tasks", [])],
            task_prior_strength=float(raw.get("task_prior_strength", 0.0)),
            **subjects,
        )

    @classmethod
    def load(cls, path: Path | str) -> RouterModel:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelFileError(f"router model not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise ModelFileError(f"router model {path} is not JSON: {exc}") from None
        try:
            return cls.from_json(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"router model {path} is invalid: {exc}") from None


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, offset: np.ndarray, l2: float = 1.0, steps: int = 25
) -> np.ndarray:
    """L2-penalised logistic regression with a fixed per-row offset, by Newton's method.
    Returns weights with the bias last (the bias is not penalised)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(offset + design @ weights)))
        gradient = design.T @ (p - y) + penalty * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return weights


def shrink_to_prior(known: dict[int, float], labels: dict[int, float],
                    prior: dict[int, float], strength: float) -> dict[int, float]:
    """Per tier, (n p + k prior) / (n + k) with n the tier's labelled jobs of the task and k
    `strength`; a tier only the prior gives is taken from it."""
    out = dict(known)
    for tier, p0 in prior.items():
        n = labels.get(tier, 0.0) if tier in known else 0.0
        p = known.get(tier, p0)
        out[tier] = (n * p + strength * p0) / (n + strength) if n + strength > 0 else p
    return out


def fill_tiers(known: dict[int, float], top: int) -> dict[int, float]:
    """Probabilities for every tier 1..top from the tiers that have data: a tier between two
    known ones gets the mean of its neighbours, one outside the known range the nearest."""
    out: dict[int, float] = {}
    if not known:
        return {t: 0.5 for t in range(1, top + 1)}
    for tier in range(1, top + 1):
        if tier in known:
            out[tier] = known[tier]
            continue
        below = [t for t in known if t < tier]
        above = [t for t in known if t > tier]
        if below and above:
            out[tier] = (known[max(below)] + known[min(above)]) / 2
        else:
            out[tier] = known[max(below)] if below else known[min(above)]
    # A stronger tier is never assumed worse than a weaker one.
    for tier in range(2, top + 1):
        out[tier] = max(out[tier], out[tier - 1])
    return out


# Term counts are kept as 32-bit unsigned integers, the logistic posterior's weights in half
# precision: their third significant digit moves no posterior that matters (`routing.subjects`
# rounds them so when fitting).
COUNTS, HALF_FLOAT = "<u4", "<f2"


def _pack(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(zlib.compress(array.astype(dtype).tobytes(), 9)).decode("ascii")


def _unpack(blob: str, shape: tuple[int, int], dtype: str) -> np.ndarray:
    data = zlib.decompress(base64.b64decode(blob))
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def category_of(features: Features) -> str:
    """The category a training example is counted under."""
    return features.query_type or features.task


def fit(
    examples: Iterable[Example],
    version: str,
    dim: int = DEFAULT_DIM,
    alpha: float = 0.5,
    prior_strength: float = 5.0,
    metadata: dict[str, Any] | None = None,
    residual_l2: float | None = 10.0,
    temperature: float = 1.0,
    task_prior_strength: float = TASK_PRIOR_STRENGTH,
    subject_l2: float | None = None,
) -> RouterModel:
    """Count terms and outcomes per category (seconds); with `subject_l2`, also fit the
    logistic category posterior with that penalty (seconds more for thousands of rows)."""
    rows: Sequence[Example] = list(examples)
    if not rows:
        raise ValueError("no training examples")
    categories = sorted({category_of(e.features) for e in rows})
    index = {c: i for i, c in enumerate(categories)}
    task_of = {category_of(e.features): e.features.task for e in rows}
    tiers = sorted({t for e in rows for t in e.good})
    term_counts = np.zeros((len(categories), dim), dtype=np.float64)
    category_counts = np.zeros(len(categories))
    seen = {t: np.zeros(len(categories)) for t in tiers}
    good = {t: np.zeros(len(categories)) for t in tiers}
    columns = [hash_terms(e.features.terms, dim) for e in rows]
    labels = np.array([index[category_of(e.features)] for e in rows])
    for example, c, terms in zip(rows, labels, columns, strict=True):
        np.add.at(term_counts[c], terms, 1.0)
        category_counts[c] += 1
        for tier, ok in example.good.items():
            seen[tier][c] += 1
            good[tier][c] += float(ok)
    model = RouterModel(
        version=version, dim=dim, categories=categories, term_counts=term_counts,
        category_counts=category_counts, seen=seen, good=good, alpha=alpha,
        prior_strength=prior_strength, temperature=temperature, metadata=dict(metadata or {}),
        task_prior_strength=task_prior_strength,
        tasks=tuple(sorted({e.features.task for e in rows})),
        category_tasks=[task_of[c] for c in categories],
    )
    if subject_l2 is not None and len(categories) > 1:
        model.subject_weights, model.subject_bias = fit_subjects(
            columns, labels, len(categories), dim, subject_l2)
    if residual_l2 is not None:
        _fit_residual(model, rows, index, residual_l2)
    return model


def with_residual(model: RouterModel, examples: Sequence[Example],
                  residual_l2: float | None, temperature: float | None = None) -> RouterModel:
    """A copy of `model` (fitted on `examples`) with the shape correction refitted under
    another penalty (None: without one), and with another posterior temperature if given:
    settings apart only in these share the rest of a fit."""
    copy = dataclasses.replace(model, residual={}, dense_mean=np.zeros(0), dense_std=np.ones(0),
                               temperature=model.temperature if temperature is None
                               else temperature)
    if residual_l2 is not None:
        _fit_residual(copy, examples, copy._index, residual_l2)
    return copy


# A task needs this many examples for a correction of its own; the rest share one.
MIN_TASK_EXAMPLES = 200


def _fit_residual(
    model: RouterModel, rows: Sequence[Example], index: dict[str, int], l2: float
) -> None:
    dense = np.array([e.features.dense for e in rows], dtype=np.float64)
    if dense.ndim != 2 or dense.shape[1] == 0:
        return
    mean, std = dense.mean(axis=0), dense.std(axis=0)
    std[std == 0] = 1.0
    z = (dense - mean) / std
    cats = np.array([index[category_of(e.features)] for e in rows])
    tasks = np.array([e.features.task for e in rows])
    names, counts = np.unique(tasks, return_counts=True)
    own = {str(n) for n, c in zip(names, counts, strict=True) if c >= MIN_TASK_EXAMPLES}
    groups = {t: tasks == t for t in own}
    groups["*"] = ~np.isin(tasks, list(own)) if len(own) < len(names) else np.zeros(0, bool)
    residual: dict[str, np.ndarray] = {}
    for tier in model.tiers:
        labelled = np.array([tier in e.good for e in rows])
        y_all = np.array([float(e.good.get(tier, False)) for e in rows])
        for group, members in groups.items():
            mask = labelled & members if len(members) else np.zeros(len(rows), bool)
            if mask.sum() < 20:
                continue
            rates = np.clip(model.category_rates(tier)[cats[mask]], 1e-4, 1 - 1e-4)
            residual[f"{group}:{tier}"] = fit_logistic(
                z[mask], y_all[mask], np.log(rates / (1 - rates)), l2)
    model.residual, model.dense_mean, model.dense_std = residual, mean, std
