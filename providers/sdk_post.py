"""What every SDK adapter does alike: the call itself.

A request goes through the official SDK client's `post` (its documented way to make any request,
with the client's auth, base URL, timeouts and error types), sync or async, with a plain JSON
body, and the answer comes back as bytes for the adapter to read. The SDK's errors become the
fleet's (`sdk_errors.translate`); a body the SDK could not read at all is a MalformedResponse.
An adapter says only what differs: the body it sends (`_params`) and how it reads the answer
(`_read`).
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from tierline.config.tiers import Endpoint
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.providers.http_clients import request_url
from tierline.providers.sdk_errors import translate, unusable

# What an SDK raises when it cannot read a body at all (truncated JSON, not JSON).
_UNREADABLE = (ValueError, TypeError, AttributeError, KeyError)


class SdkPostProvider:
    def __init__(self, endpoint: Endpoint, sdk: ModuleType, client: Any, aclient: Any,
                 path: str) -> None:
        self.endpoint = endpoint
        self.name = endpoint.host_name
        self.model = endpoint.model
        self._sdk = sdk
        self._client = client
        self._aclient = aclient
        self._url = request_url(aclient, path)

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        raise NotImplementedError

    def _read(self, body: bytes, latency_s: float) -> Completion:
        raise NotImplementedError

    def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            body = self._client.post(self._url, cast_to=bytes, body=self._params(request))
        except self._sdk.APIError as exc:
            raise translate(exc, self._sdk, self.endpoint.label) from exc
        except _UNREADABLE as exc:
            raise unusable(exc, self.endpoint.label) from exc
        return self._read(body, time.perf_counter() - started)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            body = await self._aclient.post(self._url, cast_to=bytes,
                                            body=self._params(request))
        except self._sdk.APIError as exc:
            raise translate(exc, self._sdk, self.endpoint.label) from exc
        except _UNREADABLE as exc:
            raise unusable(exc, self.endpoint.label) from exc
        return self._read(body, time.perf_counter() - started)

    async def aclose(self) -> None:
        """Close the async client's connections, on the event loop that opened them."""
        await self._aclient.close()
