"""Shadow tests: a candidate model version answers a sample of a tier's live attempts; its
answer is validated, compared with the live one and recorded in `shadow_results`.

Nothing here touches the job: not its status, its result, nor its ledger (the candidate's cost
is the experiment's, not the job's). Every failure, the candidate's or this step's own, becomes
the row's error, which is data for the experiment; a redelivered message finds its row and does
nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tierline.config.tiers import Endpoint, ShadowCandidate
from tierline.jobs.models import JobSpec
from tierline.persistence import store
from tierline.persistence.tables import Job, ShadowResult
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.prompts.messages import build_prompt
from tierline.providers.errors import ProviderError
from tierline.providers.pricing import cost_usd
from tierline.routing.shadow import sampled_candidates
from tierline.tasks.runtime import Runtime
from tierline.validation.agreement import outputs_agree
from tierline.validation.runner import validate

log = logging.getLogger(__name__)


class ShadowPublisher(Protocol):
    def shadow(self, job_id: str, attempt_no: int, candidate: str) -> None: ...


def publish_shadows(rt: Runtime, publisher: ShadowPublisher, job_id: str, tier: int,
                    attempt_no: int, answered_by: Endpoint) -> int:
    """After attempt `attempt_no` at `tier` was answered and ledgered: one message per sampled
    candidate, when the tier's pinned (primary) endpoint gave the answer. Returns how many were
    sent; never raises, since the live job must not notice the experiment."""
    tier_config = rt.tiers.get(tier)
    # A fallback's answer is not the pinned model's: comparing against it would mislead.
    if not tier_config.shadows or answered_by.label != tier_config.primary.label:
        return 0
    sent = 0
    for candidate in sampled_candidates(tier_config, job_id):
        try:
            publisher.shadow(job_id, attempt_no, candidate.label)
            sent += 1
        except Exception:
            log.warning("shadow: could not publish %s for attempt %s of job %s",
                        candidate.label, attempt_no, job_id, exc_info=True)
    return sent


@dataclass(frozen=True)
class LiveAttempt:
    """The live attempt a candidate shadows, and the prompt findings it was sent with."""

    spec: JobSpec
    tier: int
    model: str
    output_text: str
    findings: list[str]


@dataclass(frozen=True)
class CandidateAnswer:
    completion: Completion | None
    outcome: str
    error: str | None
    latency_s: float


def _recorded(session: Any, job_id: str, attempt_no: int, candidate: str) -> bool:
    return session.scalar(select(ShadowResult.id).where(
        ShadowResult.job_id == job_id, ShadowResult.attempt_no == attempt_no,
        ShadowResult.candidate == candidate)) is not None


def load_live_attempt(rt: Runtime, job_id: str, attempt_no: int,
                      candidate: str) -> LiveAttempt | None:
    """The live attempt to shadow; None when it is already shadowed by `candidate`, or is not
    an answer (nothing to compare with)."""
    with rt.db.session() as session:
        if _recorded(session, job_id, attempt_no, candidate):
            return None
        job = session.get(Job, job_id)
        attempts = store.attempts_of(session, job_id)
        live = next((a for a in attempts if a.attempt_no == attempt_no), None)
        if job is None or live is None or live.outcome != "ok":
            log.warning("shadow: no answered attempt %s of job %s", attempt_no, job_id)
            return None
        # The findings the live prompt carried: those of the attempts and reviews before it.
        earlier = [a for a in attempts if a.attempt_no < attempt_no]
        feedback = [f for f in store.bad_feedback(session, job_id) if f.attempt_no < attempt_no]
        return LiveAttempt(store.job_spec(job), live.tier, live.model, live.output_text or "",
                           store.rejection_reasons(earlier, feedback))


def ask_candidate(rt: Runtime, candidate: ShadowCandidate,
                  request: CompletionRequest) -> CandidateAnswer:
    """One call to the candidate, without fallback or retries: its failures are the data.

    The fleet's circuit breakers are left out on purpose: an experiment's failures must not
    open a breaker that live traffic goes through, nor a live breaker stop the experiment."""
    started = time.perf_counter()
    try:
        completion = rt.provider(candidate).complete(request)
    except ProviderError as exc:
        return CandidateAnswer(None, type(exc).__name__, str(exc), time.perf_counter() - started)
    except Exception as exc:  # a broken adapter is a failed shadow call, not a crashed worker
        return CandidateAnswer(None, type(exc).__name__, f"crashed: {exc!r}",
                               time.perf_counter() - started)
    return CandidateAnswer(completion, "ok", None, completion.latency_s)


def shadow_row(job_id: str, attempt_no: int, live: LiveAttempt, candidate: ShadowCandidate,
               answer: CandidateAnswer) -> ShadowResult:
    """The row for one candidate answer: validated by the job's own checks (without the
    optional judge, whose calls would be ledgered on the job) and compared with the live one."""
    row = ShadowResult(
        job_id=job_id, attempt_no=attempt_no, tier=live.tier, candidate=candidate.label,
        pinned_model=live.model, candidate_model=candidate.model,
        provider=candidate.host_name, input_tokens=0, output_tokens=0, cost_usd=Decimal(0),
        latency_ms=answer.latency_s * 1000, outcome=answer.outcome, error=answer.error,
    )
    completion = answer.completion
    if completion is None:
        return row
    verdict = validate(live.spec, completion.text, completion.finish_reason)
    row.output_text = completion.text
    row.input_tokens, row.output_tokens = completion.input_tokens, completion.output_tokens
    row.cost_usd = cost_usd(candidate, completion.input_tokens, completion.output_tokens)
    row.validated = verdict.passed
    row.findings = [f.as_dict() for f in verdict.findings]
    row.agrees = outputs_agree(live.spec, live.output_text, completion.text)
    return row


def _crash_row(job_id: str, attempt_no: int, live: LiveAttempt, candidate: ShadowCandidate,
               exc: Exception) -> ShadowResult:
    return ShadowResult(
        job_id=job_id, attempt_no=attempt_no, tier=live.tier, candidate=candidate.label,
        pinned_model=live.model, candidate_model=candidate.model, provider=candidate.host_name,
        input_tokens=0, output_tokens=0, cost_usd=Decimal(0), latency_ms=0.0,
        outcome=type(exc).__name__, error=f"shadow step crashed: {exc!r}"[:2000],
    )


def _insert(rt: Runtime, row: ShadowResult) -> bool:
    try:
        with rt.db.session() as session:
            session.add(row)
    except IntegrityError:
        return False  # another delivery recorded this candidate's answer first
    return True


def run_shadow(rt: Runtime, job_id: str, attempt_no: int, candidate_label: str) -> bool:
    """Ask the candidate what the live attempt was asked and record its answer; True when a
    row was written. Database errors propagate (the task retries); nothing else does."""
    live = load_live_attempt(rt, job_id, attempt_no, candidate_label)
    if live is None:
        return False
    candidate = rt.tiers.get(live.tier).shadow(candidate_label)
    if candidate is None:
        log.warning("shadow: tier %s no longer names candidate %s", live.tier, candidate_label)
        return False
    if live.spec.context.sensitive and \
            candidate.host_name not in rt.policy.allowed_hosts(live.spec.tenant):
        # A sensitive document goes only to the hosts its tenant allows, experiment or not.
        return False
    try:
        system, messages = build_prompt(live.spec, live.findings)
        request = CompletionRequest(system=system, messages=messages, metadata={
            "job_id": job_id, "tier": str(live.tier), "shadow": candidate.label})
        row = shadow_row(job_id, attempt_no, live, candidate, ask_candidate(rt, candidate, request))
    except Exception as exc:
        log.exception("shadow: %s on attempt %s of job %s crashed", candidate_label, attempt_no,
                      job_id)
        row = _crash_row(job_id, attempt_no, live, candidate, exc)
    return _insert(rt, row)
