"""Provider clients keep an idle connection for every call a worker has in flight."""

from __future__ import annotations

from typing import Any

from tierline.config.settings import Settings
from tierline.config.tiers import load_tiers
from tierline.providers.factory import GROQ_MAX_CONNECTIONS, build_provider


def _keepalive(client: Any) -> int:
    pool = client._client._transport._pool
    return int(pool._max_keepalive_connections)


def test_groq_clients_keep_their_connections_past_twenty_calls_at_a_time() -> None:
    endpoint = next(e for e in load_tiers().endpoints() if e.provider == "groq")
    provider = build_provider(endpoint, "http://127.0.0.1:9")
    assert Settings().tier1_calls_in_flight <= GROQ_MAX_CONNECTIONS
    assert _keepalive(provider._client) == GROQ_MAX_CONNECTIONS  # type: ignore[union-attr]
    assert _keepalive(provider._aclient) == GROQ_MAX_CONNECTIONS  # type: ignore[union-attr]
