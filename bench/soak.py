"""The fleet under faults for a long run: jobs fed steadily, 5% provider faults, 5% malformed
answers, one worker SIGKILLed a minute and one Redis restart, then the promises checked.

    python bench/soak.py [--jobs 10000] [--in-flight 300] [--timeout 1800] [--json]

Starts and stops its own fleet: a fresh PostgreSQL database on the machine's server
(`TIERLINE_TEST_PG`), a Redis of its own (so it can be restarted empty), the simulator over
HTTP and one worker process per queue, plus the janitor (`--janitor-idle`, default 30 s).
Jobs are submitted in chunks so that about `--in-flight` are unfinished at any time: a queue
thousands deep would make every wait look like a lost message.

Figures (last line with --json; also bench/out/soak.json):
- `jobs`, `terminal`, `lost` (not terminal at the end), `reopened` (terminal jobs that left
  their state, logged by a trigger), `duplicate_results` (results replaced, same trigger),
  `unledgered_calls` (calls the simulator received beyond the ledger's rows; rows are written
  before their calls, and a call whose worker was killed stays as an `in_flight` row, counted
  in `in_flight_rows`), `kills`, `redis_restarts`;
- `max_recovery_s`: after each fault, the longest any job that was unfinished and untouched at
  that moment took to be touched again (an upper bound on the wait for a lost message: it
  includes that job's wait in its queue);
- `jobs_per_s`: jobs over the time from the first submit to the last job terminal.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.figures import publish  # noqa: E402
from tests.chaos.promises import (  # noqa: E402
    outcome,
    private_redis,
    set_faults,
    watch_for_reopening,
)
from tests.conftest import PG_ADMIN_URL  # noqa: E402
from tests.e2e.fleet import running_fleet  # noqa: E402
from tierline import migrations  # noqa: E402
from tierline.config.settings import Settings  # noqa: E402
from tierline.jobs.models import TERMINAL_STATUSES, JobSpec  # noqa: E402
from tierline.persistence.db import Database  # noqa: E402
from tierline.persistence.tables import Job  # noqa: E402
from tierline.simulator.sample import generate  # noqa: E402
from tierline.tasks.submit import submit_jobs  # noqa: E402
from tierline.workers.celery_app import create_app  # noqa: E402

TERMINAL = [s.value for s in TERMINAL_STATUSES]
VICTIMS = ("tier1", "validate", "route", "tier2")
FAULTS: dict[str, Any] = {"*": {"rate_limit": 0.025, "server_error": 0.025,
                "empty_choices": 0.0125, "empty_content": 0.0125, "truncated_json": 0.0125,
                "html_page": 0.0125, "retry_after_s": 0.2}}


class RecoveryWatch:
    """After each fault: which unfinished jobs were untouched then, and when each moved again."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[str, float] = {}  # job id -> time of the fault it waits after
        self._since: dict[str, Any] = {}
        self.longest = 0.0
        self._lock = threading.Lock()

    def fault(self) -> None:
        now = time.time()
        with self._db.session() as session:
            rows = session.execute(select(Job.id, Job.updated_at).where(
                Job.status.not_in(TERMINAL))).all()
        with self._lock:
            for job_id, updated in rows:
                self._pending.setdefault(job_id, now)
                self._since.setdefault(job_id, updated)

    def poll(self) -> None:
        with self._lock:
            pending = dict(self._pending)
        if not pending:
            return
        now = time.time()
        moved: list[str] = []
        ids = list(pending)
        with self._db.session() as session:
            for start in range(0, len(ids), 1000):
                for job_id, updated in session.execute(select(Job.id, Job.updated_at).where(
                        Job.id.in_(ids[start:start + 1000]))).all():
                    if updated != self._since[job_id]:
                        moved.append(job_id)
        with self._lock:
            for job_id in moved:
                self.longest = max(self.longest, now - self._pending.pop(job_id))
                self._since.pop(job_id, None)

    def still_waiting(self) -> float:
        now = time.time()
        with self._lock:
            return max((now - t for t in self._pending.values()), default=0.0)


def _unfinished(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).where(Job.status.not_in(TERMINAL))) or 0


