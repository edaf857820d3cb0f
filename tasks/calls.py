"""Calling a tier: its endpoints in order until one answers (the fallback chain)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from jobs.tiers import Endpoint
from providers.base import Completion, CompletionRequest, Provider
from providers.errors import ProviderError
from providers.pricing import cost_usd


@dataclass(frozen=True)
class CallRecord:
    """One provider call, as the ledger stores it."""

    endpoint: Endpoint
    completion: Completion | None
    error: ProviderError | None
    latency_s: float

    @property
    def cost(self) -> Decimal:
        if self.completion is None:
            return Decimal(0)
        return cost_usd(self.endpoint, self.completion.input_tokens, self.completion.output_tokens)

    @property
    def outcome(self) -> str:
        return "ok" if self.error is None else type(self.error).__name__


def _failed(endpoint: Endpoint, exc: ProviderError, started: float) -> CallRecord:
    return CallRecord(endpoint, None, exc, time.perf_counter() - started)


def call_chain(
    chain: Sequence[tuple[Endpoint, Provider]], request: CompletionRequest
) -> list[CallRecord]:
    """Try each endpoint in order; stop at the first answer. Every call is returned."""
    records: list[CallRecord] = []
    for endpoint, provider in chain:
        started = time.perf_counter()
        try:
            completion = provider.complete(request)
        except ProviderError as exc:
            records.append(_failed(endpoint, exc, started))
            continue
        records.append(CallRecord(endpoint, completion, None, completion.latency_s))
        break
    return records


async def acall_chain(
    chain: Sequence[tuple[Endpoint, Provider]], request: CompletionRequest
) -> list[CallRecord]:
    """`call_chain` for an event loop, so a batch of jobs waits on the network together."""
    records: list[CallRecord] = []
    for endpoint, provider in chain:
        started = time.perf_counter()
        try:
            completion = await provider.acomplete(request)
        except ProviderError as exc:
            records.append(_failed(endpoint, exc, started))
            continue
        records.append(CallRecord(endpoint, completion, None, completion.latency_s))
        break
    return records
