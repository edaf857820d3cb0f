"""The SDK clients' `send` goes straight to the transport (no auth flow, redirects, hooks or
cookie jar), and a call still times out, fails and releases its connection as through httpx's,
sync and async alike."""

from __future__ import annotations

import asyncio
import json
import socketserver
import threading
from typing import Any

import httpx
import pytest

from tests.unit.sdk_endpoints import ENDPOINTS, REQUEST
from tierline.config.tiers import Endpoint
from tierline.providers.errors import (
    ConnectionFailed,
    MalformedResponse,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ServerError,
)
from tierline.providers.factory import build_provider
from tierline.providers.http_clients import (
    direct_aiohttp_client,
    direct_httpx_client,
    http_library,
)
from tierline.simulator import FaultSpec, RunningSimulator

GROQ = ENDPOINTS[0]
MODES = ["sync", "async"]
CHAT_ANSWER = {"id": "c1", "object": "chat.completion", "created": 0, "model": "m",
               "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "4"}}],
               "usage": {"prompt_tokens": 3, "completion_tokens": 1}}


def _provider(endpoint: Endpoint, url: str, mode: str = "async", **http: Any) -> Any:
    """The factory's provider; with `http`, the `mode` client on a direct client built from it."""
    provider: Any = build_provider(endpoint, url)
    if mode == "sync" and http:
        provider._client = provider._client.with_options(
            http_client=direct_httpx_client(provider._sdk)(**http))
    elif http:
        provider._aclient = provider._aclient.with_options(
            http_client=direct_aiohttp_client(provider._sdk)(**http))
    return provider


def _library(endpoint: Endpoint) -> Any:
    """httpx or httpx2: the library the endpoint's SDK is on."""
    provider: Any = build_provider(endpoint, "http://127.0.0.1:9")
    return http_library(type(provider._aclient._client))


def _call(provider: Any, mode: str) -> Any:
    if mode == "sync":
        return provider.complete(REQUEST)
    return asyncio.run(provider.acomplete(REQUEST))


async def _async_outcomes(provider: Any, calls: int) -> list[str]:
    outcomes = []
    for _ in range(calls):
        try:
            await provider.acomplete(REQUEST)
            outcomes.append("ok")
        except ProviderError as exc:
            outcomes.append(type(exc).__name__)
    await provider.aclose()
    return outcomes


def _outcomes(provider: Any, mode: str, calls: int) -> list[str]:
    """What each of `calls` calls in a row came to; the async ones on one event loop, as the
    aiohttp session belongs to the loop that opened it."""
    if mode == "async":
        return asyncio.run(_async_outcomes(provider, calls))
    outcomes = []
    for _ in range(calls):
        try:
            provider.complete(REQUEST)
            outcomes.append("ok")
        except ProviderError as exc:
            outcomes.append(type(exc).__name__)
    return outcomes


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.provider)
def test_calls_over_a_pool_of_one_connection_each_give_it_back(
        instant_sim: RunningSimulator, endpoint: Endpoint, mode: str) -> None:
    # A call that kept its connection would leave the next one waiting out its timeout.
    quick = endpoint.model_copy(update={"timeout_s": 5.0})
    one = _library(endpoint).Limits(max_connections=1, max_keepalive_connections=1)
    provider = _provider(quick, instant_sim.url, mode, limits=one)
    script = ["ok", "server_error", "ok", "rate_limit", "truncated_json", "html_page", "ok"]
    instant_sim.set_faults({endpoint.model: FaultSpec(script=script, retry_after_s=0)},
                           replace=True)
    outcomes = _outcomes(provider, mode, len(script) + 13)
    assert outcomes == ["ok", ServerError.__name__, "ok", RateLimited.__name__,
                        MalformedResponse.__name__, MalformedResponse.__name__] + ["ok"] * 14


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.provider)
def test_a_call_past_its_timeout_is_the_sdks_timeout(
        instant_sim: RunningSimulator, endpoint: Endpoint, mode: str) -> None:
    provider: Any = build_provider(endpoint.model_copy(update={"timeout_s": 0.3}), instant_sim.url)
    instant_sim.set_faults({endpoint.model: FaultSpec(script=["hang"], hang_s=5.0)}, replace=True)
    with pytest.raises(ProviderTimeout) as error:
        _call(provider, mode)
    assert isinstance(error.value.__cause__, provider._sdk.APITimeoutError)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.provider)
