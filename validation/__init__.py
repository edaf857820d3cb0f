"""Checks on a model's output: each a small pure function returning findings.

`validate(job, text, finish_reason)` runs the checks a job's task needs and returns a `Verdict`;
the modules hold the checks themselves (schema, grounding, provenance, refusal, classify,
label_evidence, summary key facts, arithmetic and math_exact, consistency, code, judge) and
`truth` the benchmark's answer key.
"""

from validation.base import Finding, Verdict
from validation.judge import judge_check, parse_verdict, should_judge
from validation.runner import Strictness, validate

__all__ = ["Finding", "Strictness", "Verdict", "judge_check", "parse_verdict", "should_judge",
           "validate"]
