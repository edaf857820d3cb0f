"""The figures of `tierline report --out`: a batch (or every job since a date) summarised for a
page with pictures. `load_report` reads the rows; `summarize` is pure, so it is tested on plain
rows without a database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.config.tiers import TIER_COUNT
from tierline.persistence.tables import Attempt, Job
from tierline.reports.costs import money

TERMINAL = ("done", "needs_review", "failed")
# The finding the validate step records when tiers agree on an answer a check keeps rejecting,
# with the overruled checks under "checks" (see validation.disagreement).
DISAGREEMENT = "disagreement"
TOP_N = 10


@dataclass(frozen=True)
class JobRow:
    id: str
    key: str
    status: str
    task: str
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class AttemptRow:
    job_id: str
    attempt_no: int
    tier: int
    model: str
    outcome: str
    cost_usd: Decimal
    latency_ms: float
    input_tokens: int
    output_tokens: int
    validated: bool | None
    findings: list[dict[str, Any]] | None


@dataclass(frozen=True)
class FunnelStage:
    label: str
    jobs: int
    # Of `jobs`: how many came here from the stage below (the rest were routed here directly).
    escalated_in: int


@dataclass(frozen=True)
class JobLine:
    job_id: str
    key: str
    status: str
    tiers: str
    seconds: float | None
    calls_ms: float
    cost_usd: Decimal


@dataclass(frozen=True)
class TierLatency:
    tier: int
    calls: int
    p50_ms: float
    p90_ms: float
    max_ms: float


@dataclass
class ReportData:
    scope: str
    jobs: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    funnel: list[FunnelStage] = field(default_factory=list)
    cost_by_tier: dict[int, Decimal] = field(default_factory=dict)
    total_cost_usd: Decimal = Decimal(0)
    all_top_tier_cost_usd: Decimal = Decimal(0)
    top_tier: int = TIER_COUNT
    top_model: str = ""
    # check -> (tier -> strict failures)
    failures_by_check: dict[str, Counter[int]] = field(default_factory=dict)
    # check -> (disagreements recorded, strict failures): empty until disagreements are kept
    disagreements: dict[str, tuple[int, int]] = field(default_factory=dict)
    latency: list[TierLatency] = field(default_factory=list)
    slowest: list[JobLine] = field(default_factory=list)
    most_expensive: list[JobLine] = field(default_factory=list)

    @property
    def saving(self) -> float | None:
        if not self.all_top_tier_cost_usd:
            return None
        return float(1 - self.total_cost_usd / self.all_top_tier_cost_usd)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _failed_strict(findings: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [f for f in findings or [] if not f.get("passed") and f.get("strict", True)]


def _funnel(answered_tiers: dict[str, set[int]], top: int, in_review: int) -> list[FunnelStage]:
    stages = []
    for tier in range(1, top + 1):
        here = [tiers for tiers in answered_tiers.values() if tier in tiers]
        stages.append(FunnelStage(f"tier {tier}", len(here),
                                  sum(1 for tiers in here if min(tiers) < tier)))
    stages.append(FunnelStage("review", in_review, in_review))
    return stages


def summarize(scope: str, jobs: Sequence[JobRow], attempts: Sequence[AttemptRow],
              top_tier: int, top_model: str, top_price: tuple[float, float]) -> ReportData:
    """Everything the page shows, from the rows of its jobs and their ledger.

    `top_price` is the top tier's (input, output) USD per million tokens: each job's first
    answered call priced there is what sending every job straight to the top would have cost.
    """
    report = ReportData(scope, jobs=len(jobs), top_tier=top_tier, top_model=top_model)
    report.by_status.update(job.status for job in jobs)
    per_job: dict[str, list[AttemptRow]] = defaultdict(list)
    for attempt in attempts:
        per_job[attempt.job_id].append(attempt)
    answered = {job_id: {a.tier for a in rows if a.outcome == "ok"}
                for job_id, rows in per_job.items()}
    report.funnel = _funnel({k: v for k, v in answered.items() if v}, top_tier,
                            report.by_status["needs_review"])
    cost_by_tier: dict[int, Decimal] = defaultdict(Decimal)
    calls_by_tier: dict[int, list[float]] = defaultdict(list)
    failures: dict[str, Counter[int]] = defaultdict(Counter)
    disagreements: Counter[str] = Counter()
    for attempt in attempts:
        cost_by_tier[attempt.tier] += attempt.cost_usd
        if attempt.outcome == "ok":
            calls_by_tier[attempt.tier].append(attempt.latency_ms)
        for finding in _failed_strict(attempt.findings):
            failures[finding["check"]][attempt.tier] += 1
        for finding in attempt.findings or []:
            if finding.get("check") == DISAGREEMENT:
                disagreements.update(str(c) for c in finding.get("checks", []))
    report.cost_by_tier = dict(sorted(cost_by_tier.items()))
    report.total_cost_usd = sum(cost_by_tier.values(), Decimal(0))
    price_in, price_out = (Decimal(str(p)) for p in top_price)
    for rows in per_job.values():
        first = min((a for a in rows if a.outcome == "ok"), key=lambda a: a.attempt_no,
                    default=None)
        if first is not None:
            report.all_top_tier_cost_usd += (first.input_tokens * price_in
                                             + first.output_tokens * price_out) / 1_000_000
    report.failures_by_check = dict(sorted(failures.items(),
                                           key=lambda kv: (-sum(kv[1].values()), kv[0])))
    if disagreements:
        report.disagreements = {check: (disagreements[check], sum(failures[check].values()))
                                for check in sorted(set(report.failures_by_check)
                                                    | set(disagreements))}
    report.latency = [TierLatency(t, len(v), _percentile(v, 0.5), _percentile(v, 0.9), max(v))
                      for t, v in sorted(calls_by_tier.items())]
    lines = [_job_line(job, per_job.get(job.id, [])) for job in jobs]
    report.slowest = sorted((j for j in lines if j.seconds is not None),
                            key=lambda j: -(j.seconds or 0.0))[:TOP_N]
    report.most_expensive = sorted(lines, key=lambda j: -j.cost_usd)[:TOP_N]
    return report


def _job_line(job: JobRow, attempts: list[AttemptRow]) -> JobLine:
    seconds = None
    if job.finished_at is not None:
        seconds = (job.finished_at - job.created_at).total_seconds()
    tiers = " → ".join(str(t) for t in sorted({a.tier for a in attempts if a.outcome == "ok"}))
    return JobLine(job.id, job.key, job.status, tiers or "-", seconds,
                   sum(a.latency_ms for a in attempts),
                   sum((a.cost_usd for a in attempts), Decimal(0)))


def load_report(session: Session, batch_id: str | None, since: datetime | None,
                top_tier: int, top_model: str, top_price: tuple[float, float]) -> ReportData:
    """The report of one batch, or of every job created since `since` (or both filters)."""
    query = select(Job.id, Job.idempotency_key, Job.status, Job.task, Job.created_at,
                   Job.finished_at)
    # The ledger rows of the same jobs, joined to them: an id list would need the table's
    # statistics for PostgreSQL to look them up rather than scan the ledger once per chunk.
    ledger = select(
        Attempt.job_id, Attempt.attempt_no, Attempt.tier, Attempt.model, Attempt.outcome,
        Attempt.cost_usd, Attempt.latency_ms, Attempt.input_tokens, Attempt.output_tokens,
        Attempt.validated, Attempt.findings,
    ).join(Job, Job.id == Attempt.job_id).order_by(Attempt.job_id, Attempt.attempt_no)
    if batch_id is not None:
        query = query.where(Job.batch_id == batch_id)
        ledger = ledger.where(Job.batch_id == batch_id)
    if since is not None:
        query = query.where(Job.created_at >= since)
        ledger = ledger.where(Job.created_at >= since)
    jobs = [JobRow(*row) for row in session.execute(query)]
    attempts = [AttemptRow(r[0], r[1], r[2], r[3], r[4], money(r[5]), float(r[6]), int(r[7]),
                           int(r[8]), r[9], r[10]) for r in session.execute(ledger)]
    scope = " and ".join(part for part in (
        f"batch {batch_id}" if batch_id else "",
        f"jobs since {since:%Y-%m-%d %H:%M} UTC" if since else "") if part) or "every job"
    return summarize(scope, jobs, attempts, top_tier, top_model, top_price)
