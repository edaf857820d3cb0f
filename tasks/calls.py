"""Calling a tier: its endpoints in order until one answers (the fallback chain), passing over
those whose circuit breaker is open."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from jobs.tiers import Endpoint
from providers.base import Completion, CompletionRequest, Provider
from providers.errors import CircuitOpen, ProviderError, UnexpectedFailure
from providers.pricing import cost_usd
from routing.breaker import Breakers


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

    @property
    def called(self) -> bool:
        """False for an endpoint passed over because its breaker is open: no call, no ledger."""
        return not isinstance(self.error, CircuitOpen)


def _failed(endpoint: Endpoint, exc: Exception, started: float) -> CallRecord:
    """The call's failure as a provider error; anything else an adapter let through becomes
    an `UnexpectedFailure` of this call, never the caller's crash."""
    error = exc if isinstance(exc, ProviderError) else UnexpectedFailure(
        f"{endpoint.label}: {type(exc).__name__}: {exc}", endpoint=endpoint.label)
    return CallRecord(endpoint, None, error, time.perf_counter() - started)


def _passed_over(endpoint: Endpoint, wait_s: float) -> CallRecord:
    error = CircuitOpen(f"{endpoint.label}: circuit open, next try in {wait_s:.0f} s",
                        endpoint=endpoint.label, retry_after=wait_s)
    return CallRecord(endpoint, None, error, 0.0)


def _admitted(breakers: Breakers | None, endpoint: Endpoint, records: list[CallRecord]) -> bool:
    wait = breakers.admit(endpoint.label) if breakers is not None else 0.0
    if wait > 0:
        records.append(_passed_over(endpoint, wait))
    return wait <= 0


def _add(breakers: Breakers | None, records: list[CallRecord], record: CallRecord) -> None:
    """Keep the call's record and report it to its endpoint's breaker. A permanent error (a
    request refused) is an answer from a working host, as far as the breaker is concerned."""
    records.append(record)
    if breakers is not None:
        breakers.record(record.endpoint.label, record.error is None or not record.error.retryable)


def call_chain(
    chain: Sequence[tuple[Endpoint, Provider]], request: CompletionRequest,
    breakers: Breakers | None = None,
) -> list[CallRecord]:
    """Try each endpoint in order; stop at the first answer. Every call is returned, and each
    endpoint passed over for an open breaker."""
    records: list[CallRecord] = []
    for endpoint, provider in chain:
        if not _admitted(breakers, endpoint, records):
            continue
        started = time.perf_counter()
        try:
            completion = provider.complete(request)
        except Exception as exc:
            _add(breakers, records, _failed(endpoint, exc, started))
            continue
        _add(breakers, records, CallRecord(endpoint, completion, None, completion.latency_s))
        break
    return records


async def acall_chain(
    chain: Sequence[tuple[Endpoint, Provider]], request: CompletionRequest,
    breakers: Breakers | None = None,
) -> list[CallRecord]:
    """`call_chain` for an event loop, so a batch of jobs waits on the network together.

    The breakers are asked synchronously: one Redis round trip on the local network, short next
    to the call it guards.
    """
    records: list[CallRecord] = []
    for endpoint, provider in chain:
        if not _admitted(breakers, endpoint, records):
            continue
        started = time.perf_counter()
        try:
            completion = await provider.acomplete(request)
        except Exception as exc:
            _add(breakers, records, _failed(endpoint, exc, started))
            continue
        _add(breakers, records, CallRecord(endpoint, completion, None, completion.latency_s))
        break
    return records
