"""The fleet's Prometheus metrics, recorded where the work happens.

Every worker process records into these; `workers.metrics_server` serves them on
`TIERLINE_METRICS_PORT`. Only counters and histograms are recorded here, so prometheus-client's
multiprocess mode (one file per process, summed at scrape) adds up a prefork worker's children
correctly. Fleet-wide state (jobs per status, queue depths, breakers) is read at scrape time by
`tasks.fleet_metrics` instead, once for the fleet rather than once per process.

Recording never raises: a metric is not worth failing a job for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from tierline.tasks.calls import CallRecord

log = logging.getLogger(__name__)

# Provider calls take from tens of milliseconds (tier 1) to a minute (tier 3, long outputs).
_LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)
_FLUSH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
_WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
# A decision costs a fraction of a millisecond of CPU; waiting for the GIL can add tens.
_DECISION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)

STEP_SECONDS = Histogram(
    "tierline_step_seconds", "Duration of one pipeline step (one Celery task, or one tier-1 "
    "flush)", ["step", "tier"], buckets=_LATENCY_BUCKETS)
STEP_OUTCOMES = Counter(
    "tierline_steps_total", "Pipeline steps run, by how they ended", ["step", "tier", "state"])
CALL_SECONDS = Histogram(
    "tierline_provider_call_seconds", "Latency of one provider call", ["tier", "endpoint"],
    buckets=_LATENCY_BUCKETS)
CALLS = Counter(
    "tierline_provider_calls_total", "Provider calls by endpoint and outcome (ok, or the error "
    "kind)", ["tier", "endpoint", "outcome"])
ESCALATIONS = Counter(
    "tierline_escalations_total", "Jobs sent a tier up (or to review at the top), by the check "
    "that failed or `tier_unavailable`", ["from_tier", "to", "reason"])
TOKENS = Counter(
    "tierline_tokens_total", "Tokens billed, by tier, tenant and feature",
    ["tier", "tenant", "feature", "direction"])
COST = Counter(
    "tierline_cost_usd_total", "Spend in USD from the ledger's rows, by tier, tenant and feature",
    ["tier", "tenant", "feature"])
DECISION_SECONDS = Histogram(
    "tierline_router_decision_seconds", "Wall time of one routing decision in its worker, "
    "waits for the GIL included", buckets=_DECISION_BUCKETS)
DECISION_CPU_SECONDS = Histogram(
    "tierline_router_decision_cpu_seconds", "CPU time of the thread making one routing "
    "decision: what the router itself costs", buckets=_DECISION_BUCKETS)
FLUSH_SIZE = Histogram(
    "tierline_flush_size", "Messages per flush of a drain (route, validate, tier1, tier2, "
    "tier3)", ["drain"], buckets=_FLUSH_SIZE_BUCKETS)
FLUSH_WAIT = Histogram(
    "tierline_flush_wait_seconds", "Time a drain's message waited in the buffer before its "
    "flush", ["drain"], buckets=_WAIT_BUCKETS)


# Each metric's children by label values: `labels()` takes a lock and checks its arguments on
# every call, for a child that, once made, never changes.
_children: dict[tuple[Any, tuple[str, ...]], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    key = (metric, labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def _safe(what: str, exc: Exception) -> None:
    log.debug("metric %s not recorded: %r", what, exc)


def observe_step(step: str, tier: int | None, seconds: float, state: str) -> None:
    try:
        label = str(tier) if tier is not None else ""
        _child(STEP_SECONDS, step, label).observe(seconds)
        _child(STEP_OUTCOMES, step, label, state).inc()
    except Exception as exc:
        _safe("step", exc)


def observe_call(tier: int | str, endpoint: str, outcome: str, seconds: float) -> None:
    """One provider call (not an endpoint passed over for an open breaker)."""
    try:
        _child(CALLS, str(tier), endpoint, outcome).inc()
        _child(CALL_SECONDS, str(tier), endpoint).observe(seconds)
    except Exception as exc:
        _safe("call", exc)


def observe_spend(tier: int, tenant: str, feature: str, tokens_in: int, tokens_out: int,
                  cost_usd: Any) -> None:
    try:
        _child(TOKENS, str(tier), tenant, feature, "input").inc(tokens_in)
        _child(TOKENS, str(tier), tenant, feature, "output").inc(tokens_out)
        _child(COST, str(tier), tenant, feature).inc(float(cost_usd))
    except Exception as exc:
        _safe("spend", exc)


def observe_escalation(from_tier: int, to: str, reasons: Iterable[str]) -> None:
    """`to` is the next tier's number, or `review` when the top tier failed validation."""
    try:
        for reason in sorted(set(reasons)) or ["unknown"]:
            _child(ESCALATIONS, str(from_tier), to, reason).inc()
    except Exception as exc:
        _safe("escalation", exc)


def failed_checks(findings: Iterable[dict[str, Any]]) -> list[str]:
    """The checks whose strict finding failed: what an escalation is counted by."""
    return [f["check"] for f in findings if not f.get("passed") and f.get("strict", True)]


def observe_decision(latency_ms: float, cpu_ms: float) -> None:
    try:
        DECISION_SECONDS.observe(latency_ms / 1000)
        DECISION_CPU_SECONDS.observe(cpu_ms / 1000)
    except Exception as exc:
        _safe("decision", exc)


def observe_flush(drain: str, size: int, waits_s: Sequence[float]) -> None:
    try:
        _child(FLUSH_SIZE, drain).observe(size)
        wait_child = _child(FLUSH_WAIT, drain)
        for wait in waits_s:
            wait_child.observe(max(0.0, wait))
    except Exception as exc:
        _safe("flush", exc)


def observe_calls(tier: int, tenant: str, feature: str, records: Sequence[CallRecord],
                  kind: str = "") -> None:
    """The provider calls of one ledger write: latency and outcome per endpoint, tokens and
    cost per tier, tenant and feature. `kind` marks calls that are not attempts (`judge_`)."""
    for record in records:
        if not record.called:
            continue
        observe_call(tier, record.endpoint.label, f"{kind}{record.outcome}", record.latency_s)
        completion = record.completion
        if completion is not None:
            observe_spend(tier, tenant, feature, completion.input_tokens,
                          completion.output_tokens, record.cost)
