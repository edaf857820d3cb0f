"""The simulator's settings: one typed object, passed in (never read from the environment)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

# A 200 whose body no client can use: what a proxy, a truncated stream or a provider bug returns.
MALFORMED_KINDS = ("empty_choices", "empty_content", "truncated_json", "html_page")
FAULT_KINDS = ("rate_limit", "server_error", "unavailable", "overloaded", "timeout", "give_up",
               *MALFORMED_KINDS, "hang")


class FaultSpec(BaseModel):
    """Injected failures for one model: per-call probabilities, and an optional fixed script.

    `script` is consumed first, one entry per call ("ok" or a fault kind); after it runs out,
    each call draws once from a seeded rng against the rates, so runs repeat exactly.
    """

    model_config = ConfigDict(extra="forbid")

    rate_limit: float = Field(default=0.0, ge=0, le=1, description="429 with Retry-After")
    server_error: float = Field(default=0.0, ge=0, le=1, description="500")
    unavailable: float = Field(default=0.0, ge=0, le=1, description="503")
    overloaded: float = Field(default=0.0, ge=0, le=1, description="529 (Anthropic) / 503")
    timeout: float = Field(default=0.0, ge=0, le=1, description="hang past the client timeout")
    # A quality fault, not a transport one: a normal 200 answer that only says "I don't know".
    give_up: float = Field(default=0.0, ge=0, le=1, description="answer 'I don't know.'")
    empty_choices: float = Field(default=0.0, ge=0, le=1, description="200 with no choices")
    empty_content: float = Field(default=0.0, ge=0, le=1, description="200 with empty text")
    truncated_json: float = Field(default=0.0, ge=0, le=1, description="200, body cut short")
    html_page: float = Field(default=0.0, ge=0, le=1, description="200 with an HTML page")
    # A slow answer, not a failure: the call waits hang_s (real seconds) and then answers,
    # unless the client gives up first.
    hang: float = Field(default=0.0, ge=0, le=1, description="answer after hang_s")
    script: list[str] = Field(default_factory=list)
    retry_after_s: float = Field(default=1.0, ge=0, description="scaled by time_scale")
    # How long a "timeout" hangs, in real seconds (not scaled), unless the client gives up first.
    hang_s: float = Field(default=30.0, gt=0)

    @field_validator("script")
    @classmethod
    def _known_steps(cls, script: list[str]) -> list[str]:
        unknown = [step for step in script if step != "ok" and step not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown script steps {unknown}; use 'ok' or one of {FAULT_KINDS}")
        return script


class SimulatorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Multiplies every latency and Retry-After (tests use 0.01; 1.0 is real-time).
    time_scale: float = Field(default=1.0, ge=0)
    seed: int = 0
    # Per model id; the key "*" applies to models without an entry of their own.
    faults: dict[str, FaultSpec] = Field(default_factory=dict)
    # Used when a request sets no max_tokens (OpenAI makes it optional).
    default_max_tokens: int = Field(default=4096, gt=0)
    # Without an API key header a request gets 401, as from the real services.
    require_api_key: bool = True


def load_faults(path: Path | str) -> dict[str, FaultSpec]:
    """A faults file (JSON, or TOML by suffix): a table of model id -> FaultSpec fields."""
    source = Path(path)
    text = source.read_text(encoding="utf-8")
    raw = tomllib.loads(text) if source.suffix == ".toml" else json.loads(text)
    table = raw.get("faults", raw)
    return {model: FaultSpec.model_validate(spec) for model, spec in table.items()}
