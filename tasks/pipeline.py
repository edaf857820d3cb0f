"""The pipeline's steps, free of Celery: each loads by id, decides, records, then publishes.

Every step is safe to run twice (deliveries are at-least-once): a step looks at the job's state
first, does nothing when the state says it already happened, and re-publishes the message the
state calls for so that a crash between commit and publish loses nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import insert

from tierline.config.tiers import Endpoint, TiersConfig
from tierline.jobs.models import JobSpec, JobStatus
from tierline.persistence import store
from tierline.persistence.tables import Attempt, Job, RoutingDecision
from tierline.prompts.completion import CompletionRequest
from tierline.prompts.messages import build_prompt
from tierline.providers.base import Provider
from tierline.routing.policy import NoEligibleTier
from tierline.tasks import job_rows, ledger, metrics
from tierline.tasks.backoff import retry_delay
from tierline.tasks.budgets import budget_gate
from tierline.tasks.calls import CallRecord, call_chain
from tierline.tasks.judging import judge_for
from tierline.tasks.ledger import SUPERSEDED, Recorded, pending_attempts
from tierline.tasks.runtime import Runtime
from tierline.tasks.shadow import publish_shadows
from tierline.validation.base import Verdict
from tierline.validation.disagreement import (
    Disagreement,
    DisagreementPolicy,
    Earlier,
    repeated_rejection,
)
from tierline.validation.runner import validate

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def infer(self, job_id: str, tier: int) -> None: ...

    def infer_many(self, messages: Sequence[tuple[str, int]]) -> None:
        """(job, tier) messages sent together: a set-wise step's whole flush."""
        ...

    def validate(self, job_id: str, attempt_no: int) -> None: ...

    def shadow(self, job_id: str, attempt_no: int, candidate: str) -> None: ...


@dataclass(frozen=True)
class RetryLater:
    """Every endpoint of the tier failed with a retryable error."""

    delay_s: float
    reason: str


def ceiling_tier(tiers: TiersConfig, job: JobSpec) -> int:
    """The highest tier this job may run on: the top tier, or the job's own ceiling (which
    the route step lowers to a spend budget's cap)."""
    return min(tiers.top, job.context.max_tier)


class JobState(Protocol):
    """What `republish` reads of a job (an ORM `Job`, or a `job_rows.LockedJob`)."""

    @property
    def id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def current_tier(self) -> int | None: ...


def republish(job: JobState, publisher: Publisher, session: Any,
              attempts: Sequence[Attempt] | None = None) -> None:
    """Send the message that the job's current state calls for (used after redeliveries);
    `attempts`, the job's ledger rows when the caller has already read them."""
    if job.status in (JobStatus.ROUTED, JobStatus.RUNNING) and job.current_tier:
        publisher.infer(job.id, job.current_tier)
    elif job.status == JobStatus.VALIDATING:
        rows = attempts if attempts is not None else store.attempts_of(session, job.id)
        pending = pending_attempts(rows, job.current_tier)
        if pending:
            publisher.validate(job.id, pending[0].attempt_no)


_DECISION_INSERT = insert(cast(Any, RoutingDecision.__table__))


@dataclass(frozen=True)
class Routed:
    """A job routed under its lock: its tier, and the routing_decisions row to write."""

    tier: int
    decision: dict[str, Any]


