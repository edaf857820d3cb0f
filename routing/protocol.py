"""An evaluation that cannot flatter: random halves, every choice made inside the fitting half.

For each of `splits` random 50/50 splits of the replay rows (per dataset, so each half holds half
of MMLU and half of GSM8K):

1. the router's setting is chosen by cross-validation inside the fitting half
   (`routing.candidates.choose`), then fitted on the whole fitting half;
2. the cascade's use of the arithmetic check (which kinds of finding escalate at once, which
   only move an answer up the queue) is chosen from their precision on the fitting half;
3. everything is scored on the other half, which no choice saw.

Each figure is then reported as its median and 10th-90th percentile over the splits.
`learning_curve` repeats step 1 and 3 on random shares of each fitting half: how much a figure
owes to the number of labelled rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tierline.routing.candidates import Candidate, Corpus, Scorer, choose
from tierline.routing.metrics import evaluate, evaluate_cascade
from tierline.routing.replay import ReplayRow, row_example

# A kind of finding escalates on its own when, on the fitting half, at least this share of the
# answers it fired on were wrong (a strict finding must be almost always right when it fires);
# a kind whose answers were wrong more often than answers overall only moves them up the queue.
STRICT_PRECISION = 0.8
FIGURES = ("apgr", "cpt50", "cpt80", "strong_share_at_95")


@dataclass(frozen=True)
class Split:
    fit: np.ndarray
    held: np.ndarray


def random_halves(groups: np.ndarray, splits: int, seed: int = 0) -> list[Split]:
    """`splits` random halvings of the rows, each group (dataset) halved on its own."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(splits):
        fit_rows, held_rows = [], []
        for group in np.unique(groups):
            members = rng.permutation(np.nonzero(groups == group)[0])
            half = len(members) // 2
            fit_rows.append(members[:half])
            held_rows.append(members[half:])
        out.append(Split(np.sort(np.concatenate(fit_rows)), np.sort(np.concatenate(held_rows))))
    return out


def spread(values: Sequence[float]) -> dict[str, float]:
    finite = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if len(finite) == 0:
        return {"median": float("nan"), "p10": float("nan"), "p90": float("nan")}
    return {"median": float(np.median(finite)), "p10": float(np.percentile(finite, 10)),
            "p90": float(np.percentile(finite, 90))}


def summarise(per_split: Sequence[dict[str, float]]) -> dict[str, float]:
    """{figure}_median, _p10, _p90 for every figure the splits report."""
    names = sorted({k for figures in per_split for k in figures})
    out: dict[str, float] = {}
    for name in names:
        for stat, value in spread([f.get(name, float("nan")) for f in per_split]).items():
            out[f"{name}_{stat}"] = round(value, 4)
    return out


def build_corpus(rows: Sequence[ReplayRow], vectors: np.ndarray | None = None) -> Corpus:
    """The rows as a corpus (their features computed once), with their embeddings if given."""
    return Corpus(
        examples=[row_example(r) for r in rows],
        weak=np.array([r.weak for r in rows]),
        strong=np.array([r.strong for r in rows]),
        dataset=np.array([r.dataset or "replay" for r in rows]),
        vectors=vectors,
    )


# -- the cascade's use of the check -----------------------------------------------------------

# Which kinds of finding on a weak maths answer escalate it (2) or move it up the queue (1),
# as `routing.protocol.choose_levels` picks them; a model trained on replay rows carries its own
# (metadata "cascade_levels"), these are for a model without.
DEFAULT_CASCADE_LEVELS: dict[str, int] = {
    "wrong_claim": 2, "cut_off": 2, "not_whole": 2, "contradicts_working": 2, "inexact": 2,
    "few_steps": 1, "unused_number": 1, "wrong_unit": 1,
}


# The kinds of finding a maths check has on (answer, question, whole-number answer expected):
# the validator's arithmetic checks (`validation.math_exact.finding_kinds`), passed in by the
# caller so that routing does not depend on the validator.
AnswerCheck = Callable[[str, str, bool], frozenset[str]]


def answer_kinds(row: ReplayRow, check: AnswerCheck) -> frozenset[str] | None:
    """The kinds of finding `check` has on the row's weak answer (None without one); GSM8K
    answers are whole numbers."""
    if row.weak_response is None:
        return None
    return check(row.weak_response, row.prompt, row.dataset == "gsm8k")



