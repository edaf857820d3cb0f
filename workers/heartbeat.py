"""Keeping the messages a live worker holds invisible to Redis's redelivery.

Redis hands an unacknowledged message out again once it has been held `visibility_timeout_s`
(kombu keeps one sorted set, `unacked_index`, of delivery tags by delivery time). That timeout is
short here, so that a killed worker's messages come back within a minute; a live worker renews
the time of every message it still holds (running, prefetched, buffered by the tier-1 drain, or
waiting for a retry's countdown) every `every_s`, so a long task is never handed to a second
worker. A dead worker stops renewing: its messages come back after the timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)


def held_tags(consumer: Any) -> tuple[Any, list[str]]:
    """The consumer's channel and the delivery tags of the messages it has not acknowledged."""
    task_consumer = getattr(consumer, "task_consumer", None)
    channel = getattr(task_consumer, "channel", None)
    qos = getattr(channel, "qos", None)
    delivered = getattr(qos, "_delivered", None)
    if channel is None or delivered is None:
        return None, []
    for _ in range(3):
        try:
            dirty = set(getattr(qos, "_dirty", ()))
            return channel, [tag for tag in list(delivered) if tag not in dirty]
        except RuntimeError:  # the consumer thread changed the dict while it was copied
            continue
    return channel, []


class VisibilityHeartbeat:
    def __init__(self, consumer: Any, broker_url: str, every_s: float) -> None:
        import redis

        self._consumer = consumer
        self._every_s = every_s
        self._client = redis.Redis.from_url(broker_url, socket_timeout=2,
                                            socket_connect_timeout=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="visibility-heartbeat",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._client.close()

    def beat(self) -> int:
        """Renew every held message; how many were renewed (XX: acknowledged ones stay gone)."""
        channel, tags = held_tags(self._consumer)
        if not tags:
            return 0
        now = time.time()
        renewed = self._client.zadd(channel.unacked_index_key, dict.fromkeys(tags, now),
                                    xx=True, ch=True)
        return int(renewed or 0)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self.beat()
            except Exception as exc:  # Redis down: nothing to renew against; try next time
                log.debug("visibility heartbeat skipped: %r", exc)
