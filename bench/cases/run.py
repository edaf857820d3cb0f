"""The validate step on a file of cases: how many right answers it accepts, how many wrong ones
it rejects, which checks decide, and how much the figures move between halves of the documents.

    python bench/validation.py --cases FILE [--json] [--splits 20] [--split-seed 0]

accept_rate = right answers accepted / right answers; catch_rate = wrong answers rejected /
wrong answers (`catch_rate_without_omissions` leaves out answers whose only error is a missing
item, which no grounding can see). A check "rejects" when it fails strictly. Splits: the
documents are cut at random into two halves `splits` times; the figures of each half are
reported as median, p10 and p90, so that a choice tuned on one half can be read on the other.
"""

from __future__ import annotations

import collections
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.cases.common import problems, read_cases
from jobs.models import JobSpec
from validation.runner import validate

OMISSIONS = ("omitted_",)


def judge_case(case: dict[str, Any]) -> dict[str, Any]:
    """Run the validate step on one case; what it decided and which checks rejected."""
    job = JobSpec.model_validate({"task": case.get("task", "extract"),
                                  "document": case["document"], "schema": case["schema"]})
    verdict = validate(job, json.dumps(case["output"], ensure_ascii=False))
    rejecting = sorted({f.check for f in verdict.findings if f.strict and not f.passed})
    return {"id": case["id"], "doc": case.get("doc", case["id"]), "why": case["why"],
            "should_pass": bool(case["should_pass"]), "passed": verdict.passed,
            "rejected_by": rejecting,
            "messages": [f"{f.check}: {f.message}" for f in verdict.findings
                         if f.strict and not f.passed]}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    right = [r for r in rows if r["should_pass"]]
    wrong = [r for r in rows if not r["should_pass"]]
    wrong_kept = [r for r in wrong if not r["why"].startswith(OMISSIONS)]
    return {
        "n": len(rows), "right": len(right), "wrong": len(wrong),
        "accept_rate": _rate(sum(r["passed"] for r in right), len(right)),
        "catch_rate": _rate(sum(not r["passed"] for r in wrong), len(wrong)),
        "catch_rate_without_omissions": _rate(sum(not r["passed"] for r in wrong_kept),
                                              len(wrong_kept)),
    }


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p10": None, "p90": None}
    ordered = sorted(values)

    def q(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {"median": statistics.median(ordered), "p10": q(0.10), "p90": q(0.90)}


def split_spread(rows: list[dict[str, Any]], splits: int, seed: int) -> dict[str, Any]:
    """Accept and catch rates of each half over `splits` random 50/50 cuts by document."""
    docs = sorted({r["doc"] for r in rows})
    rng = random.Random(seed)
    figures: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(splits):
        half = set(rng.sample(docs, len(docs) // 2))
        for side in (True, False):
            part = rates([r for r in rows if (r["doc"] in half) is side])
            for key in ("accept_rate", "catch_rate", "catch_rate_without_omissions"):
                if part[key] is not None:
                    figures[key].append(part[key])
    return {"splits": splits, "seed": seed, "halves": 2 * splits,
            **{key: _spread(values) for key, values in figures.items()}}


def summarise(rows: list[dict[str, Any]], splits: int = 20, seed: int = 0) -> dict[str, Any]:
    by_why: dict[str, dict[str, int]] = {}
    for r in rows:
        cell = by_why.setdefault(r["why"], {"n": 0, "rejected": 0})
        cell["n"] += 1
        cell["rejected"] += not r["passed"]
    wrongly: collections.Counter[str] = collections.Counter()
    rightly: collections.Counter[str] = collections.Counter()
    for r in rows:
        (wrongly if r["should_pass"] else rightly).update(r["rejected_by"])
    return {**rates(rows), "documents": len({r["doc"] for r in rows}),
            "by_why": dict(sorted(by_why.items())),
            # which check rejected right answers (each one is a false escalation), and which
            # rejected wrong ones
            "strict_failures_on_correct": dict(wrongly.most_common()),
            "strict_failures_on_wrong": dict(rightly.most_common()),
            "split_spread": split_spread(rows, splits, seed)}


def run_cases(path: Path, splits: int = 20, seed: int = 0) -> tuple[dict[str, Any],
                                                                    list[dict[str, Any]]]:
    cases = read_cases(path)
    bad = [(c.get("id"), p) for c in cases for p in problems(c)]
    if bad:
        raise ValueError(f"{len(bad)} malformed cases in {path}, first: {bad[0]}")
    start = time.perf_counter()
    rows = [judge_case(c) for c in cases]
    result = summarise(rows, splits, seed)
    result |= {"cases_file": str(path), "seconds": round(time.perf_counter() - start, 2)}
    return result, rows


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def report(result: dict[str, Any], rows: list[dict[str, Any]], examples: int = 3) -> None:
    print(f"cases: {result['cases_file']}: {result['n']} ({result['right']} right, "
          f"{result['wrong']} wrong) from {result['documents']} documents, "
          f"{result['seconds']} s")
    print(f"accept rate (right answers accepted): {_pct(result['accept_rate'])}")
    print(f"catch rate (wrong answers rejected):  {_pct(result['catch_rate'])}  "
          f"without omissions: {_pct(result['catch_rate_without_omissions'])}")
    print("\nwhy                                   n  rejected")
    for why, cell in result["by_why"].items():
        print(f"  {why:<34} {cell['n']:>4} {cell['rejected']:>9}")
    print("\nstrict failures on right answers (false rejections), by check:")
    for check, n in result["strict_failures_on_correct"].items():
        print(f"  {check:<34} {n:>4}")
    print("strict failures on wrong answers, by check:")
    for check, n in result["strict_failures_on_wrong"].items():
        print(f"  {check:<34} {n:>4}")
    spread = result["split_spread"]
    print(f"\nover {spread['splits']} random 50/50 splits by document (both halves):")
    for key in ("accept_rate", "catch_rate", "catch_rate_without_omissions"):
        s = spread.get(key) or {}
        print(f"  {key:<30} median {_pct(s.get('median'))}  p10 {_pct(s.get('p10'))}  "
              f"p90 {_pct(s.get('p90'))}")
    wrongly = [r for r in rows if r["should_pass"] and not r["passed"]][:examples]
    missed = [r for r in rows if not r["should_pass"] and r["passed"]][:examples]
    for title, picked in (("right answers rejected", wrongly), ("wrong answers accepted", missed)):
        if picked:
            print(f"\nfirst {title}:")
        for r in picked:
            print(f"  {r['id']}: {'; '.join(r['messages'])[:200] or '(no strict failure)'}")
