"""The simulator on a background thread of this process: what the embedded demo and tests use.

    with start_in_thread(SimulatorConfig(time_scale=0.01)) as sim:
        openai.OpenAI(base_url=sim.openai_base_url, api_key="sim")
        anthropic.Anthropic(base_url=sim.url, api_key="sim")
        groq.Groq(base_url=sim.url, api_key="sim")
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tierline.simulator.config import FaultSpec, SimulatorConfig
from tierline.simulator.server import SERVER_OPTIONS, SimulatorState, create_app


class RunningSimulator:
    """A simulator serving on a background thread.

    `.url` is the base URL for the Groq and Anthropic SDKs; OpenAI's is `.openai_base_url`.
    """

    def __init__(self, app: Starlette, server: uvicorn.Server, thread: threading.Thread,
                 sock: socket.socket) -> None:
        self.app, self._server, self._thread, self._sock = app, server, thread, sock
        host, port = sock.getsockname()[:2]
        self.host, self.port = str(host), int(port)
        self.url = f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def state(self) -> SimulatorState:
        state: SimulatorState = self.app.state.sim
        return state

    def set_faults(self, faults: dict[str, FaultSpec | None], replace: bool = False) -> None:
        self.state.injector.set_faults(faults, replace)

    def stats(self) -> dict[str, Any]:
        return self.state.injector.stats()

    def stop(self) -> None:
        self.state.stopping.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class SimulatorThread(threading.Thread):
    """Runs a uvicorn server for `app` on an already bound socket."""

    def __init__(self, server: uvicorn.Server, sock: socket.socket) -> None:
        super().__init__(name="tierline-simulator", daemon=True)
        self.server, self.sock = server, sock

    def run(self) -> None:
        self.server.run(sockets=[self.sock])


def start_in_thread(config: SimulatorConfig | None = None, host: str = "127.0.0.1",
                    port: int = 0) -> RunningSimulator:
    """Start the simulator on a background thread (port 0: a free one) and wait until it serves."""
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2,
                                           **SERVER_OPTIONS))
    thread = SimulatorThread(server, sock)
    thread.start()
    running = RunningSimulator(app, server, thread, sock)
    for _ in range(500):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    if not server.started:
        running.stop()
        raise RuntimeError("the simulator did not start")
    return running


def start_for_runtime(time_scale: float) -> tuple[str, Callable[[], None]]:
    """What `tasks.runtime.install_simulator` takes: a simulator for an in-process run."""
    running = start_in_thread(SimulatorConfig(time_scale=time_scale))
    return running.url, running.stop
