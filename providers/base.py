"""The provider contract: `complete(request) -> Completion`, nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tierline.jobs.models import Message


@dataclass(frozen=True)
class CompletionRequest:
    system: str
    messages: list[Message]
    max_tokens: int = 1024
    temperature: float = 0.0
    # Free-form labels carried to the provider for tracing (job id, attempt).
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    latency_s: float
    model: str
    provider: str
    finish_reason: str = "stop"


class Provider(Protocol):
    """Anything that can answer a request; adapters raise `providers.errors` types only.

    `acomplete` is the same call for an event loop: the tier-1 drain sends a whole batch at once.
    """

    name: str
    model: str

    def complete(self, request: CompletionRequest) -> Completion: ...

    async def acomplete(self, request: CompletionRequest) -> Completion: ...
