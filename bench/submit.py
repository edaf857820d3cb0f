"""`tierline submit` of a big file, as a producer runs it: the real command in its own process,
against a private redis-server and a fresh PostgreSQL database.

    python bench/submit.py [--jobs 100000] [--json]

Writes N sample jobs to a JSONL file, then times `python -m tierline.cli submit FILE --no-wait` (wall
clock, from start to exit, the command's start-up included) and reads its peak memory (the
child's maximum resident set, from the kernel). Checks afterwards that every job has its row and
its `route` message. Bounded: the command is killed after --timeout seconds (default 300).

Prints figures, writes bench/out/submit.json, and with --json prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from sqlalchemy import create_engine, text  # noqa: E402

from bench.figures import publish  # noqa: E402
from bench.services import fresh_database, private_redis  # noqa: E402


def write_jobs(path: Path, count: int, seed: int) -> int:
    from tierline.simulator.sample import generate

    with path.open("w", encoding="utf-8") as out:
        for job in generate(count, seed=seed):
            out.write(json.dumps(job) + "\n")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from tierline import migrations

    folder = Path(tempfile.mkdtemp(prefix="tierline-submit-bench-"))
    path = folder / "jobs.jsonl"
    size = write_jobs(path, args.jobs, args.seed)
    with private_redis() as redis, fresh_database() as db:
        migrations.upgrade(db.url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIERLINE_")}
        env.update(TIERLINE_BROKER_URL=redis.url, TIERLINE_DATABASE_URL=db.url)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "tierline.cli", "submit", str(path),
                               "--no-wait"],
                              cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=args.timeout, check=False)
        seconds = time.perf_counter() - started
        # ru_maxrss of the (only) waited-for child, in KiB on Linux.
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode != 0:
            raise SystemExit(f"submit failed ({done.returncode}):\n{done.stderr[-3000:]}")
        engine = create_engine(db.url)
        with engine.connect() as conn:
            rows = int(conn.execute(text("SELECT count(*) FROM jobs")).scalar_one())
        engine.dispose()
        import redis as redis_client

        client = redis_client.Redis.from_url(redis.url)
        messages = int(client.llen("route"))
        client.close()
    figures = {
        "jobs": args.jobs, "file_mb": round(size / 2**20, 1), "seconds": round(seconds, 2),
        "jobs_per_s": round(args.jobs / seconds, 1), "peak_rss_mb": round(peak_mb, 1),
        "rows": rows, "route_messages": messages,
    }
    print(f"tierline submit of {args.jobs} jobs ({figures['file_mb']} MB): {seconds:.2f} s "
          f"= {figures['jobs_per_s']} jobs/s, peak RSS {figures['peak_rss_mb']} MB; "
          f"{rows} rows, {messages} route messages")
    publish("submit", figures, args.json)


if __name__ == "__main__":
    main()
