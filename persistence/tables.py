"""The SQL tables. The results table is the product's output; attempts is the cost ledger.

Table names are defined here once; migrations mirror these definitions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tierline.jobs.models import KEY_LENGTH, NAME_LENGTH


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, list[Any]: JSON, Any: JSON
    }


# Money in USD, with enough places for a single token at the cheapest price.
Money = Numeric(18, 10)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    tenant: Mapped[str] = mapped_column(String(NAME_LENGTH))
    user: Mapped[str] = mapped_column(String(NAME_LENGTH))
    feature: Mapped[str] = mapped_column(String(NAME_LENGTH))
    query_type: Mapped[str] = mapped_column(String(NAME_LENGTH))
    task: Mapped[str] = mapped_column(String(20))
    # The whole submitted job (document or messages, schema, labels, context) as JobSpec JSON.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    current_tier: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    __table_args__ = (
        Index("ix_jobs_batch_status", "batch_id", "status"),
        # `tierline status` counts a batch per status and tier from this index alone.
        Index("ix_jobs_batch_status_tier", "batch_id", "status", "current_tier"),
    )


class RoutingDecision(Base):
    __tablename__ = "routing_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    tier: Mapped[int] = mapped_column(Integer)
    probabilities: Mapped[dict[str, Any]] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    router_version: Mapped[str] = mapped_column(String(100))
    latency_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Attempt(Base):
    """One provider call: the cost ledger's row."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    tier: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(200))
    tenant: Mapped[str] = mapped_column(String(100))
    user: Mapped[str] = mapped_column(String(100))
    feature: Mapped[str] = mapped_column(String(100))
    query_type: Mapped[str] = mapped_column(String(100))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Any] = mapped_column(Money, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # ok (an output to validate) or the error class name of a failed call.
    outcome: Mapped[str] = mapped_column(String(50))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    output_text: Mapped[str | None] = mapped_column(Text, default=None)
    finish_reason: Mapped[str | None] = mapped_column(String(30), default=None)
    # Filled by the validate step: None until validated, then passed or not, with findings.
    validated: Mapped[bool | None] = mapped_column(Boolean, default=None)
    findings: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("job_id", "attempt_no", name="uq_attempts_job_attempt"),
        Index("ix_attempts_ledger", "tenant", "feature", "query_type"),
        # Budgets and `tierline costs --since` sum the ledger since a date.
        Index("ix_attempts_created_at", "created_at"),
    )


class Result(Base):
    __tablename__ = "results"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    output: Mapped[Any] = mapped_column(JSON)
    tier: Mapped[int] = mapped_column(Integer)
    # The ledger row whose output this is (null only on rows from before this column).
    attempt_no: Mapped[int | None] = mapped_column(Integer, default=None)
    provider: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(200))
    total_cost_usd: Mapped[Any] = mapped_column(Money)
    attempts: Mapped[int] = mapped_column(Integer)
    validated: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[list[Any]] = mapped_column(JSON)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_results_batch_tier", "batch_id", "tier"),)


class LedgerRollup(Base):
    """The cost ledger summed per batch and job dimensions, kept by `persistence.ledger_rollup`:
    reports read these few rows plus the ledger rows not counted yet."""

    __tablename__ = "ledger_rollup"

    batch_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    user: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    feature: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    query_type: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    # Jobs (their first ledger row), calls, and what the calls cost.
    jobs: Mapped[int] = mapped_column(BigInteger, default=0)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_calls: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Any] = mapped_column(Money, default=0)
    rejected_cost_usd: Mapped[Any] = mapped_column(Money, default=0)
    validation_failures: Mapped[int] = mapped_column(BigInteger, default=0)
    # Jobs answered by more than one tier, and the tokens of each job's first answer.
    escalated_jobs: Mapped[int] = mapped_column(BigInteger, default=0)
    first_input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    first_output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerCallRollup(Base):
    """The cost ledger summed per batch, call (tier, provider, model) and hour of the call, kept
    with `ledger_rollup` by `persistence.call_rollup`: reports by a call's dimensions, and since
    a date, read these rows."""

    __tablename__ = "ledger_call_rollup"

    batch_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tier: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(50), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The UTC hour the calls were made in.
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_calls: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Any] = mapped_column(Money, default=0)
    rejected_cost_usd: Mapped[Any] = mapped_column(Money, default=0)
    # Jobs, per grouping: calls that are their job's first with the same tier, provider, ...
    jobs_tier: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_provider: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_model: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_tier_provider: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_tier_model: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_provider_model: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_tier_provider_model: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (Index("ix_ledger_call_rollup_hour", "hour"),)


