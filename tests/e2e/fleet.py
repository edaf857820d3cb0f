"""Starting a real fleet for end-to-end tests: the simulator over HTTP and one Celery worker
process per queue, against the real Redis and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# One worker per queue, as docker-compose.yml runs them; tier 1, route and validate are drains
# (a flush of messages at a time), whose prefetch covers a flush.
WORKERS = {
    "route": ["-Q", "route", "-c", "2", "--prefetch-multiplier", "64"],
    "tier1": ["-Q", "tier1", "-c", "2", "--prefetch-multiplier", "16"],
    "tier2": ["-Q", "tier2", "-c", "4"],
    "tier3": ["-Q", "tier3", "-c", "4"],
    "validate": ["-Q", "validate", "-c", "2", "--prefetch-multiplier", "64"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Fleet:
    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Worker name -> the port its Prometheus metrics are served on (when asked for).
    metrics_ports: dict[str, int] = field(default_factory=dict)

    def start_worker(self, name: str) -> None:
        args = WORKERS[name]
        env = dict(self.env)
        if name in self.metrics_ports:
            env["TIERLINE_METRICS_PORT"] = str(self.metrics_ports[name])
            env["TIERLINE_METRICS_ADDRESS"] = "127.0.0.1"
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tierline.workers.app", "worker", "-P",
             "threads",
             "-n", f"{name}@%h", "--without-mingle", "--without-gossip", "-l", "WARNING", *args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )

    def start_flower(self, port: int, basic_auth: str) -> None:
        """Flower on the fleet's broker, on the loopback interface, behind a login."""
        log = open(self.log_dir / "flower.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes["flower"] = subprocess.Popen(
            [sys.executable, "-m", "tierline.cli", "flower", "--port", str(port), "--address",
             "127.0.0.1"],
            cwd=ROOT, env={**self.env, "FLOWER_BASIC_AUTH": basic_auth}, stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_janitor(self, idle_for_s: float, every_s: float) -> None:
        """The sweeper that re-sends messages lost with killed workers (see `tierline requeue`)."""
        log = open(self.log_dir / "janitor.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes["janitor"] = subprocess.Popen(
            [sys.executable, "-m", "tierline.cli", "requeue", "--idle-for", str(idle_for_s),
             "--every", str(every_s)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )

    def kill_worker(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def tierline(self, *args: str, input_path: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tierline.cli", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300, check=False)

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.log_dir.glob("*.log")))

    def stop(self) -> None:
        stop_processes(list(self.processes.values()))
        self.processes.clear()


def stop_processes(processes: list[subprocess.Popen[bytes]], grace_s: float = 20) -> None:
    """SIGTERM every process, then SIGKILL those still running after the shared grace time."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_http(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


@contextmanager
def running_fleet(database_url: str, broker_url: str, log_dir: Path,
                  time_scale: float = 0.02, router: str = "rules",
                  settings: dict[str, str] | None = None,
                  metrics: bool = False) -> Iterator[Fleet]:
    """The simulator and one worker per queue; `settings` are more `TIERLINE_*` variables;
    with `metrics`, each worker serves its Prometheus metrics on a port of its own."""
    port = free_port()
    env = {
        **os.environ,
        "TIERLINE_BROKER_URL": broker_url,
        "TIERLINE_DATABASE_URL": database_url,
        "TIERLINE_SIMULATOR_URL": f"http://127.0.0.1:{port}",
        "TIERLINE_ROUTER": router,
        "PYTHONUNBUFFERED": "1",
        **(settings or {}),
    }
    sim_log = open(log_dir / "simulator.log", "ab")  # noqa: SIM115 - closed with the process
    simulator = subprocess.Popen(
        [sys.executable, "-m", "tierline.cli", "sim", "serve", "--port", str(port),
         "--time-scale", str(time_scale)],
        cwd=ROOT, env=env, stdout=sim_log, stderr=subprocess.STDOUT,
    )
    fleet = Fleet(env, log_dir, metrics_ports={n: free_port() for n in WORKERS} if metrics
                  else {})
    try:
        wait_http(f"http://127.0.0.1:{port}/_sim/stats")
        for name in WORKERS:
            fleet.start_worker(name)
        yield fleet
    finally:
        fleet.stop()
        simulator.terminate()
        simulator.wait(10)
        sim_log.close()
