"""One typed settings object for the whole fleet, read from `TIERLINE_*` variables.

It is built once at the edge (CLI, worker start-up) and passed in; nothing deeper reads the
environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_HOME = Path(".tierline")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIERLINE_", extra="ignore")

    # No broker and no database configured means the embedded default: one process, a
    # filesystem transport and a SQLite file under `home`.
    broker_url: str | None = None
    database_url: str | None = None
    home: Path = EMBEDDED_HOME
    tiers_file: Path | None = None
    # With the simulator on, every endpoint is reached at `simulator_url` (started in-process
    # when that is empty) instead of its real host.
    simulator: bool = True
    simulator_url: str | None = None
    simulator_time_scale: float = Field(default=1.0, gt=0)

    router: Literal["rules", "classifier", "llm"] = "classifier"
    router_model: Path | None = None
    # The routing policy file: confidence band, quality bars, business rules, tenants' allowed
    # hosts, budgets (default: routing/policy.default.toml). Those live only there.
    routing_policy_file: Path | None = None
    # Gone: the band is `confidence_band` in the policy file. Refused when set, so that a
    # deployment still setting it learns where the band went instead of being ignored.
    confidence_band: None = Field(default=None, repr=False)

    @field_validator("confidence_band", mode="before")
    @classmethod
    def _band_lives_in_the_policy(cls, value: object) -> None:
        if value is not None:
            raise ValueError("TIERLINE_CONFIDENCE_BAND is no longer read: set confidence_band "
                             "in the routing policy file (TIERLINE_ROUTING_POLICY_FILE)")
        return None

    # Share of tier-1/2 outputs that a tier-1 model also judges against the input; per feature
    # overrides as JSON, e.g. TIERLINE_JUDGE_FRACTION_BY_FEATURE='{"contracts": 1.0}'.
    judge_fraction: float = Field(default=0.0, ge=0, le=1)
    judge_fraction_by_feature: dict[str, float] = Field(default_factory=dict)
    # A higher tier gave the answer a lower one gave, and the same checks rejected it again: the
    # validator is doubted, no further tier is paid for, and the job ends accepted with the flag
    # ("accept") or waiting for a person ("review"). See validation.disagreement.
    disagreement_policy: Literal["accept", "review"] = "accept"

    # Seconds a Redis-delivered message may stay unacknowledged before Redis hands it out
    # again. Short, so that a killed worker's messages come back within a minute; a live
    # worker's heartbeat (workers.heartbeat) keeps renewing the messages it holds, however
    # long their tasks take.
    visibility_timeout_s: int = Field(default=30, ge=5)
    # Database and broker outages are waited out this long (retries with backoff) before a
    # job is failed for them.
    outage_window_s: float = Field(default=120.0, ge=0)
    # A step of a job that started this many times without finishing (it crashed, or killed
    # its worker) is quarantined: the job fails with the reason.
    poison_deliveries: int = Field(default=5, ge=1)
    max_provider_retries: int = 3
    # Circuit breakers (routing.breaker): an endpoint that fails this many times in a row is
    # passed over for `breaker_open_s`, then probed with one call. Shared through Redis when the
    # broker is Redis, per process otherwise.
    breaker_failures_to_open: int = Field(default=5, ge=1)
    breaker_open_s: float = Field(default=30.0, gt=0)
    # Seconds a route process reuses a budget's spend before summing the ledger again: a bulk
    # batch costs one sum per budget per interval, not one per job (0: sum for every job).
    budget_refresh_s: float = Field(default=10.0, ge=0)
    # Celery's task events (worker side) and task-sent events (publisher side), which Flower
    # draws progress from; each costs a Redis publish per message and step.
    task_events: bool = True
    tier1_flush_interval_s: float = 0.1
    tier1_flush_every: int = 32
    # The route and validate steps work in sets: a flush every this long, or every N messages,
    # is one transaction for all its jobs (workers.set_steps). Their workers' prefetch must
    # cover a flush.
    step_flush_interval_s: float = 0.1
    route_flush_every: int = Field(default=64, ge=1)
    validate_flush_every: int = Field(default=64, ge=1)
    # Tier-1 calls in flight at once in one worker process, across its flushes: with more pool
    # threads than this over the flush size, a flush starts while an earlier one is still
    # waiting for its slowest call, so the calls in flight stay near this bound.
    tier1_calls_in_flight: int = Field(default=128, ge=1)
    # A worker that does not route runs its threads as SCHED_BATCH at this niceness, so that on
    # a busy machine the route worker is given a core first (workers.scheduling; 0: as equals).
    bulk_worker_niceness: int = Field(default=10, ge=0, le=19)
    # Each worker serves Prometheus metrics on this port (none: no endpoint), on this address.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_address: str = "0.0.0.0"

    def judge_fraction_for(self, feature: str) -> float:
        return self.judge_fraction_by_feature.get(feature, self.judge_fraction)

    @property
    def embedded(self) -> bool:
        return self.broker_url is None

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or "filesystem://localhost//"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'tierline.db').as_posix()}"
