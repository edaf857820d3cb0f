"""Adapter for Anthropic's messages API through the official `anthropic` SDK.

As in `openai_like`, the request goes through the SDK client's documented `post` with a plain
JSON body and the answer is read here from its bytes, where `messages.create` would build a
pydantic model of it (about 0.3 ms of CPU per call). The body sent is the same.
"""

from __future__ import annotations

import json
import time
from types import ModuleType
from typing import Any

from tierline.config.tiers import Endpoint
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.providers.errors import MalformedResponse, ProviderError
from tierline.providers.http_clients import request_url
from tierline.providers.sdk_errors import translate, unusable

# Anthropic says max_tokens where the chat-completions APIs say length.
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


MESSAGES_PATH = "/v1/messages"


def _completion(body: bytes, latency_s: float, provider: str, endpoint: str) -> Completion:
    """The answer, or MalformedResponse when there is none to use: a body that is not a
    message, no content blocks, or no text in them (an empty answer is a failed call)."""
    try:
        response = json.loads(body)
        text = "".join(block["text"] for block in response["content"]
                       if block["type"] == "text")
        stop = response.get("stop_reason") or "end_turn"
        usage = response["usage"]
        input_tokens, output_tokens = usage["input_tokens"], usage["output_tokens"]
        model = response["model"]
        if not (isinstance(model, str) and isinstance(stop, str)
                and isinstance(input_tokens, int) and isinstance(output_tokens, int)):
            raise TypeError(f"model {model!r}, stop_reason {stop!r}, usage {usage!r}")
    except ProviderError:
        raise
    except Exception as exc:
        raise unusable(exc, endpoint) from exc
    if not text.strip():
        raise MalformedResponse(f"{endpoint}: answer has no text (stop_reason {stop!r})",
                                endpoint=endpoint)
    return Completion(
        text=text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_s=latency_s,
        model=model,
        provider=provider,
        finish_reason=_FINISH.get(stop, stop),
    )


class AnthropicProvider:
    def __init__(self, endpoint: Endpoint, sdk: ModuleType, client: Any, aclient: Any) -> None:
        self.endpoint = endpoint
        self._sdk = sdk
        self.name = endpoint.host_name
        self.model = endpoint.model
        self._client = client
        self._aclient = aclient
        self._url = request_url(aclient, MESSAGES_PATH)

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": min(request.max_tokens, self.endpoint.max_output_tokens),
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        # The current messages API takes no temperature; its sampling is fixed per model.
        if request.system:
            params["system"] = request.system
        return params

    def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            body = self._client.post(self._url, cast_to=bytes, body=self._params(request))
        except self._sdk.APIError as exc:
            raise translate(exc, self._sdk, self.endpoint.label) from exc
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # The SDK could not read the body at all (truncated JSON, not JSON).
            raise unusable(exc, self.endpoint.label) from exc
        return _completion(body, time.perf_counter() - started, self.name,
                           self.endpoint.label)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            body = await self._aclient.post(self._url, cast_to=bytes,
                                            body=self._params(request))
        except self._sdk.APIError as exc:
            raise translate(exc, self._sdk, self.endpoint.label) from exc
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # The SDK could not read the body at all (truncated JSON, not JSON).
            raise unusable(exc, self.endpoint.label) from exc
        return _completion(body, time.perf_counter() - started, self.name,
                           self.endpoint.label)

    async def aclose(self) -> None:
        """Close the async client's connections, on the event loop that opened them."""
        await self._aclient.close()
