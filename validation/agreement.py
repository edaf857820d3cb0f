"""Whether two outputs of one job say the same thing: the candidate of a shadow test against
the live (pinned) model's output.

Only outputs with a canonical form are compared: the parsed JSON of structured tasks, the label
of a classification, the final "#### N" of a maths answer. Free text (summaries, answers, code)
has none: two good summaries rarely match word for word, so agreement there is None (not
comparable) rather than a misleading False. When neither output has the canonical form (both
broken JSON, say) there is nothing to compare either; when only one has it, they disagree.
"""

from __future__ import annotations

from typing import Any

from tierline.jobs.models import JobSpec, TaskType
from tierline.validation.arithmetic import final_answer
from tierline.validation.classify import check_label
from tierline.validation.repair import parse_json

_MISSING = object()


def _canonical(value: Any) -> Any:
    """JSON with whitespace runs in strings collapsed, numbers compared by value (1250 and
    1250.0 agree) and booleans kept apart from the numbers 0 and 1."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return float(value)
    return value


def _json_form(text: str) -> Any:
    parsed = parse_json(text)
    return _canonical(parsed.value) if parsed.ok else _MISSING


def _label_form(text: str, labels: list[str]) -> Any:
    _, label = check_label(text, labels)
    return _MISSING if label is None else label


def _math_form(text: str) -> Any:
    answer = final_answer(text)
    # Rounded to absorb float noise ("1250" against "1250.0000001" from a parse), not slips.
    return _MISSING if answer is None else round(answer, 6)


def outputs_agree(job: JobSpec, live: str, candidate: str) -> bool | None:
    """True when both outputs have the same canonical form, False when they differ, None when
    the job's task has no canonical form or neither output has one."""
    if job.output_schema is not None:
        a, b = _json_form(live), _json_form(candidate)
    elif job.task is TaskType.CLASSIFY:
        a, b = _label_form(live, job.labels), _label_form(candidate, job.labels)
    elif job.task is TaskType.MATH:
        a, b = _math_form(live), _math_form(candidate)
    else:
        return None
    if a is _MISSING and b is _MISSING:
        return None
    return bool(a == b)
