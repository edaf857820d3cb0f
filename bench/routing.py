"""How fast the router decides, and how good it is on real outcomes it was not trained on.

    python bench/routing.py [--n 5000] [--folds 5] [--json]

1. Latency: `ClassifierRouter.decide` (features included) with the shipped model and the default
   policy, over `n` sample jobs (`jobs.sample`) and the replay prompts; p50/p99/max in ms.
2. Quality, RouteLLM's figures, by k-fold cross-validation on data/replay (the held-out fold is
   never seen by its model; the other dataset is in every training fold): MMLU with its subject
   field, MMLU from the text alone, GSM8K routing, and the GSM8K cascade (weak answer checked by
   validation.arithmetic, failures escalated). Also the shipped model's in-sample figures, which
   flatter it and are printed only for comparison.

Prints figures, writes bench/out/routing.json, and with --json prints one JSON object as the
last line.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder would come first on sys.path and shadow packages.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import numpy as np  # noqa: E402

from bench.figures import publish  # noqa: E402
from jobs.models import JobSpec  # noqa: E402
from jobs.sample import generate  # noqa: E402
from jobs.tiers import load_tiers  # noqa: E402
from routing.evaluation import evaluate_rows  # noqa: E402
from routing.metrics import brier, expected_calibration_error  # noqa: E402
from routing.policy import NoEligibleTier, load_policy  # noqa: E402
from routing.replay import read_replay, row_example, row_job  # noqa: E402
from routing.router import ClassifierRouter, load_model  # noqa: E402
from routing.training import cross_validated_probabilities  # noqa: E402

REPLAY = ROOT / "data" / "replay"
KEYS = ("n", "apgr", "cpt50", "cpt80", "strong_share_at_95", "random_strong_share_at_95",
        "cascade_quality", "cascade_strong_share", "cascade_strong_share_at_95",
        "cascade_flag_precision", "usd_per_1k_jobs")


def latency(n: int) -> dict[str, float]:
    router = ClassifierRouter(load_model(), load_policy())
    tiers = load_tiers()
    jobs = [JobSpec.model_validate(j) for j in generate(n)]
    replay = read_replay(REPLAY / "mmlu.jsonl")[: n // 2] + read_replay(REPLAY / "gsm8k.jsonl")
    jobs += [row_job(r) for r in replay]
    for job in jobs[:200]:  # warm up
        _decide(router, job, tiers)
    # The bench holds thousands of jobs no worker would; keep the collector from walking them
    # (and charging that to the decisions) by freezing what exists before the timed loop.
    gc.collect()
    gc.freeze()
    timings, cpu = [], []
    for job in jobs:
        started, started_cpu = time.perf_counter(), time.thread_time()
        _decide(router, job, tiers)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        timings.append((time.perf_counter() - started) * 1000)
    gc.unfreeze()
    timings.sort()
    cpu.sort()
    return {
        "decisions": len(timings),
        "p50_ms": round(statistics.median(timings), 4),
        "p99_ms": round(timings[int(0.99 * (len(timings) - 1))], 4),
        "max_ms": round(timings[-1], 4),
        # CPU time of the deciding thread: the same decisions without time lost to other
        # processes on a busy machine.
        "cpu_p50_ms": round(statistics.median(cpu), 4),
        "cpu_p99_ms": round(cpu[int(0.99 * (len(cpu) - 1))], 4),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _decide(router: ClassifierRouter, job: JobSpec, tiers: Any) -> None:
    # Sensitive sample jobs of tenants the default policy does not list are refused: still timed.
    with contextlib.suppress(NoEligibleTier):
        router.decide(job, tiers)


def quality(folds: int) -> dict[str, dict[str, Any]]:
    mmlu, gsm8k = read_replay(REPLAY / "mmlu.jsonl"), read_replay(REPLAY / "gsm8k.jsonl")
    mmlu_examples = [row_example(r) for r in mmlu]
    gsm8k_examples = [row_example(r) for r in gsm8k]
    model = load_model()
    runs = {
        f"mmlu_cv{folds}": evaluate_rows(mmlu, cv_folds=folds, extra=gsm8k_examples),
        f"mmlu_text_only_cv{folds}": evaluate_rows(mmlu, cv_folds=folds, extra=gsm8k_examples,
                                                   text_only=True),
        f"gsm8k_cv{folds}": evaluate_rows(gsm8k, cv_folds=folds, extra=mmlu_examples),
        "mmlu_in_sample": evaluate_rows(mmlu, model=model),
        "gsm8k_in_sample": evaluate_rows(gsm8k, model=model),
    }
    return {name: {k: run.figures[k] for k in KEYS if k in run.figures}
            for name, run in runs.items()}


def calibration(folds: int) -> dict[str, dict[str, float]]:
    """Are the per-tier probabilities calibrated? Cross-validated Brier score and expected
    calibration error (10 bins) of P(tier good), beside a constant base-rate predictor's Brier."""
    mmlu, gsm8k = read_replay(REPLAY / "mmlu.jsonl"), read_replay(REPLAY / "gsm8k.jsonl")
    figures: dict[str, dict[str, float]] = {}
    for name, rows, other in (("mmlu", mmlu, gsm8k), ("gsm8k", gsm8k, mmlu)):
        weak_p, strong_p = cross_validated_probabilities(
            rows, folds, extra=[row_example(r) for r in other])
        for tier, p, y in (("tier1", weak_p, np.array([r.weak for r in rows])),
                           ("tier3", strong_p, np.array([r.strong for r in rows]))):
            figures[f"{name}_{tier}"] = {
                "brier": round(brier(p, y), 4),
                "brier_base_rate": round(brier(np.full(len(y), y.mean()), y), 4),
                "ece": round(expected_calibration_error(p, y), 4),
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="sample jobs for the latency run")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    out: dict[str, Any] = {"latency": latency(args.n), "quality": quality(args.folds),
                           "calibration": calibration(args.folds)}
    print(f"decision latency over {out['latency']['decisions']} decisions: "
          f"p50 {out['latency']['p50_ms']} ms, p99 {out['latency']['p99_ms']} ms, "
          f"max {out['latency']['max_ms']} ms; CPU p50 {out['latency']['cpu_p50_ms']} ms, "
          f"p99 {out['latency']['cpu_p99_ms']} ms (load average {out['latency']['load_average_1m']})")
    for name, figures in out["quality"].items():
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()
                 if k != "usd_per_1k_jobs"}
        print(f"{name:>24}: {shown}")
        print(f"{'':>24}  USD per 1k jobs: {figures['usd_per_1k_jobs']}")
    for name, figures in out["calibration"].items():
        print(f"{'calibration ' + name:>24}: {figures}")
    publish("routing", out, args.json)


if __name__ == "__main__":
    main()
