"""How many messages a SIGKILLed acks-late Celery worker loses on Redis for good, with nothing
of tierline but the broker settings: a plain task, a worker killed and restarted `--kills`
times while messages keep arriving, then a wait past the visibility timeout and its sweep.

    SIGKILL_BENCH_REDIS=redis://127.0.0.1:6379/15 python bench/sigkill_loss.py \
        [--messages 1500] [--kills 25] [--transport kombu|tierline] [--json]

A message a killed worker held is in kombu's unacknowledged hash and comes back; with kombu's
own transport, one that BRPOP had taken off the queue but the worker had not yet recorded is in
no Redis structure at all. `--transport tierline` runs the same workers on the fleet's transport
(workers.redis_transport), which takes and records messages in one atomic step.
Prints messages sent, run, lost (neither run, queued nor unacknowledged); writes
bench/out/sigkill_loss.json. Its keys carry their own prefix; the database is left as found.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import redis  # noqa: E402
from celery import Celery  # noqa: E402

from bench.figures import publish  # noqa: E402

PREFIX = "tierline-bench-sigkill:"
QUEUE = "sigkill"
VISIBILITY_TIMEOUT_S = 8
BROKER_URL = os.environ.get("SIGKILL_BENCH_REDIS", "redis://127.0.0.1:6379/15")

TRANSPORTS = {"kombu": "redis", "tierline": "tierline.workers.redis_transport:Transport"}

app = Celery("sigkill_bench", broker=BROKER_URL)
app.conf.broker_transport = TRANSPORTS[os.environ.get("SIGKILL_BENCH_TRANSPORT", "kombu")]
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, task_ignore_result=True,
                worker_hijack_root_logger=False,
                broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S,
                                          "global_keyprefix": PREFIX,
                                          "unacked_restore_interval": 2,
                                          "unacked_restore_throttle": 1})
_client = redis.Redis.from_url(BROKER_URL)


@app.task(name="bench.sigkill.work")
def work(number: int) -> None:
    time.sleep(0.05)
    _client.sadd(PREFIX + "done", number)


def _start_worker(log_dir: Path, serial: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = log_dir / f"worker{serial}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench.sigkill_loss:app", "worker", "-P",
         "threads", "-c", "2", "-Q", QUEUE, "--without-mingle", "--without-gossip", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    started = time.monotonic()
    while "ready." not in log.read_text(errors="replace") and time.monotonic() - started < 60:
        time.sleep(0.1)
    return process


def _clear() -> None:
    for key in _client.scan_iter(match=PREFIX + "*"):
        _client.delete(key)


def run(messages: int, kills: int, log_dir: Path) -> dict[str, Any]:
    _clear()
    env = {**os.environ, "SIGKILL_BENCH_REDIS": BROKER_URL}
    serials = itertools.count()
    worker = _start_worker(log_dir, next(serials), env)
    sent = 0

    def send_for(seconds: float) -> None:
        nonlocal sent
        until = time.monotonic() + seconds
        while time.monotonic() < until and sent < messages:
            app.send_task("bench.sigkill.work", (sent,), queue=QUEUE)
            sent += 1
            time.sleep(0.01)

    for _ in range(kills):
        send_for(random.uniform(1.0, 2.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker = _start_worker(log_dir, next(serials), env)
    send_for(float("inf"))
    waited = time.monotonic()
    while _client.scard(PREFIX + "done") < sent and time.monotonic() - waited < 60:
        time.sleep(1)
    done = {int(n) for n in _client.smembers(PREFIX + "done")}
    figures = {"messages_sent": sent, "kills": kills, "run": len(done),
               "lost": len(set(range(sent)) - done),
               "queued": int(_client.llen(PREFIX + QUEUE)),
               "unacknowledged": int(_client.hlen(PREFIX + "unacked")),
               "waited_s": round(time.monotonic() - waited, 1)}
    worker.terminate()
    worker.wait(30)
    _clear()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), default="kombu")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["SIGKILL_BENCH_TRANSPORT"] = args.transport  # the workers' too
    app.conf.broker_transport = TRANSPORTS[args.transport]
    log_dir = ROOT / "bench" / "out" / "sigkill_loss_logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    figures = {"transport": args.transport, **run(args.messages, args.kills, log_dir)}
    print(f"sent {figures['messages_sent']} messages, killed the worker {args.kills} times: "
          f"{figures['run']} run, {figures['lost']} lost for good "
          f"({figures['queued']} queued, {figures['unacknowledged']} unacknowledged after "
          f"{figures['waited_s']} s)")
    publish("sigkill_loss", figures, args.json)


if __name__ == "__main__":
    main()
