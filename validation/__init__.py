"""Checks on a model's output: each a small pure function returning findings.

`validate(job, text, finish_reason)` runs the checks a job's task needs and returns a `Verdict`;
the modules hold the checks themselves (schema, grounding with names and durations, provenance,
roles, refusal, classify, label_evidence, summary key facts, arithmetic and math_exact,
consistency, code, judge) and `disagreement`, the rule for tiers that agree against a check. The
benchmarks' answer key is `simulator.truth`, which shares no code with this package.
"""

from tierline.validation.base import Finding, Verdict
from tierline.validation.judge import judge_check, parse_verdict, should_judge
from tierline.validation.runner import Strictness, validate

__all__ = ["Finding", "Strictness", "Verdict", "judge_check", "parse_verdict", "should_judge",
           "validate"]
