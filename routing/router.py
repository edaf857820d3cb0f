"""The classifier router: features -> per-tier probabilities -> policy -> decision."""

from __future__ import annotations

from pathlib import Path

from tierline.config.tiers import TiersConfig
from tierline.jobs.models import JobSpec
from tierline.routing.base import Decision, Stopwatch
from tierline.routing.classifier import RouterModel, fill_tiers
from tierline.routing.features import Features, extract
from tierline.routing.policy import PolicyConfig, apply_policy

MODELS_DIR = Path(__file__).with_name("models")
DEFAULT_MODEL_VERSION = "router-v1"


def model_path(version: str = DEFAULT_MODEL_VERSION) -> Path:
    """Where the shipped model of `version` lives (routing/models/VERSION.json)."""
    return MODELS_DIR / f"{version}.json"


def load_model(path: Path | str | None = None) -> RouterModel:
    """A model file by path, or by shipped version name ("router-v1"); the default if None."""
    if path is None:
        return RouterModel.load(model_path())
    candidate = Path(path)
    if not candidate.suffix and not candidate.exists():
        candidate = model_path(str(path))
    return RouterModel.load(candidate)


def decide_with(
    job: JobSpec,
    features: Features,
    probabilities: dict[int, float],
    tiers: TiersConfig,
    policy: PolicyConfig,
    version: str,
    started: Stopwatch,
    reasons_before: tuple[str, ...] = (),
) -> Decision:
    """The policy's decision on given probabilities, timed from `started`."""
    result = apply_policy(job, features, probabilities, tiers, policy)
    return Decision(
        tier=result.tier,
        probabilities={t: round(p, 4) for t, p in probabilities.items()},
        confidence=round(probabilities.get(result.tier, 0.0), 4),
        reasons=reasons_before + result.reasons,
        router_version=version,
        latency_ms=started.wall_ms(),
        cpu_ms=started.cpu_ms(),
    )


class ClassifierRouter:
    """Routes with a trained `RouterModel`; its version names the model file it was built on."""

    def __init__(self, model: RouterModel, policy: PolicyConfig | None = None) -> None:
        self.model = model
        self.policy = policy or PolicyConfig()
        self.version = f"classifier:{model.version}"

    def probabilities(
        self, job: JobSpec, tiers: TiersConfig
    ) -> tuple[Features, dict[int, float], tuple[str, ...]]:
        """Features, P(good) per tier, and a reason when they are not the model's own."""
        features = extract(job)
        prior = self.policy.task_priors.get(job.task)
        if prior and not self.model.knows_task(features.task):
            probabilities = fill_tiers({t: p for t, p in prior.items() if t <= tiers.top},
                                       tiers.top)
            return features, probabilities, (
                f"model {self.model.version} has no {features.task} jobs: task prior",)
        return features, self.model.probabilities(features, top=tiers.top, prior=prior), ()

    def score(self, job: JobSpec) -> float:
        """How much `job` needs the strong model (for offline evaluation)."""
        return self.model.score(extract(job))

    def decide(self, job: JobSpec, tiers: TiersConfig) -> Decision:
        started = Stopwatch.start()
        features, probabilities, why = self.probabilities(job, tiers)
        return decide_with(job, features, probabilities, tiers, self.policy, self.version,
                           started, why)
