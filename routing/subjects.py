"""The category posterior as a multinomial logistic regression on the hashed words.

Naive Bayes counts a job's words as if each were independent evidence of its kind, so it is far
too sure of one category and wrong about a third of the time on MMLU's subjects. A logistic
regression fitted by maximum likelihood on the same hashed words gives probabilities that mean
what they say, and on held-out halves of the replay data the router routes better from the text
with it (README, the router). Fitting is L-BFGS (scipy, imported only when fitting): seconds for
thousands of rows. Scoring needs numpy only: one gather of the job's weight rows, as naive
Bayes's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# L-BFGS steps: the fit stops here short of the optimum, which costs nothing measurable on
# held-out rows and keeps `tierline router train` to seconds.
ITERATIONS = 100


def term_weights(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A job's distinct hashed columns and their weights: log(1 + count), scaled to unit length,
    so that a long document is no surer of its kind than a short one for having more words."""
    distinct, counts = np.unique(columns, return_counts=True)
    weights = np.log1p(counts.astype(np.float64))
    norm = float(np.linalg.norm(weights))
    return distinct, weights / norm if norm else weights


def logistic_posterior(weights: np.ndarray, bias: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """P(category | job) from the job's hashed columns."""
    distinct, values = term_weights(columns)
    logits = values @ weights[distinct] + bias
    odds = np.exp(logits - logits.max())
    return np.asarray(odds / odds.sum())


def fit_subjects(
    columns: Sequence[np.ndarray], labels: np.ndarray, categories: int, dim: int, l2: float,
    iterations: int = ITERATIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (dim x categories, float32) and biases of a multinomial logistic regression of
    each row's category on its term weights, the weights L2-penalised by `l2` (the biases
    not). Only the columns some row uses are fitted; the others stay 0."""
    from scipy import sparse
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    if len(columns) != len(labels):
        raise ValueError("one label per row")
    pointers, indices, values = [0], [], []
    for row in columns:
        distinct, weights = term_weights(row)
        indices.append(distinct)
        values.append(weights)
        pointers.append(pointers[-1] + len(distinct))
    # Only the columns some row uses are fitted: their positions among those are the matrix's.
    used, local = np.unique(np.concatenate(indices) if indices else np.zeros(0, np.int64),
                            return_inverse=True)
    x = sparse.csr_matrix((np.concatenate(values) if values else [], local, pointers),
                          shape=(len(columns), len(used)))
    n, width = len(labels), len(used)
    target = np.zeros((n, categories))
    target[np.arange(n), labels] = 1.0

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = flat[:-categories].reshape(width, categories), flat[-categories:]
        logits = x @ w + b
        norm = logsumexp(logits, axis=1)
        value = -float((logits[np.arange(n), labels] - norm).sum()) + l2 / 2 * float((w * w).sum())
        residual = np.exp(logits - norm[:, None]) - target
        gradient = np.concatenate([(x.T @ residual + l2 * w).ravel(), residual.sum(axis=0)])
        return value, gradient

    start = np.zeros(width * categories + categories)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": iterations})
    weights = np.zeros((dim, categories), dtype=np.float32)
    weights[used] = result.x[:-categories].reshape(width, categories)
    # At the precision the model file keeps them (half floats, biases to 6 places): a model
    # decides the same before it is saved and after it is loaded.
    return (weights.astype(np.float16).astype(np.float32),
            np.round(result.x[-categories:], 6).astype(np.float64))
