"""How well the validate step catches wrong tier-1 answers, and what it costs.

    python bench/validation.py [--n 1000] [--seed 0] [--repeat 3] [--json]
    python bench/validation.py --cases FILE [--json]   (see bench/cases/run.py)

1. A sample workload (`simulator.sample`) with known answers is put to the simulated tier-1 model
   (`simulator`, the same pure function the simulator server uses). Each answer is
   judged right or wrong against its answer in the workload's answer key (`simulator.truth`,
   which shares no code with the validator), then validated twice:
   - "checks only": `validate(job, text, finish)`, what the fleet runs by default
     (`tasks/pipeline.py` passes no judge);
   - "checks + judge": the same with the optional judge on every tier-1 output
     (`judge_fraction=1.0`), the judge being the simulated tier-1 model `JUDGE_MODEL` reached
     through the pure `simulate_completion` (it sees the prompt only, never the answer key).
   catch_rate = wrong answers rejected / wrong answers; false_escalation_rate = right answers
   rejected / right answers; a confusion matrix per check (a check "flags" when it fails
   strictly), the judge included. The judge is also run alone on every output, for its own
   accuracy, and its tokens are priced at tier 1's price (`config/tiers.default.toml`).
2. Latency of `validate` (no judge) per job, with the per-document (and per-output) caches
   cleared before every call so each job pays for reading its document, as a worker does;
   schema validators stay cached, as they do in a worker.
3. Real GSM8K answers of Mixtral (data/replay): how many wrong ones the arithmetic
   check catches and how many right ones it flags.

Prints figures, writes bench/out/validation.json, and with --json prints one JSON object as the
last line.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder would come first on sys.path and its name would shadow
# the `validation` package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.figures import publish  # noqa: E402
from tierline.config.tiers import load_tiers  # noqa: E402
from tierline.jobs.models import JobSpec, TaskType  # noqa: E402
from tierline.prompts.messages import build_prompt  # noqa: E402
from tierline.simulator.sample import generate_with_answers  # noqa: E402
from tierline.simulator.truth import is_correct  # noqa: E402
from tierline.validation import (  # noqa: E402
    arithmetic,
    dates,
    durations,
    mail_dates,
    name_spans,
    names,
    normalize,
    provenance,
    refusal,
    roles,
    summary,
)
from tierline.validation.judge import JUDGE, judge_check  # noqa: E402
from tierline.validation.runner import check_math, validate  # noqa: E402

TIER1_MODEL = "llama-3.1-8b-instant"
JUDGE_MODEL = "llama-3.1-8b-instant"
JUDGE_MAX_TOKENS = 64
DEFAULT_CONFIG = "checks only (tasks/pipeline.py calls validate without a judge)"
GSM8K_PATHS = [ROOT / "data/replay/gsm8k.jsonl"]
_CACHED = [normalize.document_numbers, dates.document_dates, normalize.document_text,
           normalize.number_spans, dates.date_spans,
           normalize.document_words, normalize.table_row_counts, provenance.segments,
           normalize.document_lower,
           provenance.document_index, summary.key_facts, names._document_names,
           durations.document_durations, roles.assignments, normalize.document_squashed,
           normalize.document_tokens, refusal._document_profile, name_spans._lowered,
           mail_dates._header_spans,
           # read once per output, not per document: a repeat must not find them either
           arithmetic._claims_of, dates._date_readings, normalize._string_readings]


def _clear_document_caches() -> None:
    for cached in _CACHED:
        cached.cache_clear()


def _simulate(job: JobSpec) -> tuple[str, str, str | None]:
    from tierline.simulator.capability import simulate_completion

    system, messages = build_prompt(job)
    out = simulate_completion(TIER1_MODEL, system, [m.model_dump() for m in messages], 1024)
    return out.text, out.finish_reason, out.failure


class Judge:
    """`ask(system, user)` on the simulated judge model, counting the tokens it costs."""

    def __init__(self) -> None:
        self.calls = self.tokens_in = self.tokens_out = 0

    def __call__(self, system: str, user: str) -> str:
        from tierline.simulator.capability import simulate_completion

        out = simulate_completion(JUDGE_MODEL, system, [{"role": "user", "content": user}],
                                  JUDGE_MAX_TOKENS)
        self.calls += 1
        self.tokens_in += out.input_tokens
        self.tokens_out += out.output_tokens
        return out.text


def _tier1_price() -> tuple[float, float]:
    endpoint = load_tiers().get(1).primary
    return endpoint.price_in, endpoint.price_out


def _pct(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(rows: list[dict[str, Any]], config: str) -> dict[str, Any]:
    """Catch and false-escalation rates, per-check and per-task tables, for one configuration."""
    wrong = [r for r in rows if not r["correct"]]
    right = [r for r in rows if r["correct"]]
    caught = sum(not r[config]["passed"] for r in wrong)
    escalated = sum(not r[config]["passed"] for r in right)
    per_check: dict[str, dict[str, int]] = collections.defaultdict(
        lambda: {"tp": 0, "fn": 0, "fp": 0, "tn": 0})
    for r in rows:
        for check in r[config]["checks"]:
            flagged = check in r[config]["flagged"]
            cell = ("tp" if flagged else "fn") if not r["correct"] else ("fp" if flagged else "tn")
            per_check[check][cell] += 1
    per_task: dict[str, dict[str, int]] = {}
    for task in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == task]
        per_task[task] = {
            "jobs": len(mine), "wrong": sum(not r["correct"] for r in mine),
            "caught": sum(not r["correct"] and not r[config]["passed"] for r in mine),
            "false_escalations": sum(r["correct"] and not r[config]["passed"] for r in mine)}
    missed = collections.Counter(f"{r['task']}/{r['failure']}" for r in wrong
                                 if r[config]["passed"])
    return {"caught": caught, "false_escalations": escalated,
            "catch_rate": _pct(caught, len(wrong)),
            "false_escalation_rate": _pct(escalated, len(right)),
            "per_check": dict(sorted(per_check.items())), "per_task": per_task,
            "missed_by_failure_mode": dict(missed.most_common())}


def _outcome(verdict: Any) -> dict[str, Any]:
    return {"passed": verdict.passed, "flagged": sorted({f.check for f in verdict.failures}),
            "checks": sorted({f.check for f in verdict.findings})}


def _time_validate(job: JobSpec, text: str, finish: str, repeat: int,
                   timings: list[float], cpu_timings: list[float]) -> None:
    for _ in range(repeat):
        _clear_document_caches()
        start, cpu = time.perf_counter(), time.thread_time()
        validate(job, text, finish)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.thread_time() - cpu) * 1000)


def run_workload(n: int, seed: int, repeat: int,
                 progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    timings: list[float] = []
    # CPU time of this thread alone: on a shared machine, wall time also counts waiting for a core.
    cpu_timings: list[float] = []
    judge, lone_judge = Judge(), Judge()
    cases = []
    answers: dict[str | None, Any] = {}
    for spec, answer in generate_with_answers(n, seed):
        job = JobSpec.model_validate(spec)
        answers[job.key] = answer
        text, finish, failure = _simulate(job)
        cases.append((job, text, finish, failure))
    # Timed first and apart from the judge calls, so the timings measure the checks alone. The
    # harness's own objects (a thousand simulated jobs) are frozen first, so that a collection
    # triggered inside a timed call scans what validate allocates, as in a worker, and not the
    # benchmark's heap.
    gc.collect()
    gc.freeze()
    for job, text, finish, _ in cases:
        _time_validate(job, text, finish, repeat, timings, cpu_timings)
    gc.unfreeze()
    for job, text, finish, failure in cases:
        correct = is_correct(job, answers[job.key], text)
        plain = validate(job, text, finish)
        judged = validate(job, text, finish, judge=judge, judge_fraction=1.0)
        lone = judge_check(job, plain.output, lone_judge)
        rows.append({"task": job.task.value, "tolerance": job.context.error_tolerance.value,
                     "correct": correct, "failure": failure, "key": job.key,
                     "checks_only": _outcome(plain), "with_judge": _outcome(judged),
                     "judge_alone": {"passed": lone.passed,
                                     "flagged": [] if lone.passed else [JUDGE],
                                     "checks": [JUDGE]}})
    if progress:
        progress(f"{len(rows)} jobs validated")
    price_in, price_out = _tier1_price()

    def per_1k(j: Judge) -> float:
        usd = (j.tokens_in * price_in + j.tokens_out * price_out) / 1e6
        return usd / len(rows) * 1000 if rows else 0.0

    wrong = sum(not r["correct"] for r in rows)
    checks_only, with_judge = _summary(rows, "checks_only"), _summary(rows, "with_judge")
    alone = _summary(rows, "judge_alone")
    return {
        "jobs": len(rows), "wrong": wrong, "right": len(rows) - wrong,
        "default_config": DEFAULT_CONFIG, "judge_model": JUDGE_MODEL,
        # The top-level figures are the default configuration's.
        **checks_only,
        "checks_only_catch_rate": checks_only["catch_rate"],
        "checks_only_false_escalation_rate": checks_only["false_escalation_rate"],
        "judge_catch_rate": with_judge["catch_rate"],
        "judge_false_escalation_rate": with_judge["false_escalation_rate"],
        "with_judge": with_judge,
        "judge_alone_catch_rate": alone["catch_rate"],
        "judge_alone_false_escalation_rate": alone["false_escalation_rate"],
        "judge_alone_per_task": alone["per_task"],
        "judge_calls": judge.calls, "judge_tokens_in": judge.tokens_in,
        "judge_tokens_out": judge.tokens_out,
        # What the fleet pays per 1,000 jobs with the judge on every tier-1 output it consults
        # (only outputs that passed the other checks), and if it judged every output.
        "judge_cost_usd_per_1k_jobs": per_1k(judge),
        "judge_cost_usd_per_1k_jobs_all_judged": per_1k(lone_judge),
        "tier1_price_usd_per_mtok": [price_in, price_out],
        "p50_ms": _quantile(timings, 0.50), "p99_ms": _quantile(timings, 0.99),
        "max_ms": max(timings, default=0.0), "mean_ms": statistics.fmean(timings or [0.0]),
        "cpu_p50_ms": _quantile(cpu_timings, 0.50), "cpu_p99_ms": _quantile(cpu_timings, 0.99),
        # Each job's fastest of its repeats: what the job costs without another process's
        # interference on a shared machine (the figures above count every call).
        "best_of_repeats_p99_ms": _quantile(
            [min(timings[i:i + repeat]) for i in range(0, len(timings), repeat)], 0.99),
        "latency_samples": len(timings),
    }


def run_gsm8k() -> dict[str, Any]:
    path = next((p for p in GSM8K_PATHS if p.exists()), None)
    if path is None:
        return {"gsm8k_source": None}
    wrong_total = wrong_caught = right_total = right_flagged = 0
    full_wrong_caught = full_right_flagged = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        response = row.get("weak_response") or ""
        flagged = not check_math(response).passed
        job = JobSpec(task=TaskType.MATH, document=row["prompt"])
        full = not validate(job, response).passed
        if row["weak_correct"]:
            right_total += 1
            right_flagged += flagged
            full_right_flagged += full
        else:
            wrong_total += 1
            wrong_caught += flagged
            full_wrong_caught += full
    return {"gsm8k_source": str(path), "gsm8k_wrong_caught": wrong_caught,
            "gsm8k_wrong_total": wrong_total, "gsm8k_right_flagged": right_flagged,
            "gsm8k_right_total": right_total,
            "gsm8k_validate_wrong_caught": full_wrong_caught,
            "gsm8k_validate_right_flagged": full_right_flagged}


def _report_config(title: str, c: dict[str, Any], wrong: int, right: int) -> None:
    print(f"\n== {title}")
    print(f"catch rate:            {c['catch_rate']:.1%} ({c['caught']}/{wrong}; target >= 95%)")
    print(f"false escalation rate: {c['false_escalation_rate']:.1%} "
          f"({c['false_escalations']}/{right}; target <= 2%)")
    print("per check (flagged = failed strictly)      wrong&flagged wrong&passed "
          "right&flagged right&passed")
    for check, m in c["per_check"].items():
        print(f"  {check:<40} {m['tp']:>13} {m['fn']:>12} {m['fp']:>13} {m['tn']:>12}")
    print("per task                jobs  wrong  caught  false escalations")
    for task, t in c["per_task"].items():
        print(f"  {task:<20} {t['jobs']:>6} {t['wrong']:>6} {t['caught']:>7} "
              f"{t['false_escalations']:>18}")
    print("wrong answers that passed, by the simulator's failure mode:")
    for mode, count in c["missed_by_failure_mode"].items():
        print(f"  {mode:<30} {count}")


def report(result: dict[str, Any]) -> None:
    wrong, right = result["wrong"], result["right"]
    print(f"workload: {result['jobs']} jobs, tier-1 model {TIER1_MODEL}: "
          f"{wrong} wrong answers, {right} right")
    print(f"default configuration (catch_rate, false_escalation_rate): {result['default_config']}")
    _report_config("checks only (default)", result, wrong, right)
    _report_config(f"checks + judge ({result['judge_model']} on every tier-1 output that "
                   "passed the checks)", result["with_judge"], wrong, right)
    print(f"\njudge alone on every output: catches {result['judge_alone_catch_rate']:.1%} of "
          f"wrong answers, flags {result['judge_alone_false_escalation_rate']:.1%} of right ones")
    print(f"judge cost at tier-1 prices {result['tier1_price_usd_per_mtok']} USD/Mtok: "
          f"{result['judge_calls']} calls, {result['judge_tokens_in']} in + "
          f"{result['judge_tokens_out']} out tokens = "
          f"${result['judge_cost_usd_per_1k_jobs']:.4f} per 1,000 jobs "
          f"(${result['judge_cost_usd_per_1k_jobs_all_judged']:.4f} if every output is judged)")
    print(f"\nvalidate latency (no judge): p50 {result['p50_ms']:.3f} ms, "
          f"p99 {result['p99_ms']:.3f} ms, max {result['max_ms']:.3f} ms over "
          f"{result['latency_samples']} calls (target p99 <= 2)")
    print(f"  CPU time alone:      p50 {result['cpu_p50_ms']:.3f} ms, "
          f"p99 {result['cpu_p99_ms']:.3f} ms")
    print(f"  each job's best of its repeats: p99 {result['best_of_repeats_p99_ms']:.3f} ms")
    if result.get("gsm8k_source"):
        print(f"\nGSM8K replay ({result['gsm8k_source']}), Mixtral's recorded answers:")
        print(f"  arithmetic check catches {result['gsm8k_wrong_caught']} of "
              f"{result['gsm8k_wrong_total']} wrong answers, flags {result['gsm8k_right_flagged']}"
              f" of {result['gsm8k_right_total']} right ones")
        print(f"  whole validate step: catches {result['gsm8k_validate_wrong_caught']}, flags "
              f"{result['gsm8k_validate_right_flagged']}")


def _run_cases(path: Path, splits: int, seed: int, as_json: bool) -> int:
    from bench.cases.run import report as report_cases
    from bench.cases.run import run_cases

    result, rows = run_cases(path, splits, seed)
    report_cases(result, rows)
    print()
    publish(f"validation_cases_{path.stem}", result, as_json)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed validate calls per job")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON last")
    parser.add_argument("--cases", type=Path, default=None,
                        help="a JSONL file of cases (bench/cases): accept and catch rates on it")
    parser.add_argument("--splits", type=int, default=20, help="random halvings, with --cases")
    args = parser.parse_args(argv)
    if args.cases is not None:
        return _run_cases(args.cases, args.splits, args.seed, args.json)
    result = run_workload(args.n, args.seed, max(1, args.repeat)) | run_gsm8k()
    report(result)
    print()
    publish("validation", result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
