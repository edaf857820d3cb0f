"""Counting the deliveries of a step that did not finish, to quarantine poison messages.

A delivery is counted when a step starts and forgotten when it finishes (or gives way to an
outage); a step that crashes, or kills its worker, leaves its count standing. Once a step of a
job has started `limit` times without finishing, the next delivery fails the job with the reason
instead of running it again.

Key layout (Redis, the broker's): `tierline:deliveries:<step>:<job id>:<tier or attempt>`, an
integer with a day's time to live. Without a Redis broker the counts live in the process.
Counting fails open: with Redis unreachable a step runs uncounted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_PREFIX = "tierline:deliveries:"
TTL_S = 24 * 3600


def delivery_key(step: str, job_id: str, at: int) -> str:
    return f"{step}:{job_id}:{at}"


class Deliveries(Protocol):
    def begin(self, keys: Sequence[str]) -> list[int]:
        """Count one more delivery of each step; the counts, this one included."""
        ...

    def finish(self, keys: Sequence[str]) -> None:
        """The steps ended (done, retried for a provider error, or waiting out an outage)."""
        ...

    def close(self) -> None: ...


class MemoryDeliveries:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def begin(self, keys: Sequence[str]) -> list[int]:
        with self._lock:
            for key in keys:
                self._counts[key] = self._counts.get(key, 0) + 1
            return [self._counts[key] for key in keys]

    def finish(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._counts.pop(key, None)

    def close(self) -> None:
        pass


class RedisDeliveries:
    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    def from_url(cls, url: str) -> RedisDeliveries:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                        retry_on_timeout=False))

    def begin(self, keys: Sequence[str]) -> list[int]:
        try:
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.incr(KEY_PREFIX + key)
                pipe.expire(KEY_PREFIX + key, TTL_S)
            replies = pipe.execute()
        except RedisError as exc:
            log.warning("delivery counts unavailable, running uncounted: %r", exc)
            return [1] * len(keys)
        return [int(count) for count in replies[::2]]

    def finish(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        try:
            self._client.delete(*(KEY_PREFIX + key for key in keys))
        except RedisError as exc:
            log.warning("could not clear delivery counts: %r", exc)

    def close(self) -> None:
        self._client.close()


def build_deliveries(broker_url: str | None) -> Deliveries:
    if broker_url and broker_url.startswith(("redis://", "rediss://")):
        return RedisDeliveries.from_url(broker_url)
    return MemoryDeliveries()
