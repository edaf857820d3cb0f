"""Provider clients keep an idle connection for every call a worker has in flight; the async
clients (the tier-1 drain's) send over aiohttp and close their connections on their own loop."""

from __future__ import annotations

from typing import Any

import pytest

from tierline.config.settings import Settings
from tierline.config.tiers import load_tiers
from tierline.jobs.models import Message
from tierline.prompts.completion import CompletionRequest
from tierline.providers.factory import GROQ_MAX_CONNECTIONS, build_provider
from tierline.simulator import RunningSimulator
from tierline.tasks.asyncloop import BackgroundLoop

TIERS = load_tiers(None)
# One endpoint per SDK: Groq's, Anthropic's, OpenAI's.
ENDPOINTS = [TIERS.get(1).endpoints[0], TIERS.get(2).endpoints[0], TIERS.get(2).endpoints[1]]
REQUEST = CompletionRequest(system="Answer briefly.",
                            messages=[Message(role="user", content="What is 2 + 2?")])


def _keepalive(client: Any) -> int:
    pool = client._client._transport._pool
    return int(pool._max_keepalive_connections)


def _async_transport(provider: Any) -> Any:
    """The async client's transport: httpx-aiohttp's, or the copy an SDK ships of it."""
    transport = provider._aclient._client._transport
    assert type(transport).__name__ == "AiohttpTransport"
    return transport


def test_groq_clients_keep_their_connections_past_twenty_calls_at_a_time() -> None:
    endpoint = next(e for e in TIERS.endpoints() if e.provider == "groq")
    provider = build_provider(endpoint, "http://127.0.0.1:9")
    assert Settings().tier1_calls_in_flight <= GROQ_MAX_CONNECTIONS
    assert _keepalive(provider._client) == GROQ_MAX_CONNECTIONS  # type: ignore[union-attr]
    # aiohttp keeps every idle connection up to its limit: the limit is the pool.
    assert _async_transport(provider).limits.max_connections == GROQ_MAX_CONNECTIONS


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.provider)
def test_async_clients_answer_over_aiohttp_and_close_on_their_loop(
        instant_sim: RunningSimulator, endpoint: Any) -> None:
    provider: Any = build_provider(endpoint, instant_sim.url)
    _async_transport(provider)
    loop = BackgroundLoop()
    try:
        assert loop.run(provider.acomplete(REQUEST)).text.strip()
        session = _async_transport(provider).client
        assert not session.closed
        loop.run(provider.aclose())
        assert session.closed
    finally:
        loop.stop()
