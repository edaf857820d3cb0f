"""How well the validate step catches wrong tier-1 answers, and what it costs.

    python bench/validation.py [--n 1000] [--seed 0] [--repeat 3] [--json]

1. A sample workload (`jobs.sample`) with known answers is put to the simulated tier-1 model
   (`providers.simulator`, the same pure function the simulator server uses). Each answer is
   judged right or wrong against the job's reference (`validation.truth`), then validated.
   catch_rate = wrong answers rejected / wrong answers; false_escalation_rate = right answers
   rejected / right answers; a confusion matrix per check (a check "flags" when it fails strictly).
2. Latency of `validate` (no judge) per job, with the per-document caches cleared before every
   call so each job pays for reading its document, as a worker does; schema validators stay
   cached, as they do in a worker.
3. Real GSM8K answers of Mixtral (../shared/data/replay): how many wrong ones the arithmetic
   check catches and how many right ones it flags.

Prints figures, writes bench/out/validation.json, and with --json prints one JSON object as the
last line.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder would come first on sys.path and its name would shadow
# the `validation` package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from jobs.models import JobSpec, TaskType  # noqa: E402
from jobs.prompts import build_prompt  # noqa: E402
from jobs.sample import generate  # noqa: E402
from validation import dates, normalize, provenance  # noqa: E402
from validation.runner import check_math, validate  # noqa: E402
from validation.truth import is_correct  # noqa: E402

TIER1_MODEL = "llama-3.1-8b-instant"
GSM8K_PATHS = [ROOT.parent / "shared/data/replay/gsm8k.jsonl", ROOT / "data/replay/gsm8k.jsonl"]
_CACHED = [normalize.document_numbers, dates.document_dates, normalize.document_text,
           normalize.number_spans, dates.date_spans,
           normalize.document_words, normalize.table_row_counts, provenance.segments]


def _clear_document_caches() -> None:
    for cached in _CACHED:
        cached.cache_clear()


def _simulate(job: JobSpec) -> tuple[str, str, str | None]:
    from providers.simulator.capability import simulate_completion

    system, messages = build_prompt(job)
    out = simulate_completion(TIER1_MODEL, system, [m.model_dump() for m in messages], 1024)
    return out.text, out.finish_reason, out.failure


def _pct(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_workload(n: int, seed: int, repeat: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    timings: list[float] = []
    # CPU time of this thread alone: on a shared machine, wall time also counts waiting for a core.
    cpu_timings: list[float] = []
    for spec in generate(n, seed):
        job = JobSpec.model_validate(spec)
        text, finish, failure = _simulate(job)
        correct = is_correct(job, text)
        for _ in range(repeat):
            _clear_document_caches()
            start, cpu = time.perf_counter(), time.thread_time()
            verdict = validate(job, text, finish)
            timings.append((time.perf_counter() - start) * 1000)
            cpu_timings.append((time.thread_time() - cpu) * 1000)
        rows.append({"task": job.task.value, "tolerance": job.context.error_tolerance.value,
                     "correct": correct, "passed": verdict.passed, "failure": failure,
                     "flagged": sorted({f.check for f in verdict.failures}),
                     "checks": sorted({f.check for f in verdict.findings}), "key": job.key})
    wrong = [r for r in rows if not r["correct"]]
    right = [r for r in rows if r["correct"]]
    caught = sum(not r["passed"] for r in wrong)
    escalated = sum(not r["passed"] for r in right)
    per_check: dict[str, dict[str, int]] = collections.defaultdict(
        lambda: {"tp": 0, "fn": 0, "fp": 0, "tn": 0})
    for r in rows:
        for check in r["checks"]:
            flagged = check in r["flagged"]
            cell = ("tp" if flagged else "fn") if not r["correct"] else ("fp" if flagged else "tn")
            per_check[check][cell] += 1
    per_task: dict[str, dict[str, int]] = {}
    for task in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == task]
        per_task[task] = {"jobs": len(mine), "wrong": sum(not r["correct"] for r in mine),
                          "caught": sum(not r["correct"] and not r["passed"] for r in mine),
                          "false_escalations": sum(r["correct"] and not r["passed"] for r in mine)}
    missed = collections.Counter(f"{r['task']}/{r['failure']}" for r in wrong if r["passed"])
    return {
        "jobs": len(rows), "wrong": len(wrong), "right": len(right), "caught": caught,
        "false_escalations": escalated, "catch_rate": _pct(caught, len(wrong)),
        "false_escalation_rate": _pct(escalated, len(right)),
        "per_check": dict(sorted(per_check.items())), "per_task": per_task,
        "missed_by_failure_mode": dict(missed.most_common()),
        "p50_ms": _quantile(timings, 0.50), "p99_ms": _quantile(timings, 0.99),
        "max_ms": max(timings, default=0.0), "mean_ms": statistics.fmean(timings or [0.0]),
        "cpu_p50_ms": _quantile(cpu_timings, 0.50), "cpu_p99_ms": _quantile(cpu_timings, 0.99),
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


def report(result: dict[str, Any]) -> None:
    print(f"workload: {result['jobs']} jobs, tier-1 model {TIER1_MODEL}: "
          f"{result['wrong']} wrong answers, {result['right']} right")
    print(f"catch rate:            {result['catch_rate']:.1%} ({result['caught']}/{result['wrong']}"
          "; target >= 95%)")
    print(f"false escalation rate: {result['false_escalation_rate']:.1%} "
          f"({result['false_escalations']}/{result['right']}; target <= 2%)")
    print(f"validate latency:      p50 {result['p50_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms, "
          f"max {result['max_ms']:.3f} ms over {result['latency_samples']} calls (target p99 <= 2)")
    print(f"  CPU time alone:      p50 {result['cpu_p50_ms']:.3f} ms, "
          f"p99 {result['cpu_p99_ms']:.3f} ms")
    print("\nper check (flagged = failed strictly)      wrong&flagged wrong&passed "
          "right&flagged right&passed")
    for check, c in result["per_check"].items():
        print(f"  {check:<40} {c['tp']:>13} {c['fn']:>12} {c['fp']:>13} {c['tn']:>12}")
    print("\nper task                jobs  wrong  caught  false escalations")
    for task, t in result["per_task"].items():
        print(f"  {task:<20} {t['jobs']:>6} {t['wrong']:>6} {t['caught']:>7} "
              f"{t['false_escalations']:>18}")
    print("\nwrong answers that passed, by the simulator's failure mode:")
    for mode, count in result["missed_by_failure_mode"].items():
        print(f"  {mode:<30} {count}")
    if result.get("gsm8k_source"):
        print(f"\nGSM8K replay ({result['gsm8k_source']}), Mixtral's recorded answers:")
        print(f"  arithmetic check catches {result['gsm8k_wrong_caught']} of "
              f"{result['gsm8k_wrong_total']} wrong answers, flags {result['gsm8k_right_flagged']}"
              f" of {result['gsm8k_right_total']} right ones")
        print(f"  whole validate step: catches {result['gsm8k_validate_wrong_caught']}, flags "
              f"{result['gsm8k_validate_right_flagged']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed validate calls per job")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON last")
    args = parser.parse_args(argv)
    result = run_workload(args.n, args.seed, max(1, args.repeat)) | run_gsm8k()
    report(result)
    out = ROOT / "bench/out/validation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
