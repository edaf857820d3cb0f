"""The tiers file: per tier, an ordered chain of pinned endpoints with their prices and limits.

Tiers, endpoints, prices and timeouts are configuration, never code: this module only reads and
checks the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ProviderKind = Literal["groq", "anthropic", "openai", "openai_compatible"]

DEFAULT_TIERS_FILE = Path(__file__).with_name("tiers.default.toml")

# The fleet has exactly this many tiers, and every tier number is checked against it. One queue
# and one worker service per tier, the LLM router's prompt, the replay data's strong model and
# the jobs' default ceiling are written for three; a tiers file with any other count is refused
# at load, rather than served by half of the fleet.
TIER_COUNT = 3
TIER_NUMBERS = tuple(range(1, TIER_COUNT + 1))


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderKind
    model: str = Field(description="pinned model id, including its version or date")
    price_in: float = Field(ge=0, description="USD per million input tokens")
    price_out: float = Field(ge=0, description="USD per million output tokens")
    context_window: int = Field(gt=0)
    timeout_s: float = Field(default=30.0, gt=0)
    max_output_tokens: int = Field(default=1024, gt=0)
    base_url: str | None = None
    api_key_env: str | None = None
    # Providers that may see documents marked sensitive are listed per tenant; this names the host.
    host: str | None = None
    # The provider's limits for this key, kept fleet-wide (routing.limiter): requests and
    # tokens per minute, and calls in flight at once. None: unlimited.
    rpm: int | None = Field(default=None, gt=0)
    tpm: int | None = Field(default=None, gt=0)
    max_in_flight: int | None = Field(default=None, gt=0)
    # A call over a limit waits for its turn, or goes to the next endpoint of the chain
    # ("next"; the last endpoint of a chain always waits).
    when_limited: Literal["wait", "next"] = "wait"

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}"

    @property
    def host_name(self) -> str:
        return self.host or self.provider


class ShadowCandidate(Endpoint):
    """A model version tried on a sample of the tier's live traffic; its answers are only
    recorded (table `shadow_results`), never used."""

    # Share of the tier's attempts answered by its pinned model that the candidate also answers.
    fraction: float = Field(ge=0, le=1)


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: int = Field(ge=1)  # the count and the numbering are checked by TiersConfig
    name: str
    endpoints: tuple[Endpoint, ...] = Field(min_length=1)
    shadows: tuple[ShadowCandidate, ...] = ()

    @model_validator(mode="after")
    def _distinct_shadows(self) -> Tier:
        labels = [s.label for s in self.shadows]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"tier {self.tier} names shadow candidate(s) twice: {duplicates}")
        # Shadowing the pinned model against itself measures nothing but noise.
        if self.primary.label in labels:
            raise ValueError(f"tier {self.tier}'s shadow candidate {self.primary.label} is the "
                             "tier's pinned model itself")
        return self

    def shadow(self, label: str) -> ShadowCandidate | None:
        return next((s for s in self.shadows if s.label == label), None)

    @property
    def context_window(self) -> int:
        """The smallest window in the chain: a job must fit every endpoint it may fall back to."""
        return min(e.context_window for e in self.endpoints)

    @property
    def primary(self) -> Endpoint:
        return self.endpoints[0]


class TiersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: tuple[Tier, ...]

    @model_validator(mode="after")
    def _one_to_three(self) -> TiersConfig:
        numbers = [t.tier for t in self.tiers]
        if sorted(numbers) != list(TIER_NUMBERS):
            raise ValueError(f"the fleet has exactly {TIER_COUNT} tiers, numbered "
                             f"{', '.join(map(str, TIER_NUMBERS))} once each; this file has "
                             f"{numbers or 'none'}")
        return self

    @property
    def top(self) -> int:
        return len(self.tiers)

    def get(self, tier: int) -> Tier:
        return self.tiers[tier - 1]

    def endpoints(self) -> list[Endpoint]:
        return [e for t in self.tiers for e in t.endpoints]


class TiersFileError(ValueError):
    pass


def load_tiers(path: Path | str | None = None) -> TiersConfig:
    """Read and check a tiers file (TOML); the shipped default when `path` is None."""
    source = Path(path) if path else DEFAULT_TIERS_FILE
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
        return TiersConfig.model_validate(raw)
    except FileNotFoundError:
        raise TiersFileError(f"tiers file not found: {source}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TiersFileError(f"tiers file {source} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise TiersFileError(f"tiers file {source} is invalid:\n{exc}") from None
