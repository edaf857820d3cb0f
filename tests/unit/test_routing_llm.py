"""The LLM router: the tier-1 model's label through the policy, and the fallback when it fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tierline.config.tiers import load_tiers
from tierline.jobs.models import JobSpec, TaskType
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.routing.llm import LLMRouter, parse_tier, routing_request
from tierline.routing.router import ClassifierRouter, load_model

JOB = JobSpec(task=TaskType.ANSWER, document="What is 2 + 2?")


def _answer(text: str) -> Completion:
    return Completion(text=text, input_tokens=10, output_tokens=1, latency_s=0.01,
                      model="m", provider="p")


@pytest.fixture
def classifier() -> ClassifierRouter:
    return ClassifierRouter(load_model())


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_the_models_label_goes_through_the_policy(classifier: ClassifierRouter) -> None:
    seen: list[CompletionRequest] = []

    def complete(request: CompletionRequest) -> Completion:
        seen.append(request)
        return _answer("2")

    router = LLMRouter(complete, classifier)
    decision = router.decide(JOB, load_tiers())
    router.close()
    assert decision.tier == 2
    assert decision.reasons[0] == "LLM router chose tier 2"
    assert decision.router_version.startswith("llm:")
    assert "What is 2 + 2?" in seen[0].messages[0].content


def test_a_failing_model_falls_back_to_the_classifier(classifier: ClassifierRouter) -> None:
    def complete(request: CompletionRequest) -> Completion:
        raise ConnectionError("provider down")

    router = LLMRouter(complete, classifier)
    decision = router.decide(JOB, load_tiers())
    router.close()
    assert "LLM router failed (ConnectionError: provider down)" in decision.reasons[0]
    assert decision.router_version == classifier.version
    assert decision.probabilities


def test_an_unparseable_answer_falls_back(classifier: ClassifierRouter) -> None:
    router = LLMRouter(lambda request: _answer("it depends"), classifier)
    decision = router.decide(JOB, load_tiers())
    router.close()
    assert "no tier" in decision.reasons[0]


def test_a_slow_model_falls_back_without_waiting_for_it(
    classifier: ClassifierRouter, release: threading.Event
) -> None:
    def complete(request: CompletionRequest) -> Completion:
        release.wait(5)
        return _answer("3")

    router = LLMRouter(complete, classifier, timeout_s=0.05)
    decision = router.decide(JOB, load_tiers())
    release.set()
    router.close()
    assert "took over 0.05s" in decision.reasons[0]
    assert decision.latency_ms < 1000


def test_parse_tier() -> None:
    assert parse_tier("3", 3) == 3
    assert parse_tier("Tier 1.", 3) == 1
    with pytest.raises(ValueError):
        parse_tier("4", 3)


def test_routing_request_is_short() -> None:
    request = routing_request(JobSpec(task=TaskType.SUMMARIZE, document="x" * 50_000))
    assert request.max_tokens <= 4
    assert len(request.messages[0].content) < 3000


def test_factory_builds_the_llm_router_with_an_injected_call() -> None:
    from tierline.config.settings import Settings
    from tierline.routing.factory import build_router

    router = build_router(Settings(router="llm"), load_tiers(), complete=lambda r: _answer("1"))
    assert isinstance(router, LLMRouter)
    decision = router.decide(JOB, load_tiers())
    router.close()
    assert decision.tier == 1


def test_a_decision_counts_its_wait_in_wall_time_but_not_in_cpu_time(
        classifier: ClassifierRouter) -> None:
    def complete(request: CompletionRequest) -> Completion:
        threading.Event().wait(0.2)  # the model's answer, not the router's work
        return _answer("1")

    router = LLMRouter(complete, classifier)
    decision = router.decide(JOB, load_tiers())
    router.close()
    assert decision.latency_ms >= 200
    assert 0 < decision.cpu_ms < 100
