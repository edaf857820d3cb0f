"""kombu's Redis transport, with the acknowledgements of one event-loop turn written together,
and deliveries recorded without a transaction around them.

On Redis, kombu acknowledges a message by removing its delivery tag from the unacknowledged
index and hash: a MULTI/ZREM/HDEL/EXEC round trip for every message, which Celery runs on the
worker's event loop. A drain's flush acknowledges its 64 messages at once, so a worker paid 64
round trips where one does. Here an acknowledgement marks its message done at once, exactly as
kombu does (prefetch and the visibility heartbeat see it so), and its tag waits; the waiting
tags are removed in one round trip when the event loop next asks whether it may consume (on
every turn, right after the turn's callbacks, the acknowledgements among them), and always
before unacknowledged messages are restored (a channel closed, a worker stopping), so an
acknowledged message is never put back.

A failed write (Redis gone) leaves the messages in the unacknowledged index, so they come back
after the visibility timeout, as a failed acknowledgement of kombu's own leaves them:
deliveries are at-least-once, and every step is safe to run twice.

A delivered message is recorded (its tag in the index, the message in the hash) in one round
trip as kombu does, but without MULTI/EXEC around the two writes, which only cost parsing two
more replies: nothing reads the pair in between but a sweep for tags older than the visibility
timeout, and a tag just written is not old.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps

log = logging.getLogger(__name__)

# Written at once past this many, should nothing ask to consume for a while.
MAX_WAITING_ACKS = 1024


class QoS(kombu_redis.QoS):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting_acks: list[str] = []
        self._acks_lock = threading.Lock()

    def append(self, message: Any, delivery_tag: str) -> None:
        delivery = message.delivery_info
        record = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        with self.channel.conn_or_acquire() as client:
            client.pipeline(transaction=False) \
                .zadd(self.unacked_index_key, {delivery_tag: time.time()}) \
                .hset(self.unacked_key, delivery_tag, record).execute()
        virtual.QoS.append(self, message, delivery_tag)

    def ack(self, delivery_tag: str) -> None:
        with self._acks_lock:
            self._waiting_acks.append(delivery_tag)
            full = len(self._waiting_acks) >= MAX_WAITING_ACKS
        virtual.QoS.ack(self, delivery_tag)
        if full:
            self.write_acks()

    def write_acks(self) -> int:
        """Remove the waiting acknowledged tags from Redis in one round trip; how many."""
        with self._acks_lock:
            tags, self._waiting_acks = self._waiting_acks, []
        if not tags:
            return 0
        try:
            with self.channel.conn_or_acquire() as client:
                client.pipeline().zrem(self.unacked_index_key, *tags) \
                    .hdel(self.unacked_key, *tags).execute()
        except Exception as exc:  # they come back after the visibility timeout
            log.warning("could not acknowledge %d messages on Redis: %r", len(tags), exc)
            return 0
        return len(tags)

    def can_consume(self) -> bool:
        self.write_acks()
        return bool(super().can_consume())

    def restore_unacked(self, client: Any = None) -> None:
        self.write_acks()
        super().restore_unacked(client)


class Channel(kombu_redis.Channel):
    QoS = QoS


class Transport(kombu_redis.Transport):
    Channel = Channel
