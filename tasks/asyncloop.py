"""A long-lived event loop in a thread, for async SDK clients used from synchronous tasks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import Future, as_completed
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundLoop:
    """An event loop running in a daemon thread; coroutines are handed to it from any thread.

    `limit` bounds the coroutines handed over with `as_completed` that run at once, across every
    thread that hands them over: several flushes can then be under way together, a new one
    starting while an earlier one waits for its slowest call, without more calls in flight than
    the limit allows.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.limit = limit
        # Created on the loop's own thread, where it is used.
        self._gate: asyncio.Semaphore | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="tierline-async",
                                        daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def _gated(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self.limit is None:
            return await coroutine
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.limit)
        async with self._gate:
            return await coroutine

    def as_completed(self, coroutines: Sequence[Coroutine[Any, Any, T]]
                     ) -> Iterator[tuple[int, T]]:
        """Run the coroutines together; yield (position, result) as each one finishes, so the
        calling thread works on early results while the others are still waiting. A coroutine
        that raises makes the iterator raise at its turn: callers hand over coroutines that
        turn their own failures into results."""
        futures: dict[Future[T], int] = {
            asyncio.run_coroutine_threadsafe(self._gated(c), self.loop): index
            for index, c in enumerate(coroutines)}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
