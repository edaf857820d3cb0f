"""Acknowledgements on the real Redis are written together, once per event-loop turn, and an
acknowledged message is never restored; a message nobody acknowledged still is. Messages are
taken several at a time, within the prefetch, in their order, each recorded as unacknowledged
before anything is delivered, and every one comes back from a channel dropped or a worker
killed without acknowledging it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tierline.config.settings import Settings
from tierline.tasks.bulk_publish import envelope
from tierline.workers.celery_app import create_app
from tierline.workers.redis_transport import QoS

pytestmark = pytest.mark.integration

QUEUE = "acks-test"
TASK = "acks-test.noop"


@pytest.fixture()
def channel(redis_url: str) -> Iterator[Any]:
    app = create_app(Settings(broker_url=redis_url))
    for n in range(5):
        app.send_task(TASK, (n,), queue=QUEUE)
    with app.connection_for_write() as conn:
        channel = conn.channel()
        assert isinstance(channel.qos, QoS)  # the fleet's app uses this transport on Redis
        yield channel
        channel.close()
    app.close()


def _unacked(redis_url: str, channel: Any) -> tuple[int, int]:
    client = redis.Redis.from_url(redis_url)
    try:
        return client.zcard(channel.unacked_index_key), client.hlen(channel.unacked_key)
    finally:
        client.close()


def test_the_acks_of_one_turn_are_written_in_one_round_trip(
        redis_url: str, channel: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = [channel.basic_get(QUEUE, no_ack=False) for _ in range(5)]
    assert _unacked(redis_url, channel) == (5, 5)
    for message in messages[:4]:
        message.ack()
    # Done for the consumer at once (prefetch and the heartbeat see it), not yet on Redis.
    assert all(m.acknowledged for m in messages[:4])
    assert set(channel.qos._dirty) == {m.delivery_tag for m in messages[:4]}
    assert _unacked(redis_url, channel) == (5, 5)
    pipelines = _acquires(channel, monkeypatch)
    channel.qos.can_consume()  # what the event loop asks on every turn
    assert _unacked(redis_url, channel) == (1, 1)
    assert len(pipelines) == 1
    channel.qos.can_consume()  # nothing waiting: nothing written
    assert len(pipelines) == 1


def test_a_closing_channel_writes_its_acks_before_restoring_the_rest(redis_url: str,
                                                                    channel: Any) -> None:
    messages = [channel.basic_get(QUEUE, no_ack=False) for _ in range(5)]
    for message in messages[:3]:
        message.ack()
    channel.qos.restore_unacked_once()
    client = redis.Redis.from_url(redis_url)
    try:
        # The two unacknowledged messages are back in the queue; the acknowledged three are not.
        assert client.llen(QUEUE) == 2
    finally:
        client.close()
    assert _unacked(redis_url, channel) == (0, 0)


def test_a_failed_write_leaves_the_messages_to_come_back(redis_url: str, channel: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    message = channel.basic_get(QUEUE, no_ack=False)
    message.ack()

    def broken(*_: Any, **__: Any) -> Any:
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(channel, "conn_or_acquire", broken)
    assert channel.qos.write_acks() == 0  # logged, not raised into the event loop
    monkeypatch.undo()
    # Still in the unacknowledged index: the visibility timeout brings it back.
    assert _unacked(redis_url, channel) == (1, 1)


class _Taker:
    """A consumer of QUEUE that notes, as each message arrives, what Redis holds for it."""

    def __init__(self, redis_url: str, channel: Any, prefetch: int) -> None:
        self.channel, self.redis = channel, redis.Redis.from_url(redis_url)
        self.messages: list[Any] = []
        self.recorded_at_delivery: list[set[Any]] = []
        channel.basic_qos(0, prefetch, False)
        channel.basic_consume(QUEUE, False, self.on_message, "taker")

    def on_message(self, message: Any) -> None:
        self.messages.append(message)
        self.recorded_at_delivery.append(set(self.redis.hkeys(self.channel.unacked_key)))

    def drain(self) -> None:
        with contextlib.suppress(TimeoutError):  # nothing (more) to take
            self.channel.connection.client.drain_events(timeout=0.5)

    def numbers(self) -> list[int]:
        return [m.decode()[0][0] for m in self.messages]


def _commands_sent(channel: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[Any]]:
    """The commands the channel's consuming connection sends, and its other round trips."""
    sent: list[str] = []
    client = channel.client
    # The connection kombu gives the client to consume on, made here so that it can be watched.
    connection = client.connection = client.connection or client.connection_pool.get_connection()
    real_send = connection.send_command

    def send(*args: Any, **kwargs: Any) -> Any:
        if args[0] != "SCRIPT LOAD":  # once per connection
            sent.append(str(args[0]))
        return real_send(*args, **kwargs)

    monkeypatch.setattr(connection, "send_command", send)
    return sent, _acquires(channel, monkeypatch)


