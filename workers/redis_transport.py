"""kombu's Redis transport, with messages taken several at a time and recorded as
unacknowledged in the same atomic step, and the acknowledgements of one event-loop turn written
together.

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

Messages are taken off a plain queue several at a time, as many as the consumer's prefetch
has room for, by a script that records each as unacknowledged in the same atomic step
(`Channel`, `workers.redis_take`): one round trip for a group of messages where kombu paid a
BRPOP and a recording for each, and no moment where a message is neither in its list nor in
the unacknowledged hash, so a worker killed at any point loses none of them.

A message delivered by kombu's own BRPOP (another kind of channel, or a message the script
cannot read) is recorded (its tag in the index, the message in the hash) in one round
trip as kombu does, but without MULTI/EXEC around the two writes, which only cost parsing two
more replies: nothing reads the pair in between but a sweep for tags older than the visibility
timeout, and a tag just written is not old.
"""

from __future__ import annotations

import logging
import threading
import time
from queue import Empty
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

from tierline.workers.redis_take import (
    LEFT_FOR_KOMBU,
    TAKE_SCRIPT,
    TAKE_SHA,
    split_for_room,
    take_keys,
)

log = logging.getLogger(__name__)

# Written at once past this many, should nothing ask to consume for a while.
MAX_WAITING_ACKS = 1024

# How many messages one take brings when the QoS sets no prefetch limit.
UNLIMITED_TAKE = 64


class QoS(kombu_redis.QoS):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting_acks: list[str] = []
        self._acks_lock = threading.Lock()
        # Tags a take already recorded in Redis; only the consuming thread touches them.
        self._recorded: set[str] = set()

    def append(self, message: Any, delivery_tag: str) -> None:
        if delivery_tag in self._recorded:
            self._recorded.discard(delivery_tag)
            virtual.QoS.append(self, message, delivery_tag)
            return
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

    def give_back(self, payloads: list[dict[str, Any]]) -> None:
        """Put taken messages the consumer will not see back at the front of their queue, first
        message first, as kombu puts back a rejected one."""
        for payload in reversed(payloads):
            tag = payload["properties"]["delivery_tag"]
            self._recorded.discard(tag)
            self.restore_by_tag(tag)


class _Take:
    """The script reply the channel's connection waits for, and for which queue."""

    command = "EVALSHA"

    def __init__(self, queue: str) -> None:
        self.queue = queue


class _Wait(_Take):
    """A blocking move of the queue's last message onto itself: it wakes the channel when the
    queue has a message, and leaves the message where it was."""

    command = "BLMOVE"


class Channel(kombu_redis.Channel):
    """Plain queues consumed with acknowledgements are read by the take script (redis_take):
    as many messages as the QoS has room for, each recorded as unacknowledged in the same
    atomic step, so none is ever off its list and out of the unacknowledged hash. When the
    queue is empty the channel waits for it with a BLMOVE of the queue's last message onto
    itself, which takes nothing, and takes again when it wakes. Anything else (several queues
    on one channel, consumers without acknowledgements, fanout) goes through kombu's BRPOP.
    A take whose reply is still unread when the channel closes (sent, then the prefetch shrank)
    has its messages back from the visibility-timeout sweep, as a dead worker's.
    """

    QoS = QoS
    _in_poll: Any = None  # the connection a reply is awaited on
    _brpop_sent_at: Any = None  # when it was sent (monotonic), for kombu's health check

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._acked_queues: set[str] = set()
        self._waiting_for: _Take | None = None
        self._script_loaded_on: Any = None
        self._kombu_next = False
        super().__init__(*args, **kwargs)

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        result = super().basic_consume(queue, no_ack, *args, **kwargs)
        if no_ack or queue in self._fanout_queues:
            self._acked_queues.discard(queue)
        else:
            self._acked_queues.add(queue)
        return result

    def _taken_queue(self) -> str | None:
        """The queue the take script reads for this channel, if it reads one."""
        queues = self.active_queues
        if len(queues) == 1 and queues[0] in self._acked_queues and not self._kombu_next:
            return str(queues[0])
        return None

    def _brpop_start(self, timeout: Any = None) -> None:
        queue = self._taken_queue()
        self._kombu_next = False
        if queue is None:
            self._waiting_for = None
            super()._brpop_start(timeout)
            return
        connection = self.client.connection
        if self._script_loaded_on is not connection:
            self.client.script_load(TAKE_SCRIPT)  # the connection is idle here
            self._script_loaded_on = connection
        room = self.qos.can_consume_max_estimate()
        self._send(_Take(queue), "EVALSHA", TAKE_SHA, *self._take_args(queue, room))

    def _take_args(self, queue: str, room: int | None) -> list[Any]:
        keys = take_keys(self.global_keyprefix or "", self.unacked_key, self.unacked_index_key,
                         [self._q_for_pri(queue, pri) for pri in self.priority_steps])
        return [len(keys), *keys, UNLIMITED_TAKE if room is None else room, time.time()]

    def _send(self, waiting_for: _Take, *command: Any) -> None:
        self._waiting_for = waiting_for
        self._in_poll = self.client.connection
        self._brpop_sent_at = time.monotonic()
        self.client.connection.send_command(*command)

    def _brpop_read(self, **options: Any) -> bool:
        waiting_for, self._waiting_for = self._waiting_for, None
        if waiting_for is None:
            return bool(super()._brpop_read(**options))
        try:
            try:
                reply = self.client.parse_response(self.client.connection,
                                                   waiting_for.command, **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            except self.ResponseError:
                # NOSCRIPT after a restart, or scripts refused (a full noeviction server):
                # kombu's BRPOP delivers the next message, and the script is loaded again.
                self._script_loaded_on = None
                self._kombu_next = True
                raise Empty() from None
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()
        if isinstance(waiting_for, _Wait):
            raise Empty()  # the queue has a message: the next turn takes it
        status, *taken = reply
        if taken:
            self._deliver_taken(waiting_for.queue, taken)
            return True
        if status == LEFT_FOR_KOMBU:
            self._kombu_next = True
        else:
            prefix = self.global_keyprefix or ""
            self._send(_Wait(waiting_for.queue), "BLMOVE", prefix + waiting_for.queue,
                       prefix + waiting_for.queue, "RIGHT", "RIGHT", self.brpop_timeout or 0)
        raise Empty()

    def _deliver_taken(self, queue: str, taken: list[bytes]) -> None:
        now, back = split_for_room(taken, self.qos.can_consume_max_estimate())
        qos: QoS = self.qos
        payloads = [loads(bytes_to_str(item)) for item in now]
        if back:  # the prefetch shrank while the take was under way
            qos.give_back([loads(bytes_to_str(item)) for item in back])
        qos._recorded.update(p["properties"]["delivery_tag"] for p in payloads)
        self._queue_cycle.rotate(queue)
        for n, payload in enumerate(payloads):
            try:
                self.connection._deliver(payload, queue)
            except BaseException:
                qos.give_back(payloads[n + 1:])
                raise


class Transport(kombu_redis.Transport):
    Channel = Channel
