"""The task runtime starts no simulator of its own: one is installed by the runs that want it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tierline.config.settings import Settings
from tierline.tasks import runtime


@pytest.fixture(autouse=True)
def _no_installed_simulator() -> Iterator[None]:
    runtime.install_simulator(None)
    yield
    runtime.install_simulator(None)


def _settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(broker_url=None, database_url=f"sqlite:///{tmp_path / 't.db'}",
                    home=tmp_path, router="rules", **changes)  # type: ignore[arg-type]


def test_without_an_installed_simulator_the_runtime_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="TIERLINE_SIMULATOR_URL"):
        runtime.build_runtime(_settings(tmp_path, simulator=True, simulator_url=None))


def test_the_installed_simulator_is_started_and_stopped_with_the_runtime(tmp_path: Path) -> None:
    calls: list[str] = []

    def start(time_scale: float) -> tuple[str, Callable[[], None]]:
        calls.append(f"start {time_scale}")
        return "http://127.0.0.1:9", lambda: calls.append("stop")

    runtime.install_simulator(start)
    built = runtime.build_runtime(_settings(tmp_path, simulator=True, simulator_url=None,
                                            simulator_time_scale=0.5))
    assert built.simulator_url == "http://127.0.0.1:9"
    built.close()
    assert calls == ["start 0.5", "stop"]


def test_a_simulator_url_or_real_providers_start_nothing(tmp_path: Path) -> None:
    runtime.install_simulator(lambda _: pytest.fail("started a simulator"))
    remote = runtime.build_runtime(_settings(tmp_path, simulator_url="http://sim:8900"))
    assert remote.simulator_url == "http://sim:8900"
    remote.close()
    real = runtime.build_runtime(_settings(tmp_path, simulator=False))
    assert real.simulator_url is None
    real.close()



def test_closing_the_current_runtime_closes_it_once(tmp_path: Path) -> None:
    calls: list[str] = []
    runtime.install_simulator(lambda _: ("http://127.0.0.1:9", lambda: calls.append("stop")))
    runtime.install(runtime.build_runtime(_settings(tmp_path, simulator=True, simulator_url=None)))
    try:
        runtime.close_current()
        assert calls == ["stop"]
        runtime.close_current()  # nothing built since: nothing more to close
        assert calls == ["stop"]
    finally:
        runtime.install(None)
