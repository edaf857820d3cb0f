"""Adapters for chat-completions APIs: OpenAI, Groq, and any OpenAI-compatible host.

Groq's SDK mirrors OpenAI's, so one adapter class serves both, given the SDK module and client.
The SDKs' own retries are off (max_retries=0): the fleet decides when and where to retry.

The call itself is `providers.sdk_post`'s: a plain JSON body through the SDK client's `post`,
the answer read here from its bytes. `chat.completions.create` would walk every parameter
through its type annotations (each message against every message type of a union) and build a
pydantic model of the answer, about 0.6 ms of CPU per call that a flush of tier-1 calls pays in
full. The body sent is the same.
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

# The chat-completions path under an OpenAI client's base URL (Groq's SDK: GROQ_PATH).
CHAT_PATH = "/chat/completions"
GROQ_PATH = "/openai/v1/chat/completions"


def chat_messages(request: CompletionRequest) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages.extend({"role": m.role, "content": m.content} for m in request.messages)
    return messages


def _completion(body: bytes, latency_s: float, provider: str, endpoint: str) -> Completion:
    """The answer, or MalformedResponse when there is none to use: a body that is not a chat
    completion (an HTML page, cut short), no choices, or an empty message."""
    choice: dict[str, Any] = {}
    try:
        response = json.loads(body)
        choices = response["choices"]
        if not choices:
            raise MalformedResponse(f"{endpoint}: answer has no choices", endpoint=endpoint)
        choice = choices[0]
        text = choice["message"]["content"]
        usage = response.get("usage") or {}
        input_tokens, output_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
        model = response["model"]
        finish_reason = choice.get("finish_reason")
        if not (isinstance(model, str) and isinstance(input_tokens or 0, int)
                and isinstance(output_tokens or 0, int)):
            raise TypeError(f"model {model!r}, usage {usage!r}")
    except ProviderError:
        raise
    except Exception as exc:
        raise unusable(exc, endpoint) from exc
    if not isinstance(text, str) or not text.strip():
        raise MalformedResponse(f"{endpoint}: answer is empty "
                                f"(finish_reason {choice.get('finish_reason')!r})",
                                endpoint=endpoint)
    return Completion(
        text=text,
        input_tokens=input_tokens or 0,
        output_tokens=output_tokens or 0,
        latency_s=latency_s,
        model=model,
        provider=provider,
        finish_reason=finish_reason or "stop",
    )


class ChatCompletionsProvider(SdkPostProvider):
    def __init__(self, endpoint: Endpoint, sdk: ModuleType, client: Any, aclient: Any,
                 path: str = CHAT_PATH) -> None:
        super().__init__(endpoint, sdk, client, aclient, path)

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": chat_messages(request),
            "max_tokens": min(request.max_tokens, self.endpoint.max_output_tokens),
            "temperature": request.temperature,
        }

    def _read(self, body: bytes, latency_s: float) -> Completion:
        return _completion(body, latency_s, self.name, self.endpoint.label)
