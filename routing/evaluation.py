"""Evaluate a router on a replay file: RouteLLM's figures, the cascade, and what each costs.

Shared by `tierline router eval` and bench/routing.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tierline.config.tiers import TiersConfig, load_tiers
from tierline.routing.classifier import Example, RouterModel
from tierline.routing.features import extract
from tierline.routing.metrics import (
    Curve,
    cost_per_job,
    evaluate,
    evaluate_cascade,
    quality_curve,
)
from tierline.routing.protocol import DEFAULT_CASCADE_LEVELS, AnswerCheck, answer_kinds
from tierline.routing.replay import ReplayRow, row_job
from tierline.routing.tokens import count_tokens
from tierline.routing.training import cross_validated_scores

# Output tokens assumed for a row without a recorded answer (a multiple-choice letter and a
# little more).
_DEFAULT_OUTPUT_TOKENS = 5


@dataclass(frozen=True)
class EvalResult:
    figures: dict[str, Any]
    scores: np.ndarray
    curve: Curve


def model_scores(model: RouterModel, rows: Sequence[ReplayRow]) -> np.ndarray:
    return np.array([model.score(extract(row_job(r))) for r in rows])


def _price(tiers: TiersConfig, tier: int, tokens_in: float, tokens_out: float) -> float:
    endpoint = tiers.get(tier).primary
    return (tokens_in * endpoint.price_in + tokens_out * endpoint.price_out) / 1e6


def evaluate_rows(
    rows: Sequence[ReplayRow],
    model: RouterModel | None = None,
    cv_folds: int = 0,
    extra: Sequence[Example] = (),
    tiers: TiersConfig | None = None,
    text_only: bool = False,
    check: AnswerCheck | None = None,
) -> EvalResult:
    """Figures for `rows`, scored by `model`, or by `cv_folds`-fold cross-validation on the rows
    themselves (plus `extra` examples in every training fold) when cv_folds > 1; the cascade's
    too when rows carry weak answers and `check` (the validator's arithmetic) is given."""
    if cv_folds > 1:
        scores = cross_validated_scores(rows, folds=cv_folds, extra=extra, text_only=text_only)
    elif model is not None:
        if text_only:
            rows_for_scoring = [_without_subject(r) for r in rows]
            scores = model_scores(model, rows_for_scoring)
        else:
            scores = model_scores(model, rows)
    else:
        raise ValueError("evaluate_rows needs a model or cv_folds > 1")
    weak = np.array([r.weak for r in rows])
    strong = np.array([r.strong for r in rows])
    figures: dict[str, Any] = evaluate(scores, weak, strong).as_dict()
    figures["scored_by"] = f"{cv_folds}-fold cross-validation" if cv_folds > 1 else (
        f"model {model.version}" if model else "")
    tiers = tiers or load_tiers()
    mean_in = float(np.mean([count_tokens(r.prompt) for r in rows]))
    responses = [r for r in rows if r.weak_response is not None]
    weak_out = (float(np.mean([count_tokens(r.weak_response or "") for r in responses]))
                if responses else _DEFAULT_OUTPUT_TOKENS)
    weak_price = _price(tiers, 1, mean_in, weak_out)
    strong_price = _price(tiers, tiers.top, mean_in, weak_out)
    share = figures["strong_share_at_95"]
    figures["usd_per_1k_jobs"] = {
        "weak_only": round(1000 * weak_price, 4),
        "strong_only": round(1000 * strong_price, 4),
        "router_at_95": round(1000 * cost_per_job(share, weak_price, strong_price, False), 4),
        "random_at_95": round(1000 * cost_per_job(
            figures["random_strong_share_at_95"], weak_price, strong_price, False), 4),
    }
    if responses and check is not None:
        index = [i for i, r in enumerate(rows) if r.weak_response is not None]
        levels = cascade_levels(model if cv_folds <= 1 else None)
        flagged = np.array([_flag_level(rows[i], check, levels) for i in index])
        cascade = evaluate_cascade(flagged, scores[index], weak[index], strong[index])
        figures.update({k if k.startswith("cascade") else f"cascade_{k}": v
                        for k, v in cascade.as_dict().items()})
        figures["usd_per_1k_jobs"]["cascade"] = round(1000 * cost_per_job(
            cascade.cascade_strong_share, weak_price, strong_price, True), 4)
        figures["usd_per_1k_jobs"]["cascade_at_95"] = round(1000 * cost_per_job(
            cascade.cascade_strong_share_at_95, weak_price, strong_price, True), 4)
    return EvalResult(figures, scores, quality_curve(scores, weak, strong))


def cascade_levels(model: RouterModel | None) -> dict[str, int]:
    raw = (model.metadata.get("cascade_levels") if model else None) or DEFAULT_CASCADE_LEVELS
    return {str(k): int(v) for k, v in raw.items()}


def _flag_level(row: ReplayRow, check: AnswerCheck, levels: dict[str, int] | None = None) -> int:
    """2: a finding that escalates the weak answer; 1: one that moves it up the queue; 0: none."""
    chosen = levels or DEFAULT_CASCADE_LEVELS
    return max((chosen.get(k, 0) for k in answer_kinds(row, check) or ()), default=0)


def _without_subject(row: ReplayRow) -> ReplayRow:
    return dataclasses.replace(row, subject=None)


def plot(result: EvalResult, title: str, path: str) -> None:
    """Quality against strong-call share: the router, random, and the two single models."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install matplotlib") from None
    figures = result.figures
    weak, strong = figures["weak_quality"], figures["strong_quality"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(result.curve.share, result.curve.quality, label=f"router (APGR {figures['apgr']:.3f})")
    ax.plot([0, 1], [weak, strong], "--", label="random (APGR 0.5)")
    ax.axhline(weak, color="grey", linestyle=":", label=f"weak only ({weak:.3f})")
    ax.axhline(strong, color="black", linestyle=":", label=f"strong only ({strong:.3f})")
    ax.axhline(0.95 * strong, color="red", linewidth=0.6, label="95% of strong")
    if "cascade_quality" in figures:
        ax.plot([figures["cascade_strong_share"]], [figures["cascade_quality"]], "o",
                color="green", label=f"cascade ({figures['cascade_quality']:.3f})")
    ax.set_xlabel("share of calls to the strong model")
    ax.set_ylabel("quality")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