class LedgerHourRollup(Base):
    """The cost ledger summed per job dimension (its name and value) and UTC hour of the call,
    kept with `ledger_rollup` by `persistence.hour_rollup`: reports since a date read these."""

    __tablename__ = "ledger_hour_rollup"

    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    jobs: Mapped[int] = mapped_column(BigInteger, default=0)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_calls: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Any] = mapped_column(Money, default=0)
    rejected_cost_usd: Mapped[Any] = mapped_column(Money, default=0)
    first_input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    first_output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (Index("ix_ledger_hour_rollup_hour", "hour"),)


class LedgerSpanningJob(Base):
    """A job whose counted ledger rows fall in more than one hour, with the last: summed since
    an hour, such a job is read from the ledger (see `persistence.call_rollup`)."""

    __tablename__ = "ledger_spanning_jobs"

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LedgerRollupState(Base):
    """How far the rollup has counted: every ledger row up to `watermark` is in it, or waits in
    `ledger_pending` for its validation."""

    __tablename__ = "ledger_rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watermark: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerPending(Base):
    """Ledger rows below the watermark not counted yet: answers awaiting validation."""

    __tablename__ = "ledger_pending"

    attempt_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class Feedback(Base):
    """A person's verdict on an output; a bad one re-runs the job a tier up and becomes a
    negative label for router training."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    attempt_no: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ResultHistory(Base):
    """Results that were current once and were replaced after feedback: kept, not lost."""

    __tablename__ = "result_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    output: Mapped[Any] = mapped_column(JSON)
    tier: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(200))
    total_cost_usd: Mapped[Any] = mapped_column(Money)
    attempts: Mapped[int] = mapped_column(Integer)
    validated: Mapped[bool] = mapped_column(Boolean)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"), default=None)


class ShadowResult(Base):
    """A shadow candidate's answer to one live attempt: an experiment, never part of the job.

    Its cost is the experiment's, kept out of the `attempts` ledger. The pinned side (its
    validation, latency and cost) is the attempt row (job_id, attempt_no)."""

    __tablename__ = "shadow_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    tier: Mapped[int] = mapped_column(Integer)
    # The candidate's endpoint label (provider:model), as the tiers file names it.
    candidate: Mapped[str] = mapped_column(String(300))
    pinned_model: Mapped[str] = mapped_column(String(200))
    candidate_model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(50))
    output_text: Mapped[str | None] = mapped_column(Text, default=None)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Any] = mapped_column(Money, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # ok, or the error class name of a failed call (or of a crash of the shadow step).
    outcome: Mapped[str] = mapped_column(String(50))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # None when the candidate gave no answer to validate.
    validated: Mapped[bool | None] = mapped_column(Boolean, default=None)
    findings: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    # Same parsed JSON / label / final answer as the live output; None when not comparable.
    agrees: Mapped[bool | None] = mapped_column(Boolean, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        # A redelivered shadow message finds its row and does nothing.
        UniqueConstraint("job_id", "attempt_no", "candidate",
                         name="uq_shadow_results_job_attempt_candidate"),
        Index("ix_shadow_results_tier_candidate", "tier", "candidate"),
    )


TABLE_NAMES = tuple(Base.metadata.tables)