def choose_levels(kinds: Sequence[frozenset[str]], weak: np.ndarray) -> dict[str, int]:
    """Per kind of finding, 2 (escalate), 1 (move up the queue) or 0 (ignore), from how often
    the answers it fired on were wrong in these rows."""
    wrong_overall = float(np.mean(weak < 0.5)) if len(weak) else 0.0
    levels: dict[str, int] = {}
    for kind in sorted({k for ks in kinds for k in ks}):
        fired = np.array([kind in ks for ks in kinds])
        precision = float(np.mean(weak[fired] < 0.5))
        levels[kind] = 2 if precision >= STRICT_PRECISION else int(precision > wrong_overall)
    return levels


def flag_levels(kinds: Sequence[frozenset[str]], levels: dict[str, int]) -> np.ndarray:
    return np.array([max((levels.get(k, 0) for k in ks), default=0) for ks in kinds])


def check_figures(flagged: np.ndarray, weak: np.ndarray) -> dict[str, float]:
    """The escalating findings as a test for a wrong answer: precision, recall, and the share
    of right answers they flag (each right answer flagged is a strong call paid for nothing)."""
    wrong, right = weak < 0.5, weak >= 0.5
    return {
        "check_precision": float(wrong[flagged].mean()) if flagged.any() else float("nan"),
        "check_recall": float(flagged[wrong].mean()) if wrong.any() else float("nan"),
        "check_false_flags": float(flagged[right].mean()) if right.any() else float("nan"),
    }


# -- one split --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SplitResult:
    figures: dict[str, float]
    chosen: str
    levels: dict[str, int]


def _figures(prefix: str, scores: np.ndarray, weak: np.ndarray,
             strong: np.ndarray) -> dict[str, float]:
    result = evaluate(scores, weak, strong).as_dict()
    return {f"{prefix}_{k}": float(result[k]) for k in FIGURES}


# The views every family is judged on: MMLU from the text only, and GSM8K (name, dataset,
# text only).
CANDIDATE_VIEWS = (("mmlu_text_only", "mmlu", True), ("gsm8k", "gsm8k", False))


def held_figures(corpus: Corpus, held: np.ndarray, scorer: Scorer,
                 views: Sequence[tuple[str, str, bool]], prefix: str = "") -> dict[str, float]:
    """The figures of `scorer` on the `held` rows of each view's dataset, named
    `<prefix><view>_<figure>` (a view with no held row gives none)."""
    figures: dict[str, float] = {}
    for name, dataset, text_only in views:
        index = held[corpus.dataset[held] == dataset]
        if len(index):
            figures.update(_figures(f"{prefix}{name}", scorer(index, text_only),
                                    corpus.weak[index], corpus.strong[index]))
    return figures


def run_split(
    corpus: Corpus, split: Split, candidates: Sequence[Candidate],
    kinds: Sequence[frozenset[str] | None], seed: int = 0, inner_folds: int = 3,
) -> SplitResult:
    """The chosen router's and the cascade's figures on the held-out half of `split`.
    `kinds[i]`: the kinds of finding the arithmetic check has on row i's weak answer (None for
    a row without a recorded answer)."""
    chosen, _ = choose(candidates, corpus, split.fit, folds=inner_folds, seed=seed)
    scorer = chosen.fit(corpus, split.fit)
    figures = held_figures(corpus, split.held, scorer,
                           (("mmlu", "mmlu", False), *CANDIDATE_VIEWS))
    levels: dict[str, int] = {}
    answered = np.array([k is not None for k in kinds])
    fit_math = split.fit[answered[split.fit]]
    held_math = split.held[answered[split.held]]
    if len(fit_math) and len(held_math):
        levels = choose_levels([kinds[i] or frozenset() for i in fit_math],
                               corpus.weak[fit_math])
        flagged = flag_levels([kinds[i] or frozenset() for i in held_math], levels)
        weak, strong = corpus.weak[held_math], corpus.strong[held_math]
        cascade = evaluate_cascade(flagged, scorer(held_math, False), weak, strong).as_dict()
        figures.update({k if k.startswith("cascade") else f"cascade_{k}": float(v)
                        for k, v in cascade.items() if k != "n"})
        figures.update(check_figures(flagged >= 2, weak))
    return SplitResult(figures, chosen.name, levels)


