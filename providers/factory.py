"""Build a provider for an endpoint: the real host with its key, or the simulator.

With the simulator on, every SDK is pointed at the simulator's base URL and given a dummy key,
so the code path is the same one that runs against the real APIs.

The async clients (the tier-1 drain's) send over aiohttp, each SDK's own `DefaultAioHttpClient`
(its `aiohttp` extra): httpx's default async transport re-checks every pooled connection's
expiry on each request, which with a few hundred calls in flight cost the drain more CPU per
call than a thread pool's blocking calls (`bench/drain_vs_pool.py`). Timeouts, limits and
retries (off) are passed the same as to the sync clients, which keep httpx's transport. Every
client, sync and async, is the SDK's own with a `send` that goes straight to its transport
(`http_clients`): no auth flow, redirects, hooks or cookie jar, which the calls do not use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tierline.config.tiers import Endpoint
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.providers.anthropic_messages import AnthropicProvider
from tierline.providers.errors import AuthenticationFailed, ProviderError
from tierline.providers.http_clients import direct_aiohttp_client, direct_httpx_client
from tierline.providers.openai_like import GROQ_PATH, ChatCompletionsProvider

SIMULATOR_KEY = "simulated"
# Calls in flight from one process to one Groq endpoint, and idle connections kept for them.
GROQ_MAX_CONNECTIONS = 256


class UnavailableProvider:
    """Stands in for an endpoint that cannot be built (no key): every call fails permanently,
    so the fallback chain moves on and the ledger says why."""

    def __init__(self, endpoint: Endpoint, error: ProviderError) -> None:
        self.name = endpoint.host_name
        self.model = endpoint.model
        self.error = error

    def complete(self, request: CompletionRequest) -> Completion:
        raise self.error

    async def acomplete(self, request: CompletionRequest) -> Completion:
        raise self.error


Provider = ChatCompletionsProvider | AnthropicProvider | UnavailableProvider


def _api_key(endpoint: Endpoint, env: Mapping[str, str]) -> str:
    name = endpoint.api_key_env
    key = env.get(name) if name else None
    if not key:
        raise AuthenticationFailed(
            f"{endpoint.label}: no API key (set {name or 'api_key_env in the tiers file'}, "
            "or turn the simulator on)",
            endpoint=endpoint.label,
        )
    return key


def build_provider(
    endpoint: Endpoint,
    simulator_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Provider:
    """A provider for `endpoint`; `simulator_url` set means every call goes to the simulator."""
    environ = os.environ if env is None else env
    try:
        key = SIMULATOR_KEY if simulator_url else _api_key(endpoint, environ)
    except ProviderError as exc:
        return UnavailableProvider(endpoint, exc)
    common: dict[str, Any] = {"api_key": key, "max_retries": 0, "timeout": endpoint.timeout_s}
    # The SDKs take seconds to import: only the ones the tiers file names are loaded.
    if endpoint.provider == "anthropic":
        import anthropic

        base = simulator_url or endpoint.base_url
        return AnthropicProvider(
            endpoint,
            anthropic,
            anthropic.Anthropic(base_url=base, http_client=direct_httpx_client(anthropic)(),
                                **common),
            anthropic.AsyncAnthropic(base_url=base, http_client=direct_aiohttp_client(anthropic)(),
                                     **common),
        )
    if endpoint.provider == "groq":
        # The Groq SDK appends /openai/v1 itself; the simulator serves that prefix too.
        import groq
        import httpx

        base = simulator_url or endpoint.base_url
        # Groq's SDK keeps only 20 idle connections (OpenAI's and Anthropic's keep 100): past 20
        # calls at a time, every call would close its connection and the next would open one.
        limits = httpx.Limits(max_connections=GROQ_MAX_CONNECTIONS,
                              max_keepalive_connections=GROQ_MAX_CONNECTIONS)
        return ChatCompletionsProvider(
            endpoint, groq,
            groq.Groq(base_url=base, http_client=direct_httpx_client(groq)(limits=limits),
                      **common),
            groq.AsyncGroq(base_url=base,
                           http_client=direct_aiohttp_client(groq)(limits=limits), **common),
            GROQ_PATH,
        )
    import openai

    base = f"{simulator_url}/v1" if simulator_url else endpoint.base_url
    return ChatCompletionsProvider(
        endpoint, openai,
        openai.OpenAI(base_url=base, http_client=direct_httpx_client(openai)(), **common),
        openai.AsyncOpenAI(base_url=base, http_client=direct_aiohttp_client(openai)(), **common),
    )