def route_locked(rt: Runtime, publisher: Publisher, session: Any, job: Job) -> Routed | None:
    """Route a job held under its row lock: gate it, decide, and move it to ROUTED (or FAILED).
    The decision row is returned for the caller to write, and the tier message to publish once
    it commits; None when there is none (the job failed, or its state was re-published)."""
    if job.status != JobStatus.QUEUED:
        republish(job, publisher, session)
        return None
    gate = budget_gate(session, rt.spend, rt.policy.budgets, store.job_spec(job), rt.tiers.top)
    if gate.refusal is not None:
        store.set_status(job, JobStatus.FAILED, gate.refusal)
        return None
    # Let this process's other threads (the consumer reading messages, a second flush) have
    # the GIL now rather than in the middle of the decision: a decision takes a fraction of a
    # millisecond, far under the 5 ms after which a waiting thread takes the GIL by force.
    # (On Linux the zero sleep lasts the timer slack, tens of microseconds of wall time and no
    # CPU, and the thread wakes as a sleeper, less likely to be preempted mid-decision.)
    time.sleep(0)
    try:
        decision = rt.router.decide(gate.spec, rt.tiers)
    except NoEligibleTier as exc:
        store.set_status(job, JobStatus.FAILED, f"no tier may take this job: {exc}")
        return None
    metrics.observe_decision(decision.latency_ms, decision.cpu_ms)
    if gate.max_tier is not None:
        if decision.tier > gate.max_tier:
            # Only a hard limit (context window, allowed hosts) lifts a tier over a ceiling.
            store.set_status(job, JobStatus.FAILED, f"{'; '.join(gate.reasons)}; tier "
                             f"{decision.tier} is the lowest that may take this job")
            return None
        # The cap becomes the job's own ceiling, so its escalations, tier give-ups and
        # feedback re-runs (all bounded by `ceiling_tier`) stop there too.
        job.spec = gate.spec.model_dump(mode="json", by_alias=True)
    job.current_tier = decision.tier
    store.set_status(job, JobStatus.ROUTED)
    return Routed(decision.tier, {
        "job_id": job.id, "tier": decision.tier,
        "probabilities": {str(t): p for t, p in decision.probabilities.items()},
        "confidence": decision.confidence, "reasons": [*gate.reasons, *decision.reasons],
        "router_version": decision.router_version, "latency_ms": decision.latency_ms,
    })