def _acquires(channel: Any, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each round trip the channel makes on a connection of its own (`conn_or_acquire`), as
    its arguments, from now on."""
    acquired: list[Any] = []
    real_acquire = channel.conn_or_acquire

    def acquire(*args: Any, **kwargs: Any) -> Any:
        acquired.append(args)
        return real_acquire(*args, **kwargs)

    monkeypatch.setattr(channel, "conn_or_acquire", acquire)
    return acquired


@pytest.fixture()
def taker(redis_url: str, channel: Any) -> Iterator[_Taker]:
    taker = _Taker(redis_url, channel, prefetch=3)
    yield taker
    taker.redis.close()


def test_a_take_brings_several_messages_in_one_round_trip_all_recorded_before_delivery(
        redis_url: str, taker: _Taker, monkeypatch: pytest.MonkeyPatch) -> None:
    sent, others = _commands_sent(taker.channel, monkeypatch)
    taker.drain()
    assert taker.numbers() == [0, 1, 2]  # the prefetch's room, in publish order
    assert sent == ["EVALSHA"] and others == []
    tags = {m.delivery_tag.encode() for m in taker.messages}
    # Every message of the take was in the unacknowledged hash before the first was delivered.
    assert all(recorded == tags for recorded in taker.recorded_at_delivery)
    assert _unacked(redis_url, taker.channel) == (3, 3)


def test_the_prefetch_is_never_exceeded_and_order_is_kept(redis_url: str,
                                                          taker: _Taker) -> None:
    taker.drain()
    taker.drain()  # no room: nothing is taken
    assert taker.numbers() == [0, 1, 2]
    taker.messages[0].ack()
    taker.drain()
    assert taker.numbers() == [0, 1, 2, 3]
    for message in taker.messages[1:]:
        message.ack()
    taker.drain()
    assert taker.numbers() == [0, 1, 2, 3, 4]
    taker.messages[-1].ack()
    taker.channel.qos.can_consume()
    assert _unacked(redis_url, taker.channel) == (0, 0)


def test_taken_messages_beyond_a_shrunk_prefetch_go_back_to_the_front(redis_url: str,
                                                                      taker: _Taker) -> None:
    taker.channel.connection.cycle._register_BRPOP(taker.channel)  # a take for three is sent...
    taker.channel.qos.prefetch_count = 1  # ...when the prefetch shrinks
    assert taker.channel._brpop_read()
    assert taker.numbers() == [0]
    assert _unacked(redis_url, taker.channel) == (1, 1)
    client = redis.Redis.from_url(redis_url)
    try:
        queued = [json.loads(m)["headers"]["argsrepr"] for m in reversed(client.lrange(QUEUE, 0, -1))]
    finally:
        client.close()
    assert queued == ["(1,)", "(2,)", "(3,)", "(4,)"]


def test_a_closed_channel_puts_back_every_taken_message(redis_url: str,
                                                                  taker: _Taker) -> None:
    taker.drain()
    taker.channel.close()
    client = redis.Redis.from_url(redis_url)
    try:
        queued = [json.loads(m)["headers"]["argsrepr"] for m in reversed(client.lrange(QUEUE, 0, -1))]
    finally:
        client.close()
    # kombu's restore puts them back one by one, its own way round: what matters is all are back.
    assert sorted(queued) == [f"({n},)" for n in range(5)]
    assert _unacked(redis_url, taker.channel) == (0, 0)


_KILLED_WORKER = textwrap.dedent("""
    import os, signal, sys
    from tierline.config.settings import Settings
    from tierline.workers.celery_app import create_app

    app = create_app(Settings(broker_url=sys.argv[1]))
    with app.connection_for_write() as conn:
        channel = conn.channel()
        channel.basic_qos(0, 3, False)
        channel.basic_consume(sys.argv[2], False, lambda m: os.kill(os.getpid(), signal.SIGKILL),
                              "doomed")
        conn.drain_events(timeout=5)
""")


def test_a_worker_killed_after_a_take_has_every_taken_message_delivered_again(
        redis_url: str) -> None:
    app = create_app(Settings(broker_url=redis_url))
    for n in range(5):
        app.send_task(TASK, (n,), queue=QUEUE)
    killed = subprocess.run([sys.executable, "-c", _KILLED_WORKER, redis_url, QUEUE],
                            env=os.environ, capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr.decode()
    app.conf.broker_transport_options = {"visibility_timeout": 0}
    with app.connection_for_write() as conn:
        channel = conn.channel()
        assert _unacked(redis_url, channel) == (3, 3)  # all three recorded, none lost
        channel.qos.restore_visible(num=100, interval=1)  # the sweep, their timeout past
        taken = [channel.basic_get(QUEUE, no_ack=True) for _ in range(5)]
        assert sorted(m.headers["argsrepr"] for m in taken) == [f"({n},)" for n in range(5)]
        assert all(m.headers["argsrepr"] != "(0,)" or m.delivery_info["redelivered"]
                   for m in taken)
        channel.close()
    app.close()


def test_other_channels_are_served_by_kombu(redis_url: str, channel: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sent, _ = _commands_sent(channel, monkeypatch)
    got: list[Any] = []
    channel.basic_consume(QUEUE, True, got.append, "no-acks")  # nothing to record
    channel.connection.client.drain_events(timeout=1)
    assert len(got) == 1 and sent == ["BRPOP"]
    assert _unacked(redis_url, channel) == (0, 0)


def test_a_message_the_take_cannot_read_is_left_to_kombu(redis_url: str, channel: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.rpush(QUEUE, "not a message")  # at the tail: the next to be taken
    finally:
        client.close()
    sent, _ = _commands_sent(channel, monkeypatch)
    channel.basic_qos(0, 3, False)
    channel.basic_consume(QUEUE, False, lambda m: None, "taker")
    with pytest.raises(ValueError):  # kombu's BRPOP takes it and fails on it, as it always has
        for _ in range(3):
            channel.connection.client.drain_events(timeout=0.5)
    assert sent == ["EVALSHA", "BRPOP"]


def test_a_take_stops_before_a_message_it_cannot_read_and_leaves_the_rest_in_order(
        redis_url: str, channel: Any) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        second = client.lindex(QUEUE, -2)
        assert isinstance(second, bytes)
        client.linsert(QUEUE, "AFTER", second.decode(), "not a message")  # the second to go
        taker = _Taker(redis_url, channel, prefetch=3)
        taker.drain()
        taker.redis.close()
        assert taker.numbers() == [0]
        # The unreadable message is next, the others behind it as they were.
        assert client.lindex(QUEUE, -1) == b"not a message"
        queued = [json.loads(m)["headers"]["argsrepr"] for m in client.lrange(QUEUE, 0, -2)]
        assert queued == ["(4,)", "(3,)", "(2,)", "(1,)"]
    finally:
        client.close()
    assert _unacked(redis_url, channel) == (1, 1)


def test_an_empty_queue_is_waited_on_without_taking_from_it(
        redis_url: str, taker: _Taker, monkeypatch: pytest.MonkeyPatch) -> None:
    taker.channel.basic_qos(0, 10, False)
    taker.drain()
    assert taker.numbers() == [0, 1, 2, 3, 4]
    sent, _ = _commands_sent(taker.channel, monkeypatch)
    taker.drain()  # nothing to take: the channel waits
    assert sent == ["EVALSHA", "BLMOVE"]
    taker.redis.lpush(QUEUE, envelope(TASK, (5,), QUEUE, "test"))
    with contextlib.suppress(TimeoutError):
        taker.channel.connection.client.drain_events(timeout=2)
    assert taker.numbers() == [0, 1, 2, 3, 4, 5]
    # The wait woke without taking the message: the take after it took and recorded it.
    assert sent == ["EVALSHA", "BLMOVE", "EVALSHA"]
    assert _unacked(redis_url, taker.channel) == (6, 6)