def run(jobs: int, in_flight: int, timeout_s: float, time_scale: float, kill_every_s: float,
        janitor_idle_s: float) -> dict[str, Any]:
    name = f"tierline_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    log_dir = Path(tempfile.mkdtemp(prefix="tierline-soak-"))
    try:
        migrations.upgrade(url)
        watch_for_reopening(url)
        return _soak(url, log_dir, jobs, in_flight, timeout_s, time_scale, kill_every_s,
                     janitor_idle_s)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _soak(url: str, log_dir: Path, jobs: int, in_flight: int, timeout_s: float,
          time_scale: float, kill_every_s: float, janitor_idle_s: float) -> dict[str, Any]:
    db = Database(url)
    specs = [JobSpec.model_validate(j) for j in generate(jobs, seed=101)]
    settings = {"TIERLINE_VISIBILITY_TIMEOUT_S": "30", "TIERLINE_BREAKER_OPEN_S": "5"}
    with private_redis(log_dir) as (broker_url, restart_redis), \
            running_fleet(url, broker_url, log_dir, time_scale=time_scale,
                          settings=settings) as fleet:
        simulator_url = fleet.env["TIERLINE_SIMULATOR_URL"]
        set_faults(simulator_url, FAULTS)
        fleet.start_janitor(idle_for_s=janitor_idle_s, every_s=5)
        app = create_app(Settings(broker_url=broker_url, database_url=url))
        app.set_current()
        watch = RecoveryWatch(db)
        victims = itertools.cycle(VICTIMS)
        started = time.monotonic()
        deadline = started + timeout_s
        next_kill = started + kill_every_s
        submitted, kills, restarts = 0, 0, 0
        while time.monotonic() < deadline:
            unfinished = _unfinished(db)
            if submitted < jobs and unfinished < in_flight:
                chunk = specs[submitted:submitted + min(100, in_flight - unfinished)]
                try:
                    submit_jobs(db, chunk)
                    submitted += len(chunk)
                except Exception as exc:  # the broker restarting: the janitor routes them
                    print(f"submit failed ({exc!r}); the janitor sends what was written")
                    submitted += len(chunk)
            elif submitted >= jobs and unfinished == 0:
                break
            now = time.monotonic()
            if now >= next_kill:
                victim = next(victims)
                watch.fault()
                fleet.kill_worker(victim)
                fleet.start_worker(victim)
                kills += 1
                next_kill = now + kill_every_s
                print(f"{now - started:6.0f} s: SIGKILLed {victim}; {submitted} submitted, "
                      f"{unfinished} unfinished", flush=True)
            if restarts == 0 and submitted >= jobs // 2:
                watch.fault()
                restart_redis()
                restarts += 1
                print(f"{time.monotonic() - started:6.0f} s: Redis restarted empty", flush=True)
            watch.poll()
            time.sleep(1)
        elapsed = time.monotonic() - started
        watch.poll()
        time.sleep(3)  # calls still in flight at the end are answered and ledgered
        result = outcome(db, "", simulator_url)
        with db.session() as session:
            terminal = session.scalar(select(func.count()).where(
                Job.status.in_(TERMINAL))) or 0
            statuses = dict(session.execute(select(Job.status, func.count())
                                            .group_by(Job.status)).all())
    db.dispose()
    reopened = sum(1 for _, what in result.watch if "->" in what)
    replaced = sum(1 for _, what in result.watch if what == "result replaced")
    return {
        "jobs": jobs, "submitted": submitted, "terminal": terminal,
        "lost": submitted - terminal, "statuses": statuses, "reopened": reopened,
        "duplicate_results": replaced, "unledgered_calls": result.unledgered,
        "simulator_calls": result.simulator_calls, "ledger_rows": result.ledger_rows,
        "in_flight_rows": result.in_flight_rows,
        "kills": kills, "redis_restarts": restarts,
        "max_recovery_s": round(max(watch.longest, watch.still_waiting()), 1),
        "jobs_per_s": round(terminal / elapsed, 2), "elapsed_s": round(elapsed, 1),
        "time_scale": time_scale, "in_flight": in_flight, "janitor_idle_s": janitor_idle_s,
        "faults": FAULTS["*"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds, at most")
    parser.add_argument("--time-scale", type=float, default=0.02)
    parser.add_argument("--kill-every", type=float, default=60.0)
    parser.add_argument("--janitor-idle", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.jobs, args.in_flight, args.timeout, args.time_scale, args.kill_every,
                  args.janitor_idle)
    print(json.dumps({k: v for k, v in figures.items() if k != "faults"}, indent=1))
    publish("soak", figures, args.json)


if __name__ == "__main__":
    main()
