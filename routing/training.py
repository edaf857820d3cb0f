"""Fitting the classifier from labelled files and ledger outcomes, and k-fold scores.

`tierline router train` and `tierline router eval --cv` are thin wrappers over this module; the
figures worth reporting come from `routing.protocol` (bench/routing.py), whose procedure `train`
repeats on all the rows it is given.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from tierline.jobs.models import JobSpec
from tierline.routing.candidates import (
    RESIDUAL_PENALTIES,
    SHIPPED_ALPHA,
    SHIPPED_TEMPERATURE,
    SUBJECT_PENALTIES,
    Corpus,
    choose,
    shipped_candidates,
)
from tierline.routing.classifier import DEFAULT_DIM, Example, RouterModel, fit
from tierline.routing.protocol import AnswerCheck, answer_kinds, choose_levels
from tierline.routing.replay import ReplayRow, ledger_examples, read_replay, row_example

# Fewer labelled rows than this and the setting is not chosen by cross-validation (three folds
# of a handful of rows say nothing): the first of the shipped settings is used.
MIN_ROWS_TO_CHOOSE = 150


def train(
    replay_files: Sequence[Path | str] = (),
    ledger: Iterable[tuple[JobSpec, int | None]] = (),
    version: str = "router-v1",
    dim: int = DEFAULT_DIM,
    score_threshold: float | None = None,
    choose_setting: bool = True,
    check: AnswerCheck | None = None,
) -> RouterModel:
    """A model from replay files and/or ledger outcomes (job, lowest good tier or None), by the
    procedure `bench/routing.py` measures: the classifier's setting chosen by 3-fold
    cross-validation on these rows, then fitted on all of them; the cascade's use of the
    arithmetic check (`check`, the validator's) chosen from the replay rows that carry weak
    answers; without `check` the model carries no cascade levels."""
    examples: list[Example] = []
    datasets: list[str] = []
    sources: list[str] = []
    replay_rows: list[ReplayRow] = []
    for path in replay_files:
        rows = read_replay(path)
        replay_rows.extend(rows)
        examples.extend(row_example(r, score_threshold) for r in rows)
        datasets.extend(r.dataset or Path(path).stem for r in rows)
        sources.append(f"{Path(path).name}:{len(rows)}:{_digest(path)}")
    before = len(examples)
    examples.extend(ledger_examples(ledger))
    datasets.extend("ledger" for _ in range(len(examples) - before))
    if len(examples) > before:
        sources.append(f"ledger:{len(examples) - before}")
    if not examples:
        raise ValueError("no training examples")
    candidates = shipped_candidates()
    chosen = candidates[0]
    scores: dict[str, float] = {}
    if choose_setting and len(examples) >= MIN_ROWS_TO_CHOOSE:
        chosen, scores = choose(candidates, Corpus.of_examples(examples, datasets),
                                np.arange(len(examples)))
    metadata: dict[str, object] = {
        "trained_on": sources, "setting": chosen.name,
        "setting_scores": {k: round(v, 4) for k, v in scores.items()},
    }
    answered = ([(r, k) for r in replay_rows if (k := answer_kinds(r, check)) is not None]
                if check is not None else [])
    if answered:
        metadata["cascade_levels"] = choose_levels(
            [k for _, k in answered], np.array([r.weak for r, _ in answered]))
    return fit(examples, version=version, dim=dim, metadata=metadata,
               alpha=float(chosen.params.get("alpha") or 0.5),
               residual_l2=chosen.params.get("residual_l2"),
               temperature=float(chosen.params.get("temperature") or 1.0),
               subject_l2=chosen.params.get("subject_l2"))


def _digest(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def fold_of(row_id: str, folds: int, seed: int = 0) -> int:
    """A stable fold per prompt, from its id: the same split on every run and machine."""
    return int(hashlib.sha256(f"{seed}:{row_id}".encode()).hexdigest()[:8], 16) % folds


def cross_validated_scores(
    rows: Sequence[ReplayRow],
    folds: int = 5,
    extra: Sequence[Example] = (),
    dim: int = DEFAULT_DIM,
    score_threshold: float | None = None,
    text_only: bool = False,
    residual_l2: float | None = RESIDUAL_PENALTIES[0],
    subject_l2: float | None = SUBJECT_PENALTIES[0],
) -> np.ndarray:
    """Each row's router score from a model that never saw it (k-fold over the rows; `extra`
    examples, e.g. another dataset, are in every training fold), fitted with the first of the
    shipped settings."""
    examples = [row_example(r, score_threshold) for r in rows]
    assignment = np.array([fold_of(r.id, folds) for r in rows])
    scores = np.zeros(len(rows))
    for k in range(folds):
        held = np.nonzero(assignment == k)[0]
        if len(held) == 0:
            continue
        training = [e for e, a in zip(examples, assignment, strict=True) if a != k]
        model = fit([*training, *extra], version=f"cv-{k}", dim=dim, alpha=SHIPPED_ALPHA,
                    temperature=SHIPPED_TEMPERATURE, residual_l2=residual_l2,
                    subject_l2=subject_l2)
        for i in held:
            features = examples[i].features
            if text_only:
                # Measure the text alone: the model must infer the kind of job from it.
                features = dataclasses.replace(features, query_type=None)
            scores[i] = model.score(features)
    return scores
