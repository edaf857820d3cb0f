"""Each routing setting has one source: the routing policy file, for every router."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tierline.config.settings import Settings
from tierline.config.tiers import load_tiers
from tierline.jobs.models import JobContext, JobSpec, TaskType
from tierline.routing.factory import build_router
from tierline.routing.policy import DEFAULT_POLICY_FILE, NoEligibleTier
from tierline.routing.router import ClassifierRouter
from tierline.routing.rules import RulesRouter

POLICY = """
confidence_band = [0.3, 0.7]

[[business_rules]]
name = "auditors get the top tier"
roles = ["auditor"]
min_tier = 3

[tenant_hosts]
"*" = ["anthropic"]
"""


@pytest.fixture()
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def test_the_policy_files_band_reaches_the_classifier(policy_file: Path) -> None:
    router = build_router(Settings(routing_policy_file=policy_file), load_tiers())
    assert isinstance(router, ClassifierRouter)
    assert router.policy.confidence_band == (0.3, 0.7)


def test_the_band_is_no_longer_an_environment_setting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERLINE_CONFIDENCE_BAND", "[0.4, 0.6]")
    with pytest.raises(ValidationError, match="confidence_band in the routing policy file"):
        Settings()


def test_the_rules_router_applies_the_policy_files_business_rules(policy_file: Path) -> None:
    router = build_router(Settings(router="rules", routing_policy_file=policy_file),
                          load_tiers())
    assert isinstance(router, RulesRouter)
    job = JobSpec(task=TaskType.CLASSIFY, document="Is this invoice paid?",
                  labels=["paid", "unpaid"], context=JobContext(role="auditor"))
    decision = router.decide(job, load_tiers())
    assert decision.tier == 3
    assert "business rule 'auditors get the top tier': tier 3" in decision.reasons


def test_the_rules_router_keeps_sensitive_jobs_on_allowed_hosts(policy_file: Path) -> None:
    router = build_router(Settings(router="rules", routing_policy_file=policy_file),
                          load_tiers())
    assert isinstance(router, RulesRouter)
    job = JobSpec(task=TaskType.CLASSIFY, document="Is this invoice paid?",
                  labels=["paid", "unpaid"], context=JobContext(sensitive=True))
    # Tier 1 has no anthropic endpoint; tier 2 does.
    assert router.decide(job, load_tiers()).tier == 2
    nowhere = job.model_copy(update={"tenant": "acme"})
    strict = RulesRouter(router.policy.model_copy(update={"tenant_hosts": {"acme": ()}}))
    with pytest.raises(NoEligibleTier):
        strict.decide(nowhere, load_tiers())


def test_the_rules_router_reads_the_shipped_policy_by_default() -> None:
    router = build_router(Settings(router="rules"), load_tiers())
    assert isinstance(router, RulesRouter)
    assert [r.name for r in router.policy.business_rules] == [
        r.name for r in RulesRouter().policy.business_rules]
    assert DEFAULT_POLICY_FILE.read_text(encoding="utf-8").count("[[business_rules]]") == len(
        router.policy.business_rules)
