"""Fixtures of the provider tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tierline.simulator import RunningSimulator, SimulatorConfig, start_in_thread


@pytest.fixture(scope="module")
def instant_sim() -> Iterator[RunningSimulator]:
    """The simulator over HTTP in a thread, answering at once (time scale 0); one per module."""
    with start_in_thread(SimulatorConfig(time_scale=0.0)) as running:
        yield running
