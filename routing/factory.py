"""Build the router named in the settings; the one place that turns configuration into a router."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tierline.config.settings import Settings
from tierline.config.tiers import TiersConfig
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.routing.base import Router
from tierline.routing.llm import LLMRouter
from tierline.routing.policy import PolicyConfig, load_policy
from tierline.routing.router import ClassifierRouter, load_model
from tierline.routing.rules import RulesRouter


def build_router(
    settings: Settings,
    tiers: TiersConfig,
    complete: Callable[[CompletionRequest], Completion] | None = None,
    policy: PolicyConfig | Path | str | None = None,
) -> Router:
    """`settings.router`: "rules", "classifier" (model `settings.router_model`, a path or a
    shipped version name, default router-v1) or "llm" (needs `complete`, a tier-1 call; the
    classifier is its fallback). `policy` is a PolicyConfig or a policy file, else
    `settings.routing_policy_file`, else the shipped default: every router reads it, and it is
    the one source of the routing settings. `tiers` is not read yet (routers get the tiers with
    each decision); it is part of the builder's contract."""
    config = policy if isinstance(policy, PolicyConfig) else load_policy(
        policy or settings.routing_policy_file)
    if settings.router == "rules":
        return RulesRouter(config)
    classifier = ClassifierRouter(load_model(settings.router_model), config)
    if settings.router == "llm":
        if complete is None:
            raise ValueError("the llm router needs a `complete` callable for the tier-1 model")
        return LLMRouter(complete, classifier)
    return classifier