def insert_decisions(session: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Write routing decisions in one statement. On the connection: a decision is only
    written, never read back by the step."""
    if rows:
        session.connection().execute(_DECISION_INSERT, list(rows))


def route_job(rt: Runtime, publisher: Publisher, job_id: str) -> None:
    with rt.db.session() as session:
        job = store.lock_job(session, job_id)
        if job is None:
            log.warning("route: no job %s", job_id)
            return
        routed = route_locked(rt, publisher, session, job)
        if routed is None:
            return
        insert_decisions(session, [routed.decision])
    publisher.infer(job_id, routed.tier)


@dataclass(frozen=True)
class PreparedCall:
    """A claimed job, the request its tier will be sent, and the ledger row reserved for the
    call (None when no endpoint of the tier may see the job)."""

    job_id: str
    tier: int
    request: CompletionRequest
    chain: list[tuple[Endpoint, Provider]]
    reserved: int | None = None


def _prepared(job_id: str, tier: int, spec: JobSpec, findings: list[str],
              chain: list[tuple[Endpoint, Provider]], reserved: int | None) -> PreparedCall:
    """The claimed job's prompt (built after its transaction: CPU only) and its call."""
    system, messages = build_prompt(spec, findings)
    request = CompletionRequest(system=system, messages=messages,
                                metadata={"job_id": job_id, "tier": str(tier)})
    return PreparedCall(job_id, tier, request, chain, reserved)


def prepare_infer(rt: Runtime, publisher: Publisher, job_id: str, tier: int) -> PreparedCall | None:
    """Claim the job at `tier`, build its prompt and reserve the call's ledger row, in one
    transaction; None when the message is stale.

    A job already running at this tier is claimed again: the message is a redelivery after its
    worker died mid-call, or a re-send of a slow call. Both calls are ledgered; only the first
    answer moves the job on (`ledger.record_calls`)."""
    return prepare_infers(rt, publisher, [(job_id, tier)])[0]


def prepare_infers(rt: Runtime, publisher: Publisher,
                   wanted: Sequence[tuple[str, int]]) -> list[PreparedCall | None]:
    """`prepare_infer` for a whole flush (job id and tier of each message), in one transaction
    and a fixed number of statements: the jobs locked together (in id order), all their ledger
    rows read at once, the feedback of those that have rows, and the reserved rows written in
    one INSERT. Position i answers wanted[i]; a job twice is claimed twice, as two messages
    one after the other would (two rows, numbered in turn)."""
    with rt.db.session() as session:
        # Plain rows, not ORM objects: a flush claims dozens of jobs (`tasks.job_rows`).
        jobs = job_rows.lock(session, {job_id for job_id, _ in wanted}, with_spec=True)
        # One read of the ledger rows serves the prompts and the next rows' numbers. Feedback
        # is given on a result, so a job with no row yet has none.
        attempts = store.attempts_of_jobs(session, jobs)
        feedback = store.bad_feedback_of_jobs(
            session, [job_id for job_id, rows in attempts.items() if rows])
        numbers = {job_id: ledger.next_number(rows) for job_id, rows in attempts.items()}
        claims: list[tuple[str, int, JobSpec, list[tuple[Endpoint, Provider]], int | None]
                     | None] = []
        reservations: list[ledger.Reservation] = []
        claimed: list[job_rows.LockedJob] = []
        for job_id, tier in wanted:
            job = jobs.get(job_id)
            if job is None or job.current_tier != tier:
                claims.append(None)
                continue
            if job.status not in (JobStatus.ROUTED, JobStatus.RUNNING):
                republish(job, publisher, session, attempts[job_id])
                claims.append(None)
                continue
            job_rows.set_status(job, JobStatus.RUNNING)
            claimed.append(job)
            spec = JobSpec.from_row(job.spec or {})
            chain = rt.chain(tier, spec)
            reserved = None
            if chain:
                reserved = numbers[job_id]
                numbers[job_id] += 1
                reservations.append(ledger.Reservation(job, tier, chain[0][0], reserved))
            claims.append((job_id, tier, spec, chain, reserved))
        ledger.reserve_many(session, reservations)
        job_rows.move(session, claimed, JobStatus.RUNNING)
        findings = {job_id: store.rejection_reasons(rows, feedback.get(job_id, []))
                    for job_id, rows in attempts.items()}
    return [None if claim is None else
            _prepared(claim[0], claim[1], claim[2], findings[claim[0]], claim[3], claim[4])
            for claim in claims]


def record_infer(rt: Runtime, call: PreparedCall, records: list[CallRecord]) -> Recorded:
    """Ledger the calls, in the row reserved for the first one and new rows for the rest."""
    return ledger.record_calls(rt, call.job_id, call.tier, records, call.reserved)


def record_infers(rt: Runtime,
                  answered: Sequence[tuple[PreparedCall, list[CallRecord]]]) -> list[Recorded]:
    """`record_infer` for several calls that answered together, in one transaction."""
    return ledger.record_many(rt, [ledger.Answered(call.job_id, call.tier, records, call.reserved)
                                   for call, records in answered])


def act_on_calls(rt: Runtime, publisher: Publisher, call: PreparedCall,
                 records: list[CallRecord], recorded: Recorded) -> RetryLater | None:
    """After the ledger: validate the answer, retry later, or give the tier up. A delivery
    that found the job moved on does nothing more."""
    if not recorded.current:
        return None
    if recorded.answered is not None:
        publisher.validate(call.job_id, recorded.answered)
        # The call chain stops at its first answer: the last record is the one that answered.
        publish_shadows(rt, publisher, call.job_id, call.tier, recorded.answered,
                        records[-1].endpoint)
        return None
    errors = [r.error for r in records if r.error is not None]
    reason = "; ".join(str(e) for e in errors) or "no endpoint of this tier may see the job"
    if any(e.retryable for e in errors):
        hinted = [getattr(e, "retry_after", None) or 0.0 for e in errors]
        return RetryLater(delay_s=max([1.0, *hinted]), reason=reason)
    give_up_tier(rt, publisher, call.job_id, call.tier,
                 f"tier {call.tier} cannot serve this job: {reason}")
    return None


def finish_infer(
    rt: Runtime, publisher: Publisher, call: PreparedCall, records: list[CallRecord]
) -> RetryLater | None:
    """Ledger the calls, then validate the answer, retry later, or give the tier up."""
    return act_on_calls(rt, publisher, call, records, record_infer(rt, call, records))


def infer_job(rt: Runtime, publisher: Publisher, job_id: str, tier: int) -> RetryLater | None:
    call = prepare_infer(rt, publisher, job_id, tier)
    if call is None:
        return None
    records = call_chain(call.chain, call.request, rt.breakers, rt.limiter)
    return finish_infer(rt, publisher, call, records)


def retry_or_give_up(rt: Runtime, publisher: Publisher, job_id: str, tier: int, retries: int,
                     outcome: RetryLater) -> float | None:
    """After a whole tier failed retryably: the delay before trying it again, or None when the
    tries are used up and the job has been moved a tier up (or failed at the top)."""
    if retries >= rt.settings.max_provider_retries:
        reason = f"tier {tier} unavailable after {retries + 1} tries: {outcome.reason}"
        give_up_tier(rt, publisher, job_id, tier, reason)
        return None
    return retry_delay(retries, outcome.delay_s)


def give_up_tier(rt: Runtime, publisher: Publisher, job_id: str, tier: int, reason: str) -> None:
    """Move the job one tier up after its tier failed for good, or fail it at the top."""
    with rt.db.session() as session:
        job = store.lock_job(session, job_id)
        if job is None or job.current_tier != tier or job.status != JobStatus.RUNNING:
            return
        if tier >= ceiling_tier(rt.tiers, store.job_spec(job)):
            store.set_status(job, JobStatus.FAILED, reason)
            metrics.observe_escalation(tier, "failed", ["tier_unavailable"])
            return
        job.current_tier = tier + 1
        metrics.observe_escalation(tier, str(tier + 1), ["tier_unavailable"])
        store.set_status(job, JobStatus.ROUTED, reason)
    publisher.infer(job_id, tier + 1)


def _best_attempt(attempts: list[Attempt], rejected: set[int]) -> Attempt:
    """Fewest strict failures, then the highest tier: the output a reviewer should see first.
    Outputs a person already marked bad come last."""
    def failures(a: Attempt) -> int:
        return sum(1 for f in a.findings or [] if not f["passed"] and f.get("strict", True))
    answered = [a for a in attempts if a.outcome == "ok" and a.error != SUPERSEDED]
    return min(answered, key=lambda a: (a.attempt_no in rejected, failures(a), -a.tier,
                                        -a.attempt_no))


def end_on_disagreement(rt: Runtime, session: Any, job: Job, attempt: Attempt, output: Any,
                        repeated: Disagreement, rows: Sequence[Attempt] | None = None,
                        results: list[dict[str, Any]] | None = None) -> None:
    """End a job whose tiers agree against its checks, as the policy says; no tier is added."""
    attempt.findings = [*(attempt.findings or []),
                        {**repeated.finding().as_dict(), "checks": list(repeated.checks)}]
    store.upsert_result(session, job, attempt, output, False, attempt.findings, rows,
                        into=results)
    accept = rt.settings.disagreement_policy == DisagreementPolicy.ACCEPT.value
    store.set_status(job, JobStatus.DONE if accept else JobStatus.NEEDS_REVIEW, repeated.reason)


def _awaits_validation(job: Job, attempt: Attempt) -> bool:
    """The compare-and-set of the validate step: this attempt is the job's pending answer."""
    return (job.status == JobStatus.VALIDATING and attempt.validated is None
            and attempt.tier == job.current_tier and attempt.error != SUPERSEDED)


@dataclass(frozen=True)
class _Locked:
    """The job under its row lock, every ledger row of it, and the attempt to validate."""

    job: Job
    attempts: list[Attempt]
    attempt: Attempt


def _lock_pending(session: Any, publisher: Publisher, job_id: str,
                  attempt_no: int) -> _Locked | None:
    """Lock the job and read its ledger rows; None (after re-publishing what the job's state
    calls for) unless the attempt still awaits validation."""
    job = store.lock_job(session, job_id)
    attempts = store.attempts_of(session, job_id) if job is not None else []
    return pending_of(session, publisher, job, attempts, job_id, attempt_no)


def pending_of(session: Any, publisher: Publisher, job: Job | None, attempts: list[Attempt],
               job_id: str, attempt_no: int) -> _Locked | None:
    """The locked job, its ledger rows and the attempt to validate; None (after re-publishing
    what the job's state calls for) unless the attempt still awaits validation."""
    attempt = next((a for a in attempts if a.attempt_no == attempt_no), None)
    if job is None or attempt is None:
        log.warning("validate: no attempt %s of job %s", attempt_no, job_id)
        return None
    if not _awaits_validation(job, attempt):
        republish(job, publisher, session, attempts)
        return None
    return _Locked(job, attempts, attempt)


def validate_attempt(rt: Runtime, publisher: Publisher, job_id: str, attempt_no: int) -> None:
    """Check the attempt and record the verdict. Without a judge this is one transaction under
    the job's lock (the checks are CPU only); a judge is a network call, so then the checks run
    holding no lock, and the record takes the lock again and checks the state once more."""
    judge_calls: list[CallRecord] = []
    with rt.db.session() as session:
        found = _lock_pending(session, publisher, job_id, attempt_no)
        if found is None:
            return
        spec, tier = store.job_spec(found.job), found.attempt.tier
        text, finish = found.attempt.output_text or "", found.attempt.finish_reason or "stop"
        ask, fraction = judge_for(rt, spec, tier, judge_calls)
        escalate_to = None if ask is not None else record_verdict(
            rt, session, found, spec, validate(spec, text, finish), [])
    if ask is not None:
        verdict = validate(spec, text, finish, judge=ask, judge_fraction=fraction)
        with rt.db.session() as session:
            found = _lock_pending(session, publisher, job_id, attempt_no)
            if found is None:
                # A duplicate delivery got here first, or the job moved on: only the judge's
                # calls, which were paid for, are kept.
                job = store.lock_job(session, job_id)
                if judge_calls and job is not None:
                    ledger.add_rows(session, job, 1, judge_calls, kind="judge_", superseded=True)
                return
            escalate_to = record_verdict(rt, session, found, spec, verdict, judge_calls)
    if escalate_to is not None:
        publisher.infer(job_id, escalate_to)


def record_verdict(rt: Runtime, session: Any, found: _Locked, spec: JobSpec, verdict: Verdict,
                   judge_calls: list[CallRecord],
                   results: list[dict[str, Any]] | None = None) -> int | None:
    """Record the verdict under the job's lock; the tier to escalate to, if any (published by
    the caller once this commits). With `results`, the job's result row is added to it for
    the caller to write with others (`store.upsert_results`) instead of written here."""
    job, attempts, attempt = found.job, found.attempts, found.attempt
    tier, text = attempt.tier, attempt.output_text or ""
    findings = [f.as_dict() for f in verdict.findings]
    if judge_calls:
        ledger.add_rows(session, job, 1, judge_calls, kind="judge_")
    # Without judge rows added, the rows read under the lock are the whole ledger of the job.
    rows = None if judge_calls else attempts
    attempt.validated = verdict.passed
    attempt.findings = findings
    if verdict.passed:
        store.upsert_result(session, job, attempt, verdict.output, True, findings, rows,
                            into=results)
        store.set_status(job, JobStatus.DONE)
        return None
    repeated = repeated_rejection(spec, tier, text, verdict, [
        Earlier(a.tier, a.output_text or "", a.findings or []) for a in attempts
        if a.attempt_no != attempt.attempt_no and a.validated is False])
    if repeated is not None:
        end_on_disagreement(rt, session, job, attempt, verdict.output, repeated, rows, results)
        return None
    reason = "; ".join(verdict.reasons)
    if tier >= ceiling_tier(rt.tiers, spec):
        rejected = {f.attempt_no for f in store.bad_feedback(session, job.id)}
        best = _best_attempt(attempts, rejected)
        store.upsert_result(session, job, best, best.output_text, False, best.findings or [],
                            rows, into=results)
        store.set_status(job, JobStatus.NEEDS_REVIEW, f"tier {tier} failed: {reason}")
        metrics.observe_escalation(tier, "review", metrics.failed_checks(findings))
        return None
    metrics.observe_escalation(tier, str(tier + 1), metrics.failed_checks(findings))
    job.current_tier = tier + 1
    store.set_status(job, JobStatus.ROUTED, f"escalated from tier {tier}: {reason}")
    return tier + 1


def fail_job(rt: Runtime, job_id: str, reason: str) -> None:
    """End a job that cannot go on, keeping the reason; a finished job is left as it is."""
    with rt.db.session() as session:
        job = store.lock_job(session, job_id)
        if job is not None and not JobStatus(job.status).terminal:
            store.set_status(job, JobStatus.FAILED, reason)
