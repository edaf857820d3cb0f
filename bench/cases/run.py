"""The validate step on a file of cases: how many right answers it accepts, how many wrong ones
it rejects, which checks decide, and how much the figures move between halves of the documents.

    python bench/validation.py --cases FILE [--json] [--splits 20] [--split-seed 0]

accept_rate = right answers accepted / right answers; catch_rate = wrong answers rejected /
wrong answers (`catch_rate_without_omissions` leaves out answers whose only error is a missing
item, which no grounding can see; `accept_rate_without_annotation_only` leaves out right answers
whose value the document does not state in any form the builder found). A check "rejects" when it fails strictly. Splits: the
documents are cut at random into two halves `splits` times; the figures of each half are
reported as median, p10 and p90, so that a choice tuned on one half can be read on the other.
"""

from __future__ import annotations

import collections
import hashlib
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.cases.common import problems, read_cases
from tierline.jobs.models import JobSpec
from tierline.validation.runner import validate

OMISSIONS = ("omitted_",)
# right answers whose value the document does not state in a form the builder found
ANNOTATION_ONLY = ("correct_annotation_only",)
SPREAD_KEYS = ("accept_rate", "accept_rate_without_annotation_only", "catch_rate",
               "catch_rate_without_omissions")


def judge_case(case: dict[str, Any]) -> dict[str, Any]:
    """Run the validate step on one case; what it decided and which checks rejected."""
    job = JobSpec.model_validate({"task": case.get("task", "extract"),
                                  "document": case["document"], "schema": case["schema"]})
    output = case["output"]
    # An answer given as text (broken JSON, prose) is judged as the model's text itself.
    text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    verdict = validate(job, text)
    rejecting = sorted({f.check for f in verdict.findings if f.strict and not f.passed})
    doc = case.get("doc") or hashlib.sha256(case["document"].encode()).hexdigest()[:16]
    return {"id": case["id"], "doc": doc, "why": case["why"],
            "should_pass": bool(case["should_pass"]), "passed": verdict.passed,
            "features": [str(f) for f in case.get("features") or []],
            "rejected_by": rejecting,
            "messages": [f"{f.check}: {f.message}" for f in verdict.findings
                         if f.strict and not f.passed]}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    right = [r for r in rows if r["should_pass"]]
    wrong = [r for r in rows if not r["should_pass"]]
    wrong_kept = [r for r in wrong if not r["why"].startswith(OMISSIONS)]
    stated = [r for r in right if not r["why"].startswith(ANNOTATION_ONLY)]
    return {
        "n": len(rows), "right": len(right), "wrong": len(wrong),
        "accept_rate": _rate(sum(r["passed"] for r in right), len(right)),
        "catch_rate": _rate(sum(not r["passed"] for r in wrong), len(wrong)),
        "catch_rate_without_omissions": _rate(sum(not r["passed"] for r in wrong_kept),
                                              len(wrong_kept)),
        "accept_rate_without_annotation_only": _rate(sum(r["passed"] for r in stated),
                                                     len(stated)),
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
            for key in SPREAD_KEYS:
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
    by_feature: dict[str, dict[str, int]] = {}
    for r in rows:
        for feature in r.get("features", []):
            cell = by_feature.setdefault(feature, {"right": 0, "right_rejected": 0,
                                                   "wrong": 0, "wrong_rejected": 0})
            side = "right" if r["should_pass"] else "wrong"
            cell[side] += 1
            cell[f"{side}_rejected"] += not r["passed"]
    return {**rates(rows), "documents": len({r["doc"] for r in rows}),
            "by_why": dict(sorted(by_why.items())),
            # the cases' own tags (locale, layout, a name in upper case, ...), when they have any
            "by_feature": dict(sorted(by_feature.items())),
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
    print(f"  without annotation-only values:     "
          f"{_pct(result['accept_rate_without_annotation_only'])}")
    print(f"catch rate (wrong answers rejected):  {_pct(result['catch_rate'])}  "
          f"without omissions: {_pct(result['catch_rate_without_omissions'])}")
    print("\nwhy                                   n  rejected")
    for why, cell in result["by_why"].items():
        print(f"  {why:<34} {cell['n']:>4} {cell['rejected']:>9}")
    if result["by_feature"]:
        print("\nfeature                               right  rejected  wrong  rejected")
        for feature, c in result["by_feature"].items():
            print(f"  {feature:<34} {c['right']:>6} {c['right_rejected']:>9} {c['wrong']:>6} "
                  f"{c['wrong_rejected']:>9}")
    print("\nstrict failures on right answers (false rejections), by check:")
    for check, n in result["strict_failures_on_correct"].items():
        print(f"  {check:<34} {n:>4}")
    print("strict failures on wrong answers, by check:")
    for check, n in result["strict_failures_on_wrong"].items():
        print(f"  {check:<34} {n:>4}")
    spread = result["split_spread"]
    print(f"\nover {spread['splits']} random 50/50 splits by document (both halves):")
    for key in SPREAD_KEYS:
        s = spread.get(key) or {}
        print(f"  {key:<36} median {_pct(s.get('median'))}  p10 {_pct(s.get('p10'))}  "
              f"p90 {_pct(s.get('p90'))}")
    wrongly = [r for r in rows if r["should_pass"] and not r["passed"]][:examples]
    missed = [r for r in rows if not r["should_pass"] and r["passed"]][:examples]
    for title, picked in (("right answers rejected", wrongly), ("wrong answers accepted", missed)):
        if picked:
            print(f"\nfirst {title}:")
        for r in picked:
            print(f"  {r['id']}: {'; '.join(r['messages'])[:200] or '(no strict failure)'}")
