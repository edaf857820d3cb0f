"""The baseline: a plain Celery app whose four no-op tasks chain through four queues.

Run one worker per queue (`celery -A bench.celery_chain worker -Q hop1`, ...) with Celery's
defaults; the last hop counts the finished chain in Redis (`chains_done`), which is all the
benchmark reads. The broker is `BENCH_CHAIN_BROKER`.
"""

from __future__ import annotations

import os

import redis
from celery import Celery

HOPS = 4
QUEUES = tuple(f"hop{n}" for n in range(1, HOPS + 1))
DONE_KEY = "chains_done"
BROKER = os.environ.get("BENCH_CHAIN_BROKER", "redis://127.0.0.1:6379/0")

app = Celery("chain", broker=BROKER)
app.conf.update(task_ignore_result=True, worker_hijack_root_logger=False,
                broker_connection_retry_on_startup=True)
_counter = redis.Redis.from_url(BROKER)


@app.task(name="chain.hop")
def hop(n: int, job: int) -> None:
    if n < HOPS:
        app.send_task("chain.hop", (n + 1, job), queue=QUEUES[n])
    else:
        _counter.incr(DONE_KEY)


def start_chains(count: int) -> None:
    """Send the first hop of `count` chains."""
    with app.producer_or_acquire() as producer:
        for job in range(count):
            app.send_task("chain.hop", (1, job), queue=QUEUES[0], producer=producer)


def chains_done() -> int:
    return int(_counter.get(DONE_KEY) or 0)
