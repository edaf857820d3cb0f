"""The provider contract: `complete(request) -> Completion`, nothing more (the request and the
completion are `prompts.completion`'s)."""

from __future__ import annotations

from typing import Protocol

from tierline.prompts.completion import Completion, CompletionRequest


class Provider(Protocol):
    """Anything that can answer a request; adapters raise `providers.errors` types only.

    `acomplete` is the same call for an event loop: the tier-1 drain sends a whole batch at once.
    """

    name: str
    model: str

    def complete(self, request: CompletionRequest) -> Completion: ...

    async def acomplete(self, request: CompletionRequest) -> Completion: ...
