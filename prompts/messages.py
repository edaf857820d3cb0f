"""How a job becomes the messages a model reads.

One function, used by every tier, so that a job escalated with findings reads the same as the
first attempt plus a note of what went wrong.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from tierline.jobs.models import JobSpec, Message, TaskType

SYSTEM_HEADER = "You are a careful document-processing assistant."

_TASK_INSTRUCTIONS: dict[TaskType, str] = {
    TaskType.EXTRACT: (
        "Task: extract.\nReturn only a JSON object that matches this JSON Schema, with no prose "
        "around it. Use only values that appear in the document; use null where a value is absent."
    ),
    TaskType.CLASSIFY: (
        "Task: classify.\nAnswer with exactly one of the allowed labels and nothing else."
    ),
    TaskType.SUMMARIZE: (
        "Task: summarize.\nSummarize the document in at most three sentences, using only "
        "facts it states."
    ),
    TaskType.ANSWER: (
        "Task: answer.\nAnswer using only the document. If the document does not say, say so."
    ),
    TaskType.MATH: (
        "Task: math.\nSolve the problem step by step, then give the final answer on its own last "
        "line as '#### <number>'."
    ),
    TaskType.CODE: "Task: code.\nWrite the code asked for, in one fenced code block.",
}


def system_prompt(job: JobSpec, findings: Sequence[str] = ()) -> str:
    lines = [SYSTEM_HEADER, _TASK_INSTRUCTIONS[job.task]]
    if job.output_schema is not None:
        lines.append("Schema:\n" + json.dumps(job.output_schema, sort_keys=True))
    if job.labels:
        lines.append("Allowed labels: " + ", ".join(job.labels))
    if findings:
        # The next tier sees why the previous answer was rejected, so it does not repeat it.
        # Only strict evidence travels (`store.rejection_reasons`), and it is framed as what the
        # checks saw, not as the right value: a check can be wrong, and a model talked out of a
        # correct value costs a tier and a wrong result.
        lines.append(
            "A previous answer to this job was rejected for these reasons:\n"
            + "\n".join(f"- {f}" for f in findings)
            + "\nThese are automatic checks' observations, not corrections: read the document "
            "again, and keep any value it clearly supports."
        )
    return "\n\n".join(lines)


def user_messages(job: JobSpec) -> list[Message]:
    messages: list[Message] = []
    if job.document:
        body = f"Document:\n<<<\n{job.document}\n>>>"
        if job.instructions:
            body += f"\n\n{job.instructions}"
        messages.append(Message(role="user", content=body))
    elif job.instructions:
        messages.append(Message(role="user", content=job.instructions))
    conversation = [m for m in job.messages if m.role != "system"]
    if messages and conversation and conversation[0].role == "user":
        # Keep roles alternating (Anthropic requires it): fold the first turn into the document.
        first = messages[0]
        messages[0] = Message(role="user", content=f"{first.content}\n\n{conversation[0].content}")
        conversation = conversation[1:]
    messages.extend(conversation)
    return messages


def build_prompt(job: JobSpec, findings: Sequence[str] = ()) -> tuple[str, list[Message]]:
    """The system prompt and the turns for one attempt at `job`."""
    return system_prompt(job, findings), user_messages(job)
