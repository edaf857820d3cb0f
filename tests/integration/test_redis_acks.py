"""Acknowledgements on the real Redis are written together, once per event-loop turn, and an
acknowledged message is never restored; a message nobody acknowledged still is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tierline.config.settings import Settings
from tierline.workers.celery_app import create_app
from tierline.workers.redis_transport import QoS

pytestmark = pytest.mark.integration

QUEUE = "acks-test"


@pytest.fixture()
def channel(redis_url: str) -> Iterator[Any]:
    app = create_app(Settings(broker_url=redis_url))
    for n in range(5):
        app.send_task("acks-test.noop", (n,), queue=QUEUE)
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
    pipelines: list[Any] = []
    real_acquire = channel.conn_or_acquire

    def counted(*args: Any, **kwargs: Any) -> Any:
        pipelines.append(args)
        return real_acquire(*args, **kwargs)

    monkeypatch.setattr(channel, "conn_or_acquire", counted)
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
