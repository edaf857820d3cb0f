"""Adapter for Anthropic's messages API through the official `anthropic` SDK.

As every adapter (`providers.sdk_post`), it sends a plain JSON body through the SDK client's
documented `post` and reads the answer here from its bytes, where `messages.create` would build
a pydantic model of it (about 0.3 ms of CPU per call). The body sent is the same.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from tierline.config.tiers import Endpoint
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.providers.errors import MalformedResponse, ProviderError
from tierline.providers.sdk_errors import unusable
from tierline.providers.sdk_post import SdkPostProvider

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


class AnthropicProvider(SdkPostProvider):
    def __init__(self, endpoint: Endpoint, sdk: ModuleType, client: Any, aclient: Any) -> None:
        super().__init__(endpoint, sdk, client, aclient, MESSAGES_PATH)

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

    def _read(self, body: bytes, latency_s: float) -> Completion:
        return _completion(body, latency_s, self.name, self.endpoint.label)