def run_candidates(
    corpus: Corpus, split: Split, families: dict[str, Sequence[Candidate]], seed: int = 0,
    inner_folds: int = 3,
) -> dict[str, float]:
    """Each family with its own setting chosen inside the fitting half, scored on the held-out
    half: MMLU from the text only, and GSM8K."""
    out: dict[str, float] = {}
    for family, settings in families.items():
        chosen, _ = choose(settings, corpus, split.fit, folds=inner_folds, seed=seed)
        out.update(held_figures(corpus, split.held, chosen.fit(corpus, split.fit),
                                CANDIDATE_VIEWS, prefix=f"{family}_"))
    return out


# Shares of the fitting half the learning curve fits on; 1.0 is the whole half, as in the figures
# above.
CURVE_FRACTIONS = (0.25, 0.5, 1.0)


def share_of(rows: np.ndarray, groups: np.ndarray, fraction: float,
             rng: np.random.Generator) -> np.ndarray:
    """A random `fraction` of `rows`, each group (dataset) cut on its own."""
    kept = []
    for group in np.unique(groups[rows]):
        members = rng.permutation(rows[groups[rows] == group])
        kept.append(members[: max(1, round(len(members) * fraction))])
    return np.sort(np.concatenate(kept))


def learning_curve(
    corpus: Corpus, candidates: Sequence[Candidate], splits: int = 20, seed: int = 0,
    fractions: Sequence[float] = CURVE_FRACTIONS, inner_folds: int = 3,
) -> dict[str, Any]:
    """How the held-out figures grow with the labelled rows fitted on: on the same random halves
    as `run_protocol`, the setting is chosen and fitted inside a random share of the fitting
    half only, and scored on the whole held-out half. Per split, each figure's straight line
    in log2(share) gives its gain per doubling and its value at twice the half (the whole
    file, which is what a shipped model is fitted on) if the trend holds; reported with the
    same medians and spreads. Figures are named `<figure>_at_<share>`."""
    per_split: list[dict[str, float]] = []
    x = np.log2(np.asarray(fractions, dtype=float))
    for number, split in enumerate(random_halves(corpus.dataset, splits, seed)):
        rng = np.random.default_rng(seed + 1000 + number)
        figures: dict[str, float] = {}
        by_view: dict[str, list[float]] = {}
        for fraction in fractions:
            rows = share_of(split.fit, corpus.dataset, fraction, rng)
            chosen, _ = choose(candidates, corpus, rows, folds=inner_folds, seed=seed + number)
            held = held_figures(corpus, split.held, chosen.fit(corpus, rows), CANDIDATE_VIEWS)
            for name, _, _ in CANDIDATE_VIEWS:
                view = f"{name}_apgr"
                if view in held:
                    figures[f"{view}_at_{fraction:g}"] = held[view]
                    by_view.setdefault(view, []).append(held[view])
        for view, values in by_view.items():
            if len(values) == len(fractions) and len(fractions) > 1:
                slope, intercept = np.polyfit(x, values, 1)
                figures[f"{view}_per_doubling"] = float(slope)
                figures[f"{view}_at_2"] = float(intercept + slope)
        per_split.append(figures)
    return {"splits": splits, "fractions": list(fractions), **summarise(per_split)}


def run_protocol(
    corpus: Corpus, candidates: Sequence[Candidate], kinds: Sequence[frozenset[str] | None],
    splits: int = 20, seed: int = 0, inner_folds: int = 3,
    families: dict[str, Sequence[Candidate]] | None = None, shipped_family: str = "hashed",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Every split's figures, their medians and spreads, and how often each setting was
    chosen. With `families`, each other family of candidates is measured on the same splits
    (its setting chosen inside each fitting half too), its figures prefixed with its name."""
    per_split: list[dict[str, float]] = []
    chosen: dict[str, int] = {}
    for number, split in enumerate(random_halves(corpus.dataset, splits, seed)):
        result = run_split(corpus, split, candidates, kinds, seed + number, inner_folds)
        figures = dict(result.figures)
        if families:
            # The shipped family's figures are the router's own; the others are fitted here.
            figures.update({f"{shipped_family}_{k}": v for k, v in result.figures.items()
                            if k.startswith(("mmlu_text_only_", "gsm8k_"))})
            others = {f: c for f, c in families.items() if f != shipped_family}
            figures.update(run_candidates(corpus, split, others, seed + number, inner_folds))
        per_split.append(figures)
        chosen[result.chosen] = chosen.get(result.chosen, 0) + 1
        if progress:
            progress(number)
    return {"splits": splits, **summarise(per_split), "chosen": chosen,
            "per_split": per_split}
