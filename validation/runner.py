"""`validate(job, text)`: pick the checks for the job's task, run them, conclude a verdict.

Strictness follows the job. Exact values (ids, amounts, dates, names), schema, labels,
arithmetic, refusals and truncation are always strict: a wrong one is a wrong answer whatever the
tolerance. What is graded by tolerance is the evidence that is only suggestive:

| check                                            | low    | medium  | high    |
| ------------------------------------------------ | ------ | ------- | ------- |
| free-text specifics: names; summary key facts    | strict | strict  | lenient |
| free-text word coverage                          | strict | lenient | lenient |
| language, judge, "not stated" while it is stated | strict | strict  | lenient |
| label evidence (cue words point elsewhere)       | strict | strict  | lenient |

A summary that states nothing of one of the document's (few) key facts, and a catch-all label
("other") for a message that names another label's intent in so many words, are plain errors,
strict at every tolerance (see `validation.summary`, `validation.label_evidence`). Whole-number
arithmetic claims are checked exactly (`validation.math_exact`). Invented numbers and dates in
free text, provenance on decisive evidence (a value only ever given as another field's, or a
"Label: value" line naming the field that holds another value), roles the document gives the
other side (a defined term, a role label, or an e-mail's service desk), a date given that only
dates a message itself (its header or a quoted "On ... wrote:" line) while the body dates
something else, a list of parties that leaves out one of the two an agreement's opening names
("between A ... and B ..."), an amount for a period-named field that only another period
qualifies ("a one-off fee of £1,400" as the monthly fee), and consistency (sums that do not
add up) are strict at every tolerance: they are wrong answers, not hints of one. Weaker
evidence (a sentence that names the field better, list order, a party left out of three or
more) is recorded as a lenient finding that says what it saw, and escalates nothing. The
schema decides the rest: a string field of nine words or more is free text (graded as above),
an enum field is a category and is only checked against the one option the document names, a
date-format field is compared as a date, a number as a number.

A validator must never raise: each check runs guarded, and a check that crashes is recorded as a
lenient failure (it says the validator is broken, not that the output is wrong).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tierline.jobs.models import JobSpec, Level, TaskType
from tierline.validation.answerable import check_not_stated
from tierline.validation.base import Finding, Verdict
from tierline.validation.classify import check_label
from tierline.validation.code import check_code
from tierline.validation.consistency import check_consistency
from tierline.validation.grounding import (
    check_free_text,
    check_grounding,
    extracted_fields,
    quoted_values,
)
from tierline.validation.judge import Ask, judge_check, should_judge
from tierline.validation.label_evidence import check_label_evidence
from tierline.validation.mail_dates import check_mail_dates
from tierline.validation.math_exact import check_math_exact
from tierline.validation.parties import check_parties
from tierline.validation.periods import check_periods
from tierline.validation.provenance import PROVENANCE, check_provenance, check_value
from tierline.validation.refusal import (
    check_empty,
    check_language,
    check_refusal,
    check_truncated,
    says_not_stated,
)
from tierline.validation.roles import check_roles
from tierline.validation.schema import check_schema, parse_output
from tierline.validation.summary import check_key_facts

ARITHMETIC = "arithmetic"


@dataclass(frozen=True)
class Strictness:
    free_text: bool
    coverage: bool
    suggestive: bool  # language, judge, implausible "not stated"

    @classmethod
    def for_tolerance(cls, tolerance: Level) -> Strictness:
        if tolerance is Level.LOW:
            return cls(free_text=True, coverage=True, suggestive=True)
        if tolerance is Level.HIGH:
            return cls(free_text=False, coverage=False, suggestive=False)
        return cls(free_text=True, coverage=False, suggestive=True)


def _guard(name: str, check: Callable[[], list[Finding]]) -> list[Finding]:
    try:
        return check()
    except Exception as exc:  # a broken check must not take the validate step down
        return [Finding(name, False, f"check crashed: {type(exc).__name__}: {exc}"[:200],
                        strict=False)]


def _lenient(finding: Finding, strict: bool) -> Finding:
    if finding.strict == strict:
        return finding
    return Finding(finding.check, finding.passed, finding.message, strict=strict)


def check_math(text: str) -> Finding:
    """The arithmetic check of `validation.arithmetic`, or a format check until it exists."""
    try:
        module = importlib.import_module("tierline.validation.arithmetic")
        check: Callable[[str], Finding] = module.check_math_working
    except (ImportError, AttributeError):
        has_final = any(line.strip().startswith("####") and any(c.isdigit() for c in line)
                        for line in text.splitlines())
        return Finding(ARITHMETIC, has_final, "final '#### N' line present" if has_final
                       else "no final '#### N' line")
    return check(text)


def _fields_once(value: Any, schema: dict[str, Any] | None
                 ) -> Callable[[str], list[tuple[str, Any]]]:
    """`extracted_fields` of one output, computed once per document text: three checks read
    them. A call that raises is not kept, so each check's guard still sees the error."""
    done: dict[str, list[tuple[str, Any]]] = {}

    def fields(document: str) -> list[tuple[str, Any]]:
        found = done.get(document)
        if found is None:
            found = done[document] = extracted_fields(value, schema, document)
        return found

    return fields


