"""Learning from the ledger, shown: route, retrain on what validation found, route better.

    python bench/ledger_learning.py [--n 240] [--explore 0.2] [--time-scale 0.02]
                                    [--policy FILE] [--train-seed 21] [--test-seed 22] [--json]

1. Workload A (`n` sample jobs, `--train-seed`, 21) runs through the whole fleet in this process (the
   embedded broker, a SQLite ledger, the built-in simulator of the LLM APIs) with the shipped
   router, which was trained on MMLU and GSM8K only and falls back on the policy's task priors
   for every other kind of job, and a policy that explores: `--explore` of the jobs it routes
   above tier 1 try tier 1 first (without that, the ledger never says whether a job sent up
   needed to be).
2. The router is retrained by `tierline router train data/replay/*.jsonl --from-db` on
   workload A's ledger: the replay rows plus the ledger's exact labels (per job, the lowest tier
   whose output passed validation, when the tier below it was tried too).
3. A fresh workload B (`n` jobs, `--test-seed`, 22: other documents) runs twice, in two fresh ledgers:
   once with the shipped router, once with the retrained one. For each: the share of jobs that
   called the strong tier (3), the share finished there, the validated share, the share right by
   the workload's answer key, and the cost.

Every run uses the shipped routing policy, or `--policy FILE` (e.g. one without `[cost_aware]`,
to compare with routing every job by its quality bar).

Bounded: three runs of `n` jobs. Prints figures, writes bench/out/ledger_learning.json, and
with --json prints one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from sqlalchemy import distinct, func, select  # noqa: E402

from bench.figures import publish  # noqa: E402
from tierline.cli.context import open_context  # noqa: E402
from tierline.cli.fleet import wait_for_batch  # noqa: E402
from tierline.config.settings import Settings  # noqa: E402
from tierline.jobs.intake import parse_records  # noqa: E402
from tierline.persistence.ledger import training_outcomes  # noqa: E402
from tierline.persistence.tables import Attempt, Job  # noqa: E402
from tierline.reports.batch import result_rows  # noqa: E402
from tierline.routing.classifier import RouterModel  # noqa: E402
from tierline.routing.policy import DEFAULT_POLICY_FILE  # noqa: E402
from tierline.routing.router import model_path  # noqa: E402
from tierline.simulator.answer_key import AnswerKey  # noqa: E402
from tierline.simulator.sample import JobDict, matches_reference, with_answers  # noqa: E402
from tierline.simulator.threaded import start_for_runtime  # noqa: E402
from tierline.tasks import runtime  # noqa: E402
from tierline.tasks.submit import submit_jobs  # noqa: E402
from tierline.workers.embedded import embedded_worker  # noqa: E402

REPLAY = ROOT / "data" / "replay"
TRAIN_SEED, TEST_SEED = 21, 22


class Workload(NamedTuple):
    jobs: list[JobDict]
    answers: AnswerKey


def workload(n: int, seed: int) -> Workload:
    jobs, sample_answers = with_answers(n, seed)
    answers: AnswerKey = {}
    for i, job in enumerate(jobs):
        key = f"ledger-bench-{seed}-{i}"
        answers[key] = sample_answers[job["key"]]
        job["key"] = key
    return Workload(jobs, answers)


def exploring_policy(folder: Path, fraction: float, base: Path = DEFAULT_POLICY_FILE) -> Path:
    """The policy `base` with `explore_fraction` set."""
    text = base.read_text(encoding="utf-8")
    setting = f"explore_fraction = {fraction}"
    text, found = re.subn(r"(?m)^explore_fraction\s*=.*$", setting, text)
    target = folder / "policy-exploring.toml"
    target.write_text(text if found else f"{setting}\n{text}", encoding="utf-8")
    return target


def run(work: Workload, router_model: Path, home: Path, time_scale: float,
        learn: bool = False, policy: Path | None = None) -> dict[str, Any]:
    """Run the workload's jobs through the embedded fleet with `router_model` (and `policy`, else the
    shipped one); their figures, and with `learn` how many jobs the ledger labels."""
    settings = Settings(broker_url=None, database_url=None, home=home, simulator=True,
                        simulator_url=None, simulator_time_scale=time_scale,
                        router="classifier", router_model=router_model,
                        routing_policy_file=policy or DEFAULT_POLICY_FILE)
    ctx = open_context(settings)
    runtime.install_simulator(start_for_runtime)
    jobs = work.jobs
    specs = parse_records((f"job {i}", job) for i, job in enumerate(jobs))
    started = time.perf_counter()
    try:
        with embedded_worker(ctx.app):
            receipt = submit_jobs(ctx.db, specs)
            wait_for_batch(ctx, receipt.batch_id, len(receipt.job_ids), timeout_s=900)
            seconds = time.perf_counter() - started
        with ctx.db.session() as session:
            figures = _figures(session, receipt.batch_id, {j["key"]: j for j in jobs},
                               work.answers)
            labels = sum(1 for _ in training_outcomes(session)) if learn else 0
    finally:
        runtime.install_simulator(None)
        ctx.db.dispose()
    figures["seconds"] = round(seconds, 1)
    if learn:
        figures["ledger_labels"] = labels
    return figures


def _text(output: Any) -> str:
    """A stored output as the model wrote it: text as is, an extraction's object as JSON (its
    Python repr would never match the answer key)."""
    return output if isinstance(output, str) else json.dumps(output)


def _figures(session: Any, batch_id: str, by_key: dict[str, JobDict],
             answers: AnswerKey) -> dict[str, Any]:
    rows = list(result_rows(session, batch_id))
    n = len(rows)
    strong = session.scalar(
        select(func.count(distinct(Attempt.job_id))).join(Job, Job.id == Attempt.job_id)
        .where(Job.batch_id == batch_id, Attempt.tier == 3))
    calls = dict(session.execute(
        select(Attempt.tier, func.count()).join(Job, Job.id == Attempt.job_id)
        .where(Job.batch_id == batch_id).group_by(Attempt.tier)).all())
    right = sum(1 for r in rows if r["output"] is not None
                and matches_reference(by_key[r["key"]], answers[r["key"]], _text(r["output"])))
    return {
        "jobs": n,
        "strong_share": round(strong / n, 4),
        "finished_at_tier3_share": round(sum(r["tier"] == 3 for r in rows) / n, 4),
        "validated_share": round(sum(bool(r["validated"]) for r in rows) / n, 4),
        "right_share": round(right / n, 4),
        "calls_per_tier": {str(t): c for t, c in sorted(calls.items())},
        "cost_usd": round(sum(r["total_cost_usd"] or 0.0 for r in rows), 6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=240, help="jobs per workload")
    parser.add_argument("--time-scale", type=float, default=0.02,
                        help="simulated model latency multiplier")
    parser.add_argument("--explore", type=float, default=0.2,
                        help="explore_fraction of the policy during workload A")
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY_FILE,
                        help="routing policy file for every run (default: the shipped one)")
    parser.add_argument("--train-seed", type=int, default=TRAIN_SEED,
                        help="sample seed of workload A (the ledger learned from)")
    parser.add_argument("--test-seed", type=int, default=TEST_SEED,
                        help="sample seed of the fresh workload B")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tierline-ledger-bench-"))
    shipped = model_path()
    print(f"workload A: {args.n} jobs with the shipped router, exploring "
          f"{args.explore:.0%}", flush=True)
    first = run(workload(args.n, args.train_seed), shipped, folder / "a", args.time_scale,
                learn=True, policy=exploring_policy(folder, args.explore, args.policy))
    retrained = folder / "router-ledger.json"
    # The command itself, on workload A's ledger.
    command = [sys.executable, "-m", "tierline.cli", "router", "train", str(REPLAY / "mmlu.jsonl"),
               str(REPLAY / "gsm8k.jsonl"), "--from-db", "--version", "router-ledger",
               "--out", str(retrained)]
    env = {**os.environ, "TIERLINE_DATABASE_URL": f"sqlite:///{folder / 'a' / 'tierline.db'}"}
    trained = subprocess.run(command, env=env, capture_output=True, text=True, check=True,
                             cwd=ROOT, timeout=600)
    print(f"$ tierline {' '.join(command[3:])}\n{trained.stderr.strip()}\n"
          f"{trained.stdout.strip()}", flush=True)
    model = RouterModel.load(retrained)
    fresh = workload(args.n, args.test_seed)
    print(f"workload B: {args.n} fresh jobs with the shipped router", flush=True)
    before = run(fresh, shipped, folder / "b-before", args.time_scale, policy=args.policy)
    print(f"workload B: the same {args.n} jobs with the retrained router", flush=True)
    after = run(fresh, retrained, folder / "b-after", args.time_scale, policy=args.policy)
    out = {"n": args.n, "explore_fraction": args.explore, "policy": args.policy.name,
           "train_seed": args.train_seed, "test_seed": args.test_seed,
           "workload_a": first,
           "before": before, "after": after,
           "retrained_setting": model.metadata.get("setting")}
    for name in ("before", "after"):
        f = out[name]
        print(f"{name:>7}: strong tier called for {f['strong_share']:.1%} of jobs "
              f"(finished there {f['finished_at_tier3_share']:.1%}), validated "
              f"{f['validated_share']:.1%}, right by the answer key {f['right_share']:.1%}, "
              f"cost ${f['cost_usd']:.4f}, calls per tier {f['calls_per_tier']}")
    publish("ledger_learning", out, args.json)


if __name__ == "__main__":
    main()
