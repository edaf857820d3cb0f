"""The HTTP clients handed to the SDKs: each SDK's own, whose `send` goes straight to its transport.

An httpx (or httpx2) client's `send` runs every request through an auth flow, a redirect loop,
event hooks, a stream wrapper that times the body, and a cookie jar updated from every response.
On Groq's SDK (httpx) the jar alone, which wraps each response in a urllib request and an email
message, cost nearly as much CPU as the aiohttp transport's whole round trip. The fleet's calls
need none of it: the SDK sets its own auth headers; the APIs answer in place (a redirect would
mean a wrong base URL: it comes back as it is and the SDK raises its status error); and no
cookie is wanted (none is kept, none is sent). So `send` here hands the request to the client's
transport and reads the body, keeping the rest of what httpx's did: the client's timeout when
the request has none, the transport a proxy mount names, the request attached to a transport
error, the connection released once the body is read or its read fails, the body left unread
when the SDK asks to stream. The transport raises the same httpx errors, so the SDK maps them
to the same APITimeoutError and APIConnectionError.

Anything that needs the machinery left out (an auth, an event hook, redirects to follow, a URL
with a user name, a per-request option, a closed client) goes through the client's own `send`.
"""

from __future__ import annotations

import datetime
import importlib
import logging
import time
from functools import cache
from types import ModuleType
from typing import Any


class _Direct:
    """What the sync and async sends share; for a subclass of an httpx or httpx2 client."""

    http: ModuleType  # the client's library: httpx or httpx2
    logger: logging.Logger

    def __init__(self, **kwargs: Any) -> None:
        # The SDKs' clients follow redirects by default; following one needs httpx's own send.
        kwargs.setdefault("follow_redirects", False)
        super().__init__(**kwargs)

    def _direct(self, request: Any, options: dict[str, Any]) -> bool:
        """Whether nothing httpx's send does beyond the transport is asked for."""
        client: Any = self
        hooks = client.event_hooks
        return not (client.is_closed or options or client.auth or client.follow_redirects
                    or hooks["request"] or hooks["response"] or request.url.userinfo)

    def _transport_of(self, request: Any) -> Any:
        """The transport for `request` (a proxy mount's, or the client's own), the client's
        timeout set on the request if it has none."""
        client: Any = self
        if "timeout" not in request.extensions:
            request.extensions["timeout"] = client.timeout.as_dict()
        return client._transport_for_url(request.url)

    def _answered(self, request: Any, response: Any) -> None:
        response.request = request
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info('HTTP Request: %s %s "%s %d %s"', request.method, request.url,
                             response.http_version, response.status_code,
                             response.reason_phrase)


class DirectSend(_Direct):
    """For a subclass of an httpx or httpx2 `AsyncClient`."""

    async def send(self, request: Any, *, stream: bool = False, **options: Any) -> Any:
        if not self._direct(request, options):
            return await super().send(request, stream=stream, **options)  # type: ignore[misc]
        start = time.perf_counter()
        try:
            response = await self._transport_of(request).handle_async_request(request)
        except self.http.RequestError as exc:
            exc.request = request
            raise
        self._answered(request, response)
        if stream:
            return response
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        return response


class DirectSyncSend(_Direct):
    """For a subclass of an httpx or httpx2 `Client`."""

    def send(self, request: Any, *, stream: bool = False, **options: Any) -> Any:
        if not self._direct(request, options):
            return super().send(request, stream=stream, **options)  # type: ignore[misc]
        start = time.perf_counter()
        try:
            response = self._transport_of(request).handle_request(request)
        except self.http.RequestError as exc:
            exc.request = request
            raise
        self._answered(request, response)
        if stream:
            return response
        try:
            response.read()
        except BaseException:
            response.close()
            raise
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        return response


def request_url(client: Any, path: str) -> str:
    """`path` under an SDK client's base URL, as a whole URL: the SDK sends a whole URL as it is,
    where it parses a path and merges it into the base URL on every call (24 us of CPU a Groq
    call, 30 us an Anthropic call)."""
    return f"{str(client.base_url).rstrip('/')}/{path.lstrip('/')}"


def http_library(client_class: type[Any]) -> ModuleType:
    """The httpx or httpx2 module whose `Client` or `AsyncClient` `client_class` is (Groq's SDK
    is on httpx, OpenAI's and Anthropic's on httpx2)."""
    for cls in client_class.__mro__:
        if cls.__name__ in ("Client", "AsyncClient"):
            return importlib.import_module(cls.__module__.partition(".")[0])
    raise TypeError(f"{client_class.__name__} is not an httpx client")


def _direct_class(sdk: ModuleType, base: type[Any], send: type[_Direct], kind: str) -> type[Any]:
    http = http_library(base)
    return type(f"Direct{sdk.__name__.capitalize()}{kind}Client", (send, base),
                {"http": http, "logger": logging.getLogger(http.__name__),
                 "__doc__": f"{sdk.__name__}'s {kind} client, sending straight to its transport."})


@cache
def direct_aiohttp_client(sdk: ModuleType) -> type[Any]:
    """`sdk.DefaultAioHttpClient`, its keyword arguments and defaults, with `DirectSend`'s send."""
    return _direct_class(sdk, sdk.DefaultAioHttpClient, DirectSend, "AioHttp")


@cache
def direct_httpx_client(sdk: ModuleType) -> type[Any]:
    """`sdk.DefaultHttpxClient` (the sync client), with `DirectSyncSend`'s send."""
    return _direct_class(sdk, sdk.DefaultHttpxClient, DirectSyncSend, "Httpx")
