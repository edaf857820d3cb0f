"""The job as a producer describes it, validated before anything is written.

These pydantic models are the one definition of a job's shape; the tables in
`persistence.tables` store them, the router and validators read them.
"""

from __future__ import annotations

import enum
import json
from functools import lru_cache
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

# Column sizes of the `jobs` table (and of the ledger's copies), checked before anything is
# written so that a long name is a line's problem at submit, not a failed insert.
NAME_LENGTH = 100
KEY_LENGTH = 200

# Validation context for a spec read back from its own row: it was checked whole at submit, so
# the costly parts (the output schema against the JSON Schema metaschema) are not redone.
STORED = {"stored": True}

# Fields a job no longer has, with what to do instead. A new job carrying one is refused (the
# producer learns at once); a stored row carrying one, written before, loads without it.
RETIRED_FIELDS = {
    "reference": "a workload's right answers are kept in a file of their own, apart from its "
                 "jobs (`tierline sample --answers FILE`); remove the field",
}


class TaskType(enum.StrEnum):
    EXTRACT = "extract"
    CLASSIFY = "classify"
    SUMMARIZE = "summarize"
    ANSWER = "answer"
    MATH = "math"
    CODE = "code"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    ROUTED = "routed"
    RUNNING = "running"
    VALIDATING = "validating"
    DONE = "done"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.DONE, JobStatus.NEEDS_REVIEW, JobStatus.FAILED})

_S = JobStatus
# Every move a job may make, written down once; `persistence.store.set_status` refuses any other.
# A step moves a job only from the state it expects, so a late or repeated delivery finds the
# job elsewhere and changes nothing. RUNNING -> RUNNING is a tier re-claimed by a redelivered
# message (its worker died mid-call); nothing leaves a terminal state but feedback.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    _S.QUEUED: frozenset({_S.ROUTED, _S.FAILED}),
    _S.ROUTED: frozenset({_S.RUNNING, _S.FAILED}),
    _S.RUNNING: frozenset({_S.RUNNING, _S.VALIDATING, _S.ROUTED, _S.FAILED}),
    _S.VALIDATING: frozenset({_S.DONE, _S.NEEDS_REVIEW, _S.ROUTED, _S.FAILED}),
    _S.DONE: frozenset(),
    _S.NEEDS_REVIEW: frozenset(),
    _S.FAILED: frozenset(),
}
# A reviewer's bad verdict re-runs a finished job one tier up, or leaves it for a person.
FEEDBACK_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    _S.DONE: frozenset({_S.ROUTED, _S.NEEDS_REVIEW}),
    _S.NEEDS_REVIEW: frozenset({_S.ROUTED, _S.NEEDS_REVIEW}),
    _S.FAILED: frozenset({_S.ROUTED, _S.NEEDS_REVIEW}),
}


class IllegalTransition(RuntimeError):
    """A job asked to move where the state machine does not go (a bug, never a redelivery:
    steps check the state they expect before moving a job)."""


def check_transition(current: JobStatus, new: JobStatus, by_feedback: bool = False) -> None:
    allowed = TRANSITIONS[current] | (FEEDBACK_TRANSITIONS.get(current, frozenset())
                                      if by_feedback else frozenset())
    if new not in allowed:
        raise IllegalTransition(f"a {current.value} job cannot become {new.value}")


