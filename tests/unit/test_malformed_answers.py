"""A 200 answer that cannot be used is a typed, retryable provider error from every adapter,
through the official SDKs, sync and async alike; it never escapes as anything else."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.sdk_endpoints import ENDPOINTS, REQUEST
from tierline.providers.errors import MalformedResponse
from tierline.providers.factory import UnavailableProvider, build_provider
from tierline.simulator import (
    FaultSpec,
    RunningSimulator,
)
from tierline.simulator.config import MALFORMED_KINDS


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.provider)
def test_an_unusable_answer_is_a_retryable_malformed_response(
        instant_sim: RunningSimulator, kind: str, endpoint: object) -> None:
    from tierline.config.tiers import Endpoint

    assert isinstance(endpoint, Endpoint)
    provider = build_provider(endpoint, instant_sim.url)
    assert not isinstance(provider, UnavailableProvider)
    instant_sim.set_faults({endpoint.model: FaultSpec(script=[kind, kind])}, replace=True)
    with pytest.raises(MalformedResponse) as sync_error:
        provider.complete(REQUEST)

    async def call_then_close() -> None:
        # The async client's connections are closed on the loop that opened them, as the
        # fleet's runtime does: left to the collector, their finalizers run at any later point.
        try:
            await provider.acomplete(REQUEST)
        finally:
            await provider.aclose()

    with pytest.raises(MalformedResponse) as async_error:
        asyncio.run(call_then_close())
    assert sync_error.value.retryable and async_error.value.retryable
    assert endpoint.label in str(sync_error.value)
    # The next call, with no fault scripted, is an ordinary answer.
    assert provider.complete(REQUEST).text.strip()
    assert instant_sim.stats()[endpoint.model][kind] == 2
