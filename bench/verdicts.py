"""Every verdict of the validate step on a fixed set of inputs, one JSON line each, to diff.

    python bench/verdicts.py --out FILE [--n 1000] [--seeds 0 1 2]

A change meant to make validation cheaper must leave its verdicts as they were: dump them
before and after, and `diff` the two files. The inputs:

- the sample workload (`simulator.sample`) of each seed, answered by the simulated model of each
  tier's first endpoint (`config/tiers.default.toml`): the outputs the fleet validates;
- the real agreements' jobs (`simulator.agreements`), answered by the tier-1 model;
- Mixtral's recorded GSM8K answers (`data/replay/gsm8k.jsonl`);
- the case files `data/cases/*.jsonl`, judged as `bench/cases/run.py` judges them.

Every input is validated twice: once in a pass over all of them in order, the caches kept from
one to the next ("warm", as in a worker), then once with every cache of the validation modules
emptied first ("cold"). A line holds the cold verdict (passed; every finding's check, passed,
strict and message) and the output as stored; the dump checks that the warm verdict agrees.
Some messages list the items of a set, whose order follows the hash seed: the script runs
itself again with PYTHONHASHSEED=0 unless it is set.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") is None:
    os.execve(sys.executable, [sys.executable, *sys.argv],
              {**os.environ, "PYTHONHASHSEED": "0"})

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.cases.common import read_cases  # noqa: E402
from tierline.config.tiers import load_tiers  # noqa: E402
from tierline.jobs.models import JobSpec, TaskType  # noqa: E402
from tierline.prompts.messages import build_prompt  # noqa: E402
from tierline.simulator.agreements import agreement_jobs, read_agreements  # noqa: E402
from tierline.simulator.capability import simulate_completion  # noqa: E402
from tierline.simulator.sample import generate  # noqa: E402
from tierline.validation.base import Verdict  # noqa: E402
from tierline.validation.runner import validate  # noqa: E402

Input = tuple[str, JobSpec, str, str]  # id, job, text, finish reason


def clear_caches() -> None:
    """Empty every cache of the validation modules, whatever they are called."""
    import tierline.validation as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, functools._lru_cache_wrapper):
                value.cache_clear()


def _answered(prefix: str, specs: Iterator[dict[str, Any]], model: str) -> Iterator[Input]:
    for i, spec in enumerate(specs):
        job = JobSpec.model_validate(spec)
        system, messages = build_prompt(job)
        out = simulate_completion(model, system, [m.model_dump() for m in messages], 1024)
        yield f"{prefix}/{i}", job, out.text, out.finish_reason


def _gsm8k() -> Iterator[Input]:
    path = ROOT / "data/replay/gsm8k.jsonl"
    for i, line in enumerate(path.read_text().splitlines()):
        if line.strip():
            row = json.loads(line)
            job = JobSpec(task=TaskType.MATH, document=row["prompt"])
            yield f"gsm8k/{i}", job, row.get("weak_response") or "", "stop"


def _cases(path: Path) -> Iterator[Input]:
    for case in read_cases(path):
        job = JobSpec.model_validate({"task": case.get("task", "extract"),
                                      "document": case["document"], "schema": case["schema"]})
        output = case["output"]
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        yield f"{path.stem}/{case['id']}", job, text, "stop"


def inputs(n: int, seeds: list[int]) -> Iterator[Input]:
    models = [tier.primary.model for tier in load_tiers().tiers]
    for seed in seeds:
        for model in models:
            yield from _answered(f"sample/{seed}/{model}", generate(n, seed), model)
    rows = read_agreements(held_out=False)
    yield from _answered(f"agreements/{models[0]}", agreement_jobs(rows, len(rows)), models[0])
    yield from _gsm8k()
    for path in sorted((ROOT / "data/cases").glob("*.jsonl")):
        yield from _cases(path)


def as_record(verdict: Verdict) -> dict[str, Any]:
    return {"passed": verdict.passed,
            "findings": [[f.check, f.passed, f.strict, f.message] for f in verdict.findings],
            "output": verdict.output}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=1000, help="sample jobs per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    given = list(inputs(args.n, args.seeds))
    clear_caches()
    warm = [as_record(validate(job, text, finish)) for _, job, text, finish in given]
    differ = 0
    with args.out.open("w", encoding="utf-8") as out:
        for (key, job, text, finish), seen in zip(given, warm, strict=True):
            clear_caches()
            cold = as_record(validate(job, text, finish))
            if seen != cold:
                differ += 1
                print(f"{key}: the warm verdict differs from the cold one", file=sys.stderr)
            out.write(json.dumps({"id": key, **cold}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(given)} verdicts written to {args.out}; {differ} differ warm from cold")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