def test_a_host_that_refuses_the_connection_fails_as_through_the_sdks_own_client(
        endpoint: Endpoint, mode: str) -> None:
    direct: Any = build_provider(endpoint, "http://127.0.0.1:9")
    stock: Any = build_provider(endpoint, "http://127.0.0.1:9")
    stock._client = stock._client.with_options(http_client=stock._sdk.DefaultHttpxClient())
    stock._aclient = stock._aclient.with_options(http_client=stock._sdk.DefaultAioHttpClient())
    errors = []
    for provider in (direct, stock):
        with pytest.raises(ProviderError) as error:
            _call(provider, mode)
        cause = error.value.__cause__
        errors.append((type(error.value), type(cause), type(cause.__cause__ if cause else None)))
    assert errors[0] == errors[1]
    assert issubclass(errors[0][1], direct._sdk.APIConnectionError)
    assert errors[0][0] is ConnectionFailed  # never reached the provider: not a timeout


class _ClosesKeptConnections(socketserver.BaseRequestHandler):
    """Answers a connection's first request, keeping it open, and closes it unanswered when the
    next request comes: a kept connection the server had closed by the time it was reused."""

    def handle(self) -> None:
        body = json.dumps(CHAT_ANSWER).encode()
        self._read_request()
        self.request.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n%s" % (len(body), body))
        self.request.recv(1)  # the next request's first byte: close with it unanswered

    def _read_request(self) -> None:
        """The whole first request, its body included (a client may send them apart)."""
        data = b""
        while b"\r\n\r\n" not in data:
            data += self.request.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(body) < length:
            body += self.request.recv(65536)


@pytest.mark.parametrize("mode", MODES)
def test_a_kept_connection_the_server_closed_fails_as_a_connection_not_a_timeout(
        mode: str) -> None:
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ClosesKeptConnections) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        provider: Any = build_provider(GROQ, f"http://127.0.0.1:{server.server_address[1]}")

        async def twice() -> None:
            await provider.acomplete(REQUEST)
            await provider.acomplete(REQUEST)

        with pytest.raises(ConnectionFailed):
            if mode == "sync":
                provider.complete(REQUEST)
                provider.complete(REQUEST)
            else:
                asyncio.run(twice())
        server.shutdown()


def _scripted_groq(mode: str, answer: Any, **kwargs: Any) -> Any:
    """The Groq provider on a direct client whose transport answers with `answer(request)`
    (httpx's MockTransport: Groq's SDK is on httpx)."""
    if mode == "sync":
        transport = httpx.MockTransport(answer)
    else:
        async def handler(request: httpx.Request) -> httpx.Response:
            return answer(request)  # type: ignore[no-any-return]

        transport = httpx.MockTransport(handler)
    return _provider(GROQ, "http://sim.test", mode, transport=transport, **kwargs)


@pytest.mark.parametrize("mode", MODES)
def test_a_call_keeps_no_cookie_and_follows_no_redirect(mode: str) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 2:
            return httpx.Response(307, headers={"location": "http://elsewhere.test/"})
        return httpx.Response(200, json=CHAT_ANSWER, headers={"set-cookie": "session=1; Path=/"})

    provider = _scripted_groq(mode, answer)
    assert _call(provider, mode).text == "4"
    client = provider._client if mode == "sync" else provider._aclient
    assert not client._client.cookies
    # A redirect is the SDK's status error, not a request to the host it names.
    with pytest.raises(ProviderError) as error:
        _call(provider, mode)
    assert isinstance(error.value.__cause__, provider._sdk.APIStatusError)
    assert "cookie" not in seen[1].headers and len(seen) == 2


@pytest.mark.parametrize("mode", MODES)
def test_the_clients_own_send_runs_when_an_event_hook_is_set(mode: str) -> None:
    hooked: list[int] = []

    def on_response(response: httpx.Response) -> None:
        hooked.append(response.status_code)

    async def on_response_async(response: httpx.Response) -> None:
        on_response(response)

    hook = on_response if mode == "sync" else on_response_async
    provider = _scripted_groq(mode, lambda request: httpx.Response(200, json=CHAT_ANSWER),
                              event_hooks={"response": [hook]})
    assert _call(provider, mode).text == "4"
    assert hooked == [200]


def test_a_body_cut_short_on_the_wire_is_the_sdks_connection_error() -> None:
    class CutStream(httpx.AsyncByteStream):
        async def __aiter__(self) -> Any:
            yield b'{"id": "c1", "choi'
            raise httpx.ReadError("connection closed mid-body")

    provider = _scripted_groq("async", lambda request: httpx.Response(200, stream=CutStream()))
    with pytest.raises(ConnectionFailed) as error:
        _call(provider, "async")
    assert isinstance(error.value.__cause__, provider._sdk.APIConnectionError)
