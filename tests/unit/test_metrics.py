"""The fleet's metrics: what each record call counts, the fleet-wide gauges, the dashboard's
queries naming only metrics that exist, and the tier-1 drain's task events."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from celery_batches import SimpleRequest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from tierline.config.tiers import load_tiers
from tierline.prompts.completion import Completion
from tierline.providers.errors import CircuitOpen, ServerError
from tierline.routing.breaker import BreakerPolicy, BreakerState
from tierline.tasks import metrics
from tierline.tasks.calls import CallRecord
from tierline.tasks.fleet_metrics import FleetCollector
from tierline.workers.metrics_server import step_of

ROOT = Path(__file__).resolve().parents[2]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def completion(tokens_in: int, tokens_out: int) -> Completion:
    return Completion(text="{}", input_tokens=tokens_in, output_tokens=tokens_out,
                      latency_s=0.2, model="m", provider="groq")


def test_ledgered_calls_count_latency_outcomes_tokens_and_cost() -> None:
    endpoint = load_tiers().get(1).primary
    labels = {"tier": "1", "endpoint": endpoint.label}
    spend = {"tier": "1", "tenant": "acme-metrics", "feature": "invoices"}
    before = (sample("tierline_provider_calls_total", **labels, outcome="ok"),
              sample("tierline_provider_calls_total", **labels, outcome="ServerError"),
              sample("tierline_provider_call_seconds_count", **labels))
    answered = CallRecord(endpoint, completion(1000, 200), None, 0.2)
    failed = CallRecord(endpoint, None, ServerError("5xx"), 0.1)
    skipped = CallRecord(endpoint, None, CircuitOpen("open", endpoint="e", retry_after=1), 0.0)
    metrics.observe_calls(1, "acme-metrics", "invoices", [skipped, failed, answered])
    after = (sample("tierline_provider_calls_total", **labels, outcome="ok"),
             sample("tierline_provider_calls_total", **labels, outcome="ServerError"),
             sample("tierline_provider_call_seconds_count", **labels))
    # The endpoint passed over for its open breaker was not called: not counted.
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 2]
    assert sample("tierline_tokens_total", **spend, direction="input") == 1000
    assert sample("tierline_tokens_total", **spend, direction="output") == 200
    assert sample("tierline_cost_usd_total", **spend) == pytest.approx(float(answered.cost))


def test_escalations_are_counted_per_failed_strict_check() -> None:
    findings = [{"check": "grounding", "passed": False, "strict": True},
                {"check": "schema", "passed": True, "strict": True},
                {"check": "refusal", "passed": False, "strict": False}]
    assert metrics.failed_checks(findings) == ["grounding"]
    before = sample("tierline_escalations_total", from_tier="1", to="2", reason="grounding")
    metrics.observe_escalation(1, "2", metrics.failed_checks(findings))
    assert sample("tierline_escalations_total", from_tier="1", to="2",
                  reason="grounding") == before + 1


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("tierline.infer", ["job", 2], ("infer", 2)), ("tierline.infer_batch", [[]], ("infer_batch", None)),
    ("tierline.infer_batch", [[SimpleRequest("1", "n", ("job", 3, 0, 0.0), {}, {}, "h", True,
                                             None, None, None)]], ("infer_batch", 3)),
    ("tierline.route", ["job"], ("route", None)), ("tierline.infer", ["job"], ("infer", None))])
def test_steps_are_named_after_their_task_and_tier(name: str, args: list[Any],
                                                   expected: tuple[str, int | None]) -> None:
    assert step_of(name, args) == expected


def fleet_text(broken: str | None = None) -> str:
    def jobs() -> list[tuple[str, int | None, int]]:
        if broken == "database":
            raise ConnectionError("database down")
        return [("done", 1, 7), ("queued", None, 3)]

    def queues() -> list[tuple[str, int]]:
        return [("tier1", 12)]

    policy = BreakerPolicy(failures_to_open=2, open_for_s=30, probe_lease_s=60,
                           forget_after_s=600)

    def breakers() -> tuple[BreakerPolicy, dict[str, BreakerState]]:
        import time

        return policy, {"groq:a": BreakerState(failures=3, last_failure_at=time.time(),
                                                opened_at=time.time())}

    registry = CollectorRegistry()
    registry.register(FleetCollector(jobs, queues, breakers, [(1, "groq:a"), (2, "openai:b")]))
    return generate_latest(registry).decode()


def test_fleet_gauges_read_jobs_queues_and_breakers() -> None:
    text = fleet_text()
    assert 'tierline_jobs{status="done",tier="1"} 7.0' in text
    assert 'tierline_jobs{status="queued",tier=""} 3.0' in text
    assert 'tierline_queue_depth{queue="tier1"} 12.0' in text
    assert 'tierline_breaker_state{endpoint="groq:a",tier="1"} 2.0' in text
    assert 'tierline_breaker_state{endpoint="openai:b",tier="2"} 0.0' in text
    assert 'tierline_fleet_source_up{source="database"} 1.0' in text


def test_a_source_that_fails_leaves_the_others_and_says_so() -> None:
    text = fleet_text(broken="database")
    assert "tierline_jobs{" not in text
    assert 'tierline_queue_depth{queue="tier1"} 12.0' in text
    assert 'tierline_fleet_source_up{source="database"} 0.0' in text


def test_the_dashboard_queries_only_metrics_the_fleet_serves() -> None:
    served = set(re.findall(r"^# TYPE (\w+) (\w+)", generate_latest(REGISTRY).decode(), re.M))
    names = {name for name, _ in served}
    names |= {f"{n}_bucket" for n, kind in served if kind == "histogram"}
    names |= {f"{n}_{s}" for n, kind in served if kind == "histogram" for s in ("sum", "count")}
    names |= {f"{n}_total" for n, kind in served if kind == "counter"}
    names |= set(re.findall(r"^# TYPE (\w+)", fleet_text(), re.M))
    dashboard = json.loads((ROOT / "monitoring/grafana/tierline.json").read_text())
    queried = {m for panel in dashboard["panels"] for target in panel["targets"]
               for m in re.findall(r"\btierline_\w+", target["expr"])}
    assert queried and queried <= names, queried - names


def test_a_routing_decision_records_its_wall_and_cpu_time_apart() -> None:
    before = (sample("tierline_router_decision_seconds_count"),
              sample("tierline_router_decision_cpu_seconds_sum"),
              sample("tierline_router_decision_seconds_sum"))
    metrics.observe_decision(latency_ms=30.0, cpu_ms=0.5)
    assert sample("tierline_router_decision_seconds_count") == before[0] + 1
    assert sample("tierline_router_decision_cpu_seconds_sum") == pytest.approx(before[1] + 0.0005)
    assert sample("tierline_router_decision_seconds_sum") == pytest.approx(before[2] + 0.03)
