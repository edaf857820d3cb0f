"""The fleet's promises, checked from outside after a chaos run, and the tools to break things.

- every job terminal, with a reason when it is not done;
- exactly one result for every done or needs_review job, none for a failed one;
- the ledger holds every call the provider answered (counted at the simulator);
- no terminal job reopened, no result replaced: two triggers log any such update as it happens.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from tests.e2e.fleet import free_port
from tierline.persistence.db import Database
from tierline.persistence.tables import Attempt, Job, Result

TERMINAL = ("done", "needs_review", "failed")
WATCH_SQL = """
CREATE TABLE chaos_watch (job_id text, what text, at timestamptz DEFAULT now());
CREATE FUNCTION chaos_reopened() RETURNS trigger AS $$ BEGIN
  IF OLD.status IN ('done', 'needs_review', 'failed') AND NEW.status <> OLD.status THEN
    INSERT INTO chaos_watch VALUES (OLD.id, OLD.status || ' -> ' || NEW.status);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER chaos_reopened BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION chaos_reopened();
CREATE FUNCTION chaos_replaced() RETURNS trigger AS $$ BEGIN
  INSERT INTO chaos_watch VALUES (OLD.job_id, 'result replaced');
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER chaos_replaced BEFORE UPDATE ON results FOR EACH ROW EXECUTE FUNCTION chaos_replaced();
"""


def watch_for_reopening(database_url: str) -> None:
    """Install the triggers that log a reopened job or a replaced result (none may appear)."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(WATCH_SQL))
    engine.dispose()


def simulator(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{url}{path}", data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def set_faults(simulator_url: str, faults: dict[str, object]) -> None:
    simulator(simulator_url, "/_sim/faults", {"faults": faults})


@dataclass(frozen=True)
class Outcome:
    statuses: dict[str, int]
    unexplained: int
    results: int
    finished_without_result: int
    failed_with_result: int
    ledger_rows: int
    simulator_calls: int
    watch: list[tuple[str, str]]
    outcomes: dict[str, int]
    # Each failed call's outcome, endpoint, latency and error, for an assertion's message.
    failed_calls: list[tuple[str, str, int, str]]

    @property
    def unledgered(self) -> int:
        """Calls the simulator received that have no ledger row."""
        return max(0, self.simulator_calls - self.ledger_rows)

    @property
    def in_flight_rows(self) -> int:
        """Calls reserved in the ledger whose answers were never recorded (a killed worker)."""
        return self.outcomes.get("in_flight", 0)


def outcome(db: Database, batch_id: str, simulator_url: str) -> Outcome:
    stats = simulator(simulator_url, "/_sim/stats")
    with db.session() as session:
        statuses = dict(session.execute(select(Job.status, func.count())
                                        .where(Job.batch_id == batch_id)
                                        .group_by(Job.status)).all())
        unexplained = session.scalar(select(func.count()).where(
            Job.batch_id == batch_id, Job.status != "done", Job.status_reason.is_(None))) or 0
        results = session.scalar(select(func.count()).select_from(Result)) or 0
        finished_without = session.scalar(select(func.count()).select_from(Job).outerjoin(
            Result, Result.job_id == Job.id).where(Job.status.in_(["done", "needs_review"]),
                                                   Result.job_id.is_(None))) or 0
        failed_with = session.scalar(select(func.count()).select_from(Job).join(
            Result, Result.job_id == Job.id).where(Job.status == "failed")) or 0
        ledger = session.scalar(select(func.count()).select_from(Attempt)) or 0
        outcomes = dict(session.execute(select(Attempt.outcome, func.count())
                                        .group_by(Attempt.outcome)).all())
        failed_calls = [(o, f"{p}/{m}", round(ms), (e or "")[:160]) for o, p, m, ms, e in
                        session.execute(select(Attempt.outcome, Attempt.provider, Attempt.model,
                                               Attempt.latency_ms, Attempt.error)
                                        .where(Attempt.outcome != "ok")).all()]
        watch = [(r[0], r[1]) for r in session.execute(text(
            "SELECT job_id, what FROM chaos_watch")).all()]
    return Outcome(statuses, unexplained, results, finished_without, failed_with, ledger,
                   sum(row.get("calls", 0) for row in stats.values()), watch, outcomes,
                   failed_calls)


def assert_promises_kept(result: Outcome, jobs: int) -> None:
    assert sum(result.statuses.values()) == jobs
    assert set(result.statuses) <= set(TERMINAL), result.statuses
    assert result.unexplained == 0
    assert result.finished_without_result == 0 and result.failed_with_result == 0
    assert result.results == result.statuses.get("done", 0) + result.statuses.get(
        "needs_review", 0)
    assert result.watch == [], result.watch[:10]
    # Every call the simulator received is in the ledger. Rows are written before their calls,
    # so the ledger may hold more: calls a SIGKILL caught before they reached the simulator,
    # left `in_flight`; or failed connections (refused, or kept ones the server had closed).
    extra = result.ledger_rows - result.simulator_calls
    assert result.unledgered == 0, (result.simulator_calls, result.ledger_rows)
    assert extra <= result.in_flight_rows + result.outcomes.get("ConnectionFailed", 0), (
        result.simulator_calls, result.ledger_rows, result.failed_calls[:10])


class CuttableProxy:
    """A TCP proxy in front of a server (PostgreSQL), whose cut is a real outage for every
    client behind it: open connections are reset and new ones refused until it is restored."""

    def __init__(self, target_port: int, listen_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listen_port = listen_port
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.listen_port))
        listener.listen(128)
        self._listener = listener
        self._stop.clear()
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                    sock.close()
                except OSError:
                    pass
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(a, selectors.EVENT_READ, b)
            selector.register(b, selectors.EVENT_READ, a)
            while not self._stop.is_set():
                for key, _ in selector.select(0.5):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            with self._lock:
                self._sockets.discard(a)
                self._sockets.discard(b)
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


@contextmanager
def private_redis(log_dir: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A Redis of this test's own (keeping nothing on disk, like the machine's), so that it can
    be killed and restarted without touching anything else; yields its URL and a restarter."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no"]
    log = open(log_dir / "redis.log", "ab")  # noqa: SIM115 - closed below
    processes = [subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)]

    def wait_up() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def restart() -> None:
        processes[-1].kill()  # SIGKILL: every queued and unacknowledged message is gone
        processes[-1].wait(10)
        time.sleep(1)
        processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        wait_up()

    wait_up()
    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        processes[-1].kill()
        processes[-1].wait(10)
        log.close()
