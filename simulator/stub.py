"""A scripted provider for tests: answers, errors and broken outputs on demand."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tierline.prompts.completion import Completion, CompletionRequest
from tierline.providers.errors import ProviderError

Script = str | ProviderError | Callable[[CompletionRequest], str | ProviderError]


class StubProvider:
    """Plays its script in order (the last entry repeats); records every request it saw."""

    def __init__(self, *script: Script, name: str = "stub", model: str = "stub-1",
                 tokens: tuple[int, int] = (100, 20)) -> None:
        if not script:
            raise ValueError("a stub needs at least one scripted answer")
        self.name = name
        self.model = model
        self._script = list(script)
        self._tokens = tokens
        self._lock = threading.Lock()
        self.requests: list[CompletionRequest] = []

    def complete(self, request: CompletionRequest) -> Completion:
        with self._lock:
            step = self._script[min(len(self.requests), len(self._script) - 1)]
            self.requests.append(request)
        answer = step(request) if callable(step) else step
        if isinstance(answer, ProviderError):
            raise answer
        return Completion(text=answer, input_tokens=self._tokens[0],
                          output_tokens=self._tokens[1], latency_s=0.0, model=self.model,
                          provider=self.name)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        return self.complete(request)
