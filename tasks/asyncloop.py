"""A long-lived event loop in a thread, for async SDK clients used from synchronous tasks."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Coroutine, Iterator, Sequence
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
        self._tasks: set[asyncio.Task[None]] = set()
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

    def _start(self, coroutines: Sequence[Coroutine[Any, Any, T]]
               ) -> queue.SimpleQueue[tuple[int, Any, BaseException | None]]:
        """Hand the coroutines to the loop in one go (not one thread-safe future each); their
        results come back through the queue returned, as each one finishes."""
        finished: queue.SimpleQueue[tuple[int, Any, BaseException | None]] = queue.SimpleQueue()

        async def run_one(index: int, coroutine: Coroutine[Any, Any, T]) -> None:
            try:
                finished.put((index, await self._gated(coroutine), None))
            except BaseException as exc:  # handed to the caller, whatever it is
                finished.put((index, None, exc))

        def start_all() -> None:
            for index, coroutine in enumerate(coroutines):
                task = self.loop.create_task(run_one(index, coroutine))
                # The loop holds only weak references to its tasks.
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        self.loop.call_soon_threadsafe(start_all)
        return finished

    def as_completed(self, coroutines: Sequence[Coroutine[Any, Any, T]]
                     ) -> Iterator[tuple[int, T]]:
        """Run the coroutines together; yield (position, result) as each one finishes, so the
        calling thread works on early results while the others are still waiting. A coroutine
        that raises makes the iterator raise at its turn: callers hand over coroutines that
        turn their own failures into results."""
        for group in self.as_completed_groups(coroutines):
            yield from group

    def as_completed_groups(self, coroutines: Sequence[Coroutine[Any, Any, T]]
                            ) -> Iterator[list[tuple[int, T]]]:
        """As `as_completed`, each time with every result that has come in since the last
        (at least one): results that arrive together can be handled together, and none waits
        for a coroutine that is still running."""
        finished = self._start(coroutines)
        remaining = len(coroutines)
        while remaining:
            arrived = [finished.get()]
            while True:
                try:
                    arrived.append(finished.get_nowait())
                except queue.Empty:
                    break
            remaining -= len(arrived)
            for _, _, error in arrived:
                if error is not None:
                    raise error
            yield [(index, result) for index, result, _ in arrived]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            # Its selector and self-pipe released now, not whenever the loop is collected.
            self.loop.close()
