"""RouteLLM's measures of a router on recorded weak/strong outcomes.

A router gives each prompt a score (higher: more in need of the strong model). Sending the
highest-scoring share s of prompts to the strong model gives a quality q(s): the mean outcome of
the chosen answers. Prompts with equal scores are split evenly, which is what a random
tie-break gives on average, so q is piecewise linear between distinct scores.

- APGR: (area under q - area under the weak model's line) / (strong's area - weak's), s in 0..1.
- CPT(x): the least s at which q reaches weak + x (strong - weak).
- strong share at 95%: the least s at which q reaches 0.95 x strong.
A random router's q is the straight line from weak to strong, so its figures are analytic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    share: np.ndarray  # strong-call share at each breakpoint, 0..1
    quality: np.ndarray
    # Prompts in each step between breakpoints (a tie group); len(share) - 1 of them.
    sizes: np.ndarray

    def share_at(self, target: float) -> float:
        """The least strong-call share whose quality reaches `target` (1.0 if never)."""
        q, s = self.quality, self.share
        hits = np.nonzero(q >= target - 1e-12)[0]
        if len(hits) == 0:
            return 1.0
        i = int(hits[0])
        if i == 0:
            return 0.0
        if self.sizes[i - 1] <= 1:
            return float(s[i])
        # Inside a tie group the curve is linear (ties split evenly at random): interpolate.
        q0, q1 = q[i - 1], q[i]
        return float(s[i - 1] + (s[i] - s[i - 1]) * (target - q0) / (q1 - q0))

    def area(self) -> float:
        return float(np.sum((self.share[1:] - self.share[:-1]) *
                            (self.quality[1:] + self.quality[:-1]) / 2))


def quality_curve(
    scores: Sequence[float] | np.ndarray,
    weak: Sequence[float] | np.ndarray,
    strong: Sequence[float] | np.ndarray,
) -> Curve:
    s, w, g = (np.asarray(a, dtype=np.float64) for a in (scores, weak, strong))
    n = len(s)
    if n == 0:
        raise ValueError("no rows to evaluate")
    order = np.argsort(-s, kind="stable")
    s, gain = s[order], (g - w)[order]
    # Breakpoints only where the score changes: a tie group moves to strong as one.
    ends = np.nonzero(np.append(s[1:] != s[:-1], True))[0] + 1
    cumulative = np.concatenate([[0.0], np.cumsum(gain)])
    share = np.concatenate([[0.0], ends / n])
    quality = (w.sum() + cumulative[np.concatenate([[0], ends])]) / n
    return Curve(share, quality, np.diff(np.concatenate([[0], ends])))


@dataclass(frozen=True)
class RouterFigures:
    n: int
    weak_quality: float
    strong_quality: float
    apgr: float
    cpt50: float
    cpt80: float
    strong_share_at_95: float
    random_apgr: float
    random_cpt50: float
    random_cpt80: float
    random_strong_share_at_95: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def random_share_at(target: float, weak_quality: float, strong_quality: float) -> float:
    if weak_quality >= target:
        return 0.0
    if strong_quality <= weak_quality:
        return 1.0
    return float(min(1.0, (target - weak_quality) / (strong_quality - weak_quality)))


def evaluate(
    scores: Sequence[float] | np.ndarray,
    weak: Sequence[float] | np.ndarray,
    strong: Sequence[float] | np.ndarray,
) -> RouterFigures:
    curve = quality_curve(scores, weak, strong)
    qw, qs = float(np.mean(weak)), float(np.mean(strong))
    gap = qs - qw
    apgr = (curve.area() - qw) / gap if gap else float("nan")

    def cpt(x: float) -> float:
        return curve.share_at(qw + x * gap) if gap > 0 else 0.0

    target95 = 0.95 * qs
    return RouterFigures(
        n=int(np.size(weak)),
        weak_quality=qw,
        strong_quality=qs,
        apgr=float(apgr),
        cpt50=cpt(0.5),
        cpt80=cpt(0.8),
        strong_share_at_95=curve.share_at(target95),
        random_apgr=0.5,
        random_cpt50=0.5 if gap > 0 else 0.0,
        random_cpt80=0.8 if gap > 0 else 0.0,
        random_strong_share_at_95=random_share_at(target95, qw, qs),
    )


@dataclass(frozen=True)
class CascadeFigures:
    """Route-then-validate: every job runs on the weak model, and a failed check escalates it."""

    n: int
    cascade_quality: float
    cascade_strong_share: float
    # Escalating flagged answers first, then unflagged ones in router-score order.
    cascade_strong_share_at_95: float
    flag_precision: float  # share of flagged weak answers that were in fact wrong

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def evaluate_cascade(
    flagged: Sequence[float] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    weak: Sequence[float] | np.ndarray,
    strong: Sequence[float] | np.ndarray,
) -> CascadeFigures:
    """`flagged`: per row, 0 when the check passed the weak answer, else how sure the failure
    is (True, or levels: a wrong claim above a merely suspicious answer); surer ones escalate
    first when fewer strong calls are allowed."""
    level = np.asarray(flagged, dtype=np.float64)
    f = level > 0
    w, g = np.asarray(weak, dtype=np.float64), np.asarray(strong, dtype=np.float64)
    n = len(f)
    quality = float(np.where(f, g, w).mean())
    # Flagged rows outrank every unflagged one; within each group the router's score decides.
    s = np.asarray(scores, dtype=np.float64)
    span = float(s.max() - s.min()) + 1.0
    combined = s + level * 2 * span
    curve = quality_curve(combined, w, g)
    wrong_flagged = float(((w < 0.5) & f).sum())
    return CascadeFigures(
        n=n,
        cascade_quality=quality,
        cascade_strong_share=float(f.mean()),
        cascade_strong_share_at_95=curve.share_at(0.95 * float(g.mean())),
        flag_precision=wrong_flagged / float(f.sum()) if f.any() else float("nan"),
    )


def cost_per_job(
    strong_share: float, weak_price: float, strong_price: float, cascade: bool
) -> float:
    """Mean price of a job; in a cascade the weak call is paid for every job."""
    weak_calls = 1.0 if cascade else 1.0 - strong_share
    return weak_calls * weak_price + strong_share * strong_price


def brier(probabilities: np.ndarray, outcomes: np.ndarray) -> float:
    """Mean squared error of probabilities against 0/1 outcomes (lower is better)."""
    return float(np.mean((np.asarray(probabilities) - np.asarray(outcomes, dtype=float)) ** 2))


def expected_calibration_error(
    probabilities: np.ndarray, outcomes: np.ndarray, bins: int = 10
) -> float:
    """How far stated probabilities are from observed frequencies: per equal-width bin, the gap
    between mean probability and the share of good outcomes, weighted by the bin's size."""
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(p[inside].mean() - y[inside].mean())
    return float(error)
