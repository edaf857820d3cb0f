"""One model call, whatever the provider: the request a model reads and the completion it gives
back. Providers implement calls of this shape (`providers.base.Provider`); the router's LLM
policy and the tasks make them."""

from __future__ import annotations

from dataclasses import dataclass, field

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
