"""What the fleet benchmarks run against, each their own so nobody else's traffic is counted:
a private redis-server on a free port, a fresh PostgreSQL database, and readings of `/proc`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "TIERLINE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ProcReading:
    cpu_s: float
    rss_mb: float


def read_proc(pid: int) -> ProcReading | None:
    """CPU seconds (user + system) and resident memory of one process, or None once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces; the fields after its closing parenthesis do not.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime, rss_pages = int(fields[11]), int(fields[12]), int(fields[21])
    return ProcReading((utime + stime) / TICKS, rss_pages * PAGE / 2**20)


def cpu_of(pids: Iterable[int]) -> dict[int, float]:
    readings = {pid: read_proc(pid) for pid in pids}
    return {pid: r.cpu_s for pid, r in readings.items() if r is not None}


def runqueue_wait_s(pid: int) -> float:
    """Seconds the threads of a process have spent runnable but waiting for a CPU (the second
    field of each thread's /proc schedstat), 0 once gone: what a busy machine adds to the wall
    time of anything the process does."""
    total = 0
    for schedstat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(schedstat.read_text().split()[1])
        except (OSError, IndexError, ValueError):  # a thread that ended meanwhile
            continue
    return total / 1e9


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two readings of a set of processes; one that started in between
    counts whole."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@dataclass
class PrivateRedis:
    url: str
    process: subprocess.Popen[bytes]

    def commands(self) -> dict[str, int]:
        """Calls per command since start (INFO commandstats)."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            stats = client.info("commandstats")
        finally:
            client.close()
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of our own on a free port, nothing on disk."""
    port = free_port()
    folder = tempfile.mkdtemp(prefix="tierline-bench-redis-")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", folder, "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("private redis-server did not start") from None
                time.sleep(0.05)
        yield PrivateRedis(f"redis://127.0.0.1:{port}/0", process)
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class FreshDatabase:
    name: str
    url: str

    def transactions(self) -> int:
        """Commits and rollbacks of this database so far (pg_stat_database)."""
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                row = conn.execute(text(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :n"
                ), {"n": self.name}).one()
        finally:
            engine.dispose()
        return int(row[0])

    def backend_pids(self) -> list[int]:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :n"), {"n": self.name})
                return [int(r[0]) for r in rows]
        finally:
            engine.dispose()


def settled_transactions(db: FreshDatabase, quiet_s: float = 1.5, limit_s: float = 15) -> int:
    """The transaction count once backends have flushed their statistics (PostgreSQL reports
    them at most once a second per backend, and idle backends shortly after going idle)."""
    deadline = time.monotonic() + limit_s
    last = db.transactions()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = db.transactions()
        if now == last:
            return now
        last = now
    return last


@contextmanager
def fresh_database(prefix: str = "tierline_bench") -> Iterator[FreshDatabase]:
    """An empty PostgreSQL database, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield FreshDatabase(name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