def _structured(job: JobSpec, text: str, s: Strictness) -> tuple[list[Finding], Any]:
    parsed, findings = parse_output(text)
    if not parsed.ok:
        refusal = _guard("refusal", lambda: [check_refusal(text, document=job.input_text())])
        return findings + [f for f in refusal if not f.passed], text
    value = parsed.value
    fields = _fields_once(value, job.output_schema)
    findings += _guard("schema", lambda: [check_schema(value, job.output_schema)])
    if job.document.strip() or job.messages:
        findings += _guard("grounding", lambda: check_grounding(
            value, job.input_text(), job.output_schema, strict_free_text=s.free_text,
            strict_coverage=s.coverage))
        findings += _guard("provenance", lambda: check_provenance(
            fields(job.input_text()), job.input_text()))
    if job.document.strip():
        findings += _guard("roles", lambda: [f for f in [check_roles(value, job.document)] if f])
        findings += _guard("parties", lambda: check_parties(value, job.document))
        findings += _guard("periods", lambda: check_periods(
            fields(job.document), job.document))
        findings += _guard("mail_dates", lambda: check_mail_dates(
            fields(job.document), job.document))
    findings += _guard("consistency", lambda: [check_consistency(value)])
    return findings, value


def _classify(job: JobSpec, text: str, s: Strictness) -> tuple[list[Finding], Any]:
    finding, label = check_label(text, job.labels)
    if finding.passed and label is not None:
        evidence = _guard("label_evidence", lambda: [check_label_evidence(
            label, job.labels, job.input_text(), strict=s.suggestive)])
        return [finding, *evidence], label
    if finding.passed:
        return [finding], label
    refusal = check_refusal(text, document=job.input_text())
    return [finding, *([refusal] if not refusal.passed else [])], text


def _prose(job: JobSpec, text: str, s: Strictness) -> list[Finding]:
    answer = job.task is TaskType.ANSWER
    question = job.instructions or next(
        (m.content for m in reversed(job.messages) if m.role == "user"), "")
    findings = [check_refusal(text, allow_not_stated=answer, document=job.input_text()),
                _lenient(check_language(text, job.input_text()), s.suggestive)]
    if answer and says_not_stated(text):
        # "The document does not say" has nothing to ground; it must be plausible instead.
        findings.append(_lenient(check_not_stated(question, job.document), s.suggestive))
        return findings
    findings += check_free_text(text, job.input_text(), strict_names=s.free_text,
                                strict_coverage=s.coverage, min_coverage=0.5)
    if job.task is TaskType.SUMMARIZE and job.document.strip():
        findings += _guard("key_facts", lambda: [check_key_facts(
            text, job.document, strict=s.free_text)])
    if answer:
        # An answer quoting "the previous order" or "the shipping fee" for the question asked.
        problems = [f"{v!r}: {p}" for v in quoted_values(text)
                    if (p := check_value(question, v, job.input_text(), rule2=False))]
        findings.append(Finding(PROVENANCE, not problems, "; ".join(problems[:3])
                                or "quoted values come from unqualified places"))
    return findings


def _by_task(job: JobSpec, text: str, s: Strictness) -> tuple[list[Finding], Any]:
    if job.output_schema is not None:
        return _structured(job, text, s)
    if job.task is TaskType.CLASSIFY:
        return _classify(job, text, s)
    if job.task is TaskType.MATH:
        return [check_refusal(text, document=job.input_text()), check_math(text),
                *_guard("arithmetic_exact", lambda: [check_math_exact(text)])], text
    if job.task is TaskType.CODE:
        return [check_refusal(text, document=job.input_text()), check_code(text)], text
    return _prose(job, text, s), text


def job_key(job: JobSpec) -> str:
    """The key the judge sampler hashes: the idempotency key, or the input itself."""
    if job.key:
        return job.key
    return hashlib.sha256(job.input_text().encode("utf-8", "replace")).hexdigest()


def validate(job: JobSpec, text: str, finish_reason: str = "stop", *,
             judge: Ask | None = None, judge_fraction: float = 0.0) -> Verdict:
    """Run the job's checks on a model's `text`; never raises.

    `judge`, when given, is `ask(system, user) -> reply` on a cheap model; it is consulted for a
    deterministic `judge_fraction` of jobs, and only when every other strict check passed.
    """
    text = text if isinstance(text, str) else ""
    s = Strictness.for_tolerance(job.context.error_tolerance)
    findings: list[Finding] = [check_truncated(finish_reason), check_empty(text)]
    output: Any = text
    if findings[1].passed:
        found: list[Finding] = []
        try:
            found, output = _by_task(job, text, s)
        except Exception as exc:  # last line of defence; each check is guarded too
            found = [Finding("validator", False, f"check crashed: {type(exc).__name__}",
                             strict=False)]
        findings += found
    passed = not any(f.strict and not f.passed for f in findings)
    if passed and judge is not None and should_judge(job_key(job), judge_fraction):
        verdict = judge_check(job, output, judge, strict=s.suggestive)
        findings.append(verdict)
        passed = verdict.passed or not verdict.strict
    return Verdict(passed=passed, findings=tuple(findings), output=output)