class Level(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# The fleet's top tier: `config.tiers.TIER_COUNT`, which the job model may not import (config
# and jobs are independent layers); tests/unit/test_tier_count.py holds the two equal.
TOP_TIER = 3


class JobContext(BaseModel):
    """Who asks and how much a wrong answer would hurt."""

    model_config = ConfigDict(extra="forbid")

    role: str = "user"
    business_impact: Level = Level.MEDIUM
    error_tolerance: Level = Level.MEDIUM
    sensitive: bool = False
    # Tier bounds for this one job (business rules may tighten them further).
    min_tier: int = Field(default=1, ge=1, le=TOP_TIER)
    max_tier: int = Field(default=TOP_TIER, ge=1, le=TOP_TIER)

    @model_validator(mode="after")
    def _bounds_ordered(self) -> JobContext:
        if self.min_tier > self.max_tier:
            raise ValueError(f"min_tier {self.min_tier} is above max_tier {self.max_tier}")
        return self


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    content: str

    @field_validator("role")
    @classmethod
    def _known_role(cls, role: str) -> str:
        if role not in {"user", "assistant", "system"}:
            raise ValueError(f"message role must be user, assistant or system, not {role!r}")
        return role


class JobSpec(BaseModel):
    """One job as submitted: a document (or a conversation) and what to do with it."""

    model_config = ConfigDict(extra="forbid")

    task: TaskType
    document: str = ""
    messages: list[Message] = Field(default_factory=list)
    instructions: str = ""
    output_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    labels: list[str] = Field(default_factory=list)
    context: JobContext = Field(default_factory=JobContext)
    key: str | None = Field(default=None, max_length=KEY_LENGTH,
                            description="idempotency key; resubmitting it is a no-op")
    tenant: str = Field(default="default", min_length=1, max_length=NAME_LENGTH)
    user: str = Field(default="anonymous", min_length=1, max_length=NAME_LENGTH)
    feature: str = Field(default="default", min_length=1, max_length=NAME_LENGTH)
    query_type: str | None = Field(default=None, min_length=1, max_length=NAME_LENGTH)

    @model_validator(mode="before")
    @classmethod
    def _no_retired_fields(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not RETIRED_FIELDS.keys() & data.keys():
            return data
        if (info.context or {}).get("stored"):
            return {k: v for k, v in data.items() if k not in RETIRED_FIELDS}
        name = min(RETIRED_FIELDS.keys() & data.keys())
        raise ValueError(f"{name!r} is no longer part of a job: {RETIRED_FIELDS[name]}")

    @field_validator("document")
    @classmethod
    def _no_nul(cls, document: str) -> str:
        if "\x00" in document:
            raise ValueError("document contains a NUL byte")
        return document

    @field_validator("output_schema")
    @classmethod
    def _schema_is_valid(
        cls, schema: dict[str, Any] | None, info: ValidationInfo
    ) -> dict[str, Any] | None:
        if schema is None or (info.context or {}).get("stored"):
            return schema
        problem = schema_problem(json.dumps(schema, sort_keys=True))
        if problem is not None:
            raise ValueError(f"invalid JSON Schema: {problem}")
        return schema

    @model_validator(mode="after")
    def _has_input(self) -> JobSpec:
        if not self.document.strip() and not any(m.content.strip() for m in self.messages):
            raise ValueError("job has no input: document and messages are both empty")
        if self.task is TaskType.EXTRACT and self.output_schema is None:
            raise ValueError("an extract job needs a schema")
        if self.task is TaskType.CLASSIFY and not self.labels:
            raise ValueError("a classify job needs labels")
        return self

    @classmethod
    def from_row(cls, spec: dict[str, Any]) -> JobSpec:
        """A spec as stored at submit, where it was validated whole."""
        return cls.model_validate(spec, context=STORED)

    @property
    def effective_query_type(self) -> str:
        return self.query_type or self.task.value

    def input_text(self) -> str:
        """Everything the model reads, for length features and grounding."""
        parts = [self.document, *(m.content for m in self.messages)]
        return "\n".join(p for p in parts if p)


@lru_cache(maxsize=1024)
def schema_problem(schema_json: str) -> str | None:
    """Why a schema (as canonical JSON) is not a valid JSON Schema, or None. A bulk batch
    repeats a handful of schemas, so each is checked against the metaschema once per process
    (a check costs milliseconds). jsonschema is imported here, when a schema is first checked:
    the reports, which load these models through the tables, never need it."""
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(json.loads(schema_json))
    except jsonschema.SchemaError as exc:
        return str(exc.message)
    return None
