"""Adapters for chat-completions APIs: OpenAI, Groq, and any OpenAI-compatible host.

Groq's SDK mirrors OpenAI's, so one adapter class serves both, given the SDK module and client.
The SDKs' own retries are off (max_retries=0): the fleet decides when and where to retry.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from tierline.config.tiers import Endpoint
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.providers.errors import MalformedResponse, ProviderError
from tierline.providers.sdk_errors import translate, unusable


def chat_messages(request: CompletionRequest) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages.extend({"role": m.role, "content": m.content} for m in request.messages)
    return messages


def _completion(response: Any, latency_s: float, provider: str, endpoint: str) -> Completion:
    """The answer, or MalformedResponse when there is none to use: a body that is not a chat
    completion (an HTML page, cut short), no choices, or an empty message."""
    try:
        choices = response.choices
        if not choices:
            raise MalformedResponse(f"{endpoint}: answer has no choices", endpoint=endpoint)
        choice = choices[0]
        text = choice.message.content
        usage = response.usage
        model = response.model
    except ProviderError:
        raise
    except Exception as exc:
        raise unusable(exc, endpoint) from exc
    if not isinstance(text, str) or not text.strip():
        raise MalformedResponse(f"{endpoint}: answer is empty "
                                f"(finish_reason {getattr(choice, 'finish_reason', None)!r})",
                                endpoint=endpoint)
    return Completion(
        text=text,
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
        latency_s=latency_s,
        model=model,
        provider=provider,
        finish_reason=choice.finish_reason or "stop",
    )


class ChatCompletionsProvider:
    def __init__(self, endpoint: Endpoint, sdk: ModuleType, client: Any, aclient: Any) -> None:
        self.endpoint = endpoint
        self.name = endpoint.host_name
        self.model = endpoint.model
        self._sdk = sdk
        self._client = client
        self._aclient = aclient

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": chat_messages(request),
            "max_tokens": min(request.max_tokens, self.endpoint.max_output_tokens),
            "temperature": request.temperature,
        }

    def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            response = self._client.chat.completions.create(**self._params(request))
        except self._sdk.APIError as exc:
            raise translate(exc, self._sdk, self.endpoint.label) from exc
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # The SDK could not read the body at all (truncated JSON, not JSON).
            raise unusable(exc, self.endpoint.label) from exc
        return _completion(response, time.perf_counter() - started, self.name,
                           self.endpoint.label)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            response = await self._aclient.chat.completions.create(**self._params(request))
        except self._sdk.APIError as exc:
            raise translate(exc, self._sdk, self.endpoint.label) from exc
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # The SDK could not read the body at all (truncated JSON, not JSON).
            raise unusable(exc, self.endpoint.label) from exc
        return _completion(response, time.perf_counter() - started, self.name,
                           self.endpoint.label)

    async def aclose(self) -> None:
        """Close the async client's connections, on the event loop that opened them."""
        await self._aclient.close()
