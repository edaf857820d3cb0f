"""The background event loop: results as each coroutine finishes, calls in flight bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tierline.tasks.asyncloop import BackgroundLoop


@pytest.fixture
def loop() -> Iterator[BackgroundLoop]:
    background = BackgroundLoop(limit=2)
    yield background
    background.stop()


def test_results_come_as_each_coroutine_finishes_not_in_the_order_given(
        loop: BackgroundLoop) -> None:
    release_slow = asyncio.Event()

    async def slow() -> str:
        await release_slow.wait()
        return "slow"

    async def fast() -> str:
        return "fast"

    seen = []
    for position, result in loop.as_completed([slow(), fast()]):
        seen.append((position, result))
        # The slow one can only finish after the fast one has been taken.
        loop.loop.call_soon_threadsafe(release_slow.set)
    assert seen == [(1, "fast"), (0, "slow")]


def test_the_limit_bounds_the_coroutines_running_at_once(loop: BackgroundLoop) -> None:
    running = 0
    most = 0

    async def call() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    assert len(list(loop.as_completed([call() for _ in range(6)]))) == 6
    assert most == 2
