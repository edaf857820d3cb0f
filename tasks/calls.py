"""Calling a tier: its endpoints in order until one answers (the fallback chain), passing over
those whose circuit breaker is open, and keeping each endpoint's rate limits (`routing.limiter`):
a call over a limit waits its turn, or goes to the next endpoint when the tiers file says so."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tierline.config.tiers import Endpoint
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.providers.base import Provider
from tierline.providers.errors import CircuitOpen, ProviderError, Throttled, UnexpectedFailure
from tierline.providers.pricing import cost_usd
from tierline.routing.limiter import Admission, Limiter, estimated_tokens


class BreakerGate(Protocol):
    """What a call chain asks of the circuit breakers (`routing.breaker.Breakers`, or one
    flush's view of them, `tasks.flush_breakers`): may it call an endpoint, and how did it go."""

    def admit(self, endpoint: str) -> float: ...

    def record(self, endpoint: str, ok: bool) -> None: ...


# The longest a call waits for its turn under a rate limit before the tier counts as failed
# (retryably: the job tries again later).
MAX_LIMIT_WAIT_S = 60.0


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
        """False for an endpoint passed over (its breaker open, or its rate limit reached):
        no call, no ledger row."""
        return not isinstance(self.error, CircuitOpen | Throttled)


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


def _admitted(breakers: BreakerGate | None, endpoint: Endpoint, records: list[CallRecord]) -> bool:
    wait = breakers.admit(endpoint.label) if breakers is not None else 0.0
    if wait > 0:
        records.append(_passed_over(endpoint, wait))
    return wait <= 0


def _add(breakers: BreakerGate | None, records: list[CallRecord], record: CallRecord) -> None:
    """Keep the call's record and report it to its endpoint's breaker. A permanent error (a
    request refused) is an answer from a working host, as far as the breaker is concerned."""
    records.append(record)
    if breakers is not None:
        breakers.record(record.endpoint.label, record.error is None or not record.error.retryable)


def _tokens(endpoint: Endpoint, request: CompletionRequest) -> int:
    texts = [request.system, *(m.content for m in request.messages)]
    return estimated_tokens(texts, min(request.max_tokens, endpoint.max_output_tokens))


def _limited(endpoint: Endpoint, admission: Admission, waited: float, last: bool
             ) -> CallRecord | None:
    """Over the limit: the record of passing the endpoint over, or None to wait and ask again."""
    if (endpoint.when_limited == "next" and not last) or waited >= MAX_LIMIT_WAIT_S:
        error = Throttled(f"{endpoint.label}: rate limit reached, next turn in "
                          f"{admission.wait_s:.1f} s", endpoint=endpoint.label,
                          retry_after=admission.wait_s)
        return CallRecord(endpoint, None, error, 0.0)
    return None


def call_chain(
    chain: Sequence[tuple[Endpoint, Provider]], request: CompletionRequest,
    breakers: BreakerGate | None = None, limiter: Limiter | None = None,
) -> list[CallRecord]:
    """Try each endpoint in order; stop at the first answer. Every call is returned, and each
    endpoint passed over (breaker open, rate limit reached)."""
    records: list[CallRecord] = []
    for position, (endpoint, provider) in enumerate(chain):
        if not _admitted(breakers, endpoint, records):
            continue
        lease: str | None = None
        if limiter is not None:
            waited = 0.0
            while not (admission := limiter.acquire(endpoint, _tokens(endpoint, request))
                       ).admitted:
                passed = _limited(endpoint, admission, waited, position == len(chain) - 1)
                if passed is not None:
                    records.append(passed)
                    break
                pause = min(admission.wait_s, MAX_LIMIT_WAIT_S - waited)
                time.sleep(pause)
                waited += pause
            else:
                lease = admission.lease
            if not admission.admitted:
                continue
        started = time.perf_counter()
        try:
            completion = provider.complete(request)
        except Exception as exc:
            _add(breakers, records, _failed(endpoint, exc, started))
            continue
        finally:
            if limiter is not None and lease is not None:
                limiter.release(endpoint, lease)
        _add(breakers, records, CallRecord(endpoint, completion, None, completion.latency_s))
        break
    return records


async def acall_chain(
    chain: Sequence[tuple[Endpoint, Provider]], request: CompletionRequest,
    breakers: BreakerGate | None = None, limiter: Limiter | None = None,
) -> list[CallRecord]:
    """`call_chain` for an event loop, so a batch of jobs waits on the network together.

    The breakers and the limiter are asked synchronously: one Redis round trip on the local
    network, short next to the call it guards; waiting for a turn is asynchronous.
    """
    records: list[CallRecord] = []
    for position, (endpoint, provider) in enumerate(chain):
        if not _admitted(breakers, endpoint, records):
            continue
        lease: str | None = None
        if limiter is not None:
            waited = 0.0
            while not (admission := limiter.acquire(endpoint, _tokens(endpoint, request))
                       ).admitted:
                passed = _limited(endpoint, admission, waited, position == len(chain) - 1)
                if passed is not None:
                    records.append(passed)
                    break
                pause = min(admission.wait_s, MAX_LIMIT_WAIT_S - waited)
                await asyncio.sleep(pause)
                waited += pause
            else:
                lease = admission.lease
            if not admission.admitted:
                continue
        started = time.perf_counter()
        try:
            completion = await provider.acomplete(request)
        except Exception as exc:
            _add(breakers, records, _failed(endpoint, exc, started))
            continue
        finally:
            if limiter is not None and lease is not None:
                limiter.release(endpoint, lease)
        _add(breakers, records, CallRecord(endpoint, completion, None, completion.latency_s))
        break
    return records
