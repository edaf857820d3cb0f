"""The visibility heartbeat renews, in the real Redis, the messages its worker still holds,
and only those: an acknowledged message is not brought back to life."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import redis

from tierline.workers.heartbeat import VisibilityHeartbeat

pytestmark = pytest.mark.integration


def test_held_messages_are_renewed_and_acknowledged_ones_stay_gone(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.zadd("unacked_index", {"held": 100.0, "other-workers": 100.0})
    qos = SimpleNamespace(_delivered={"held": object(), "acked": object()}, _dirty={"acked"})
    channel = SimpleNamespace(qos=qos, unacked_index_key="unacked_index")
    consumer = SimpleNamespace(task_consumer=SimpleNamespace(channel=channel))
    heartbeat = VisibilityHeartbeat(consumer, redis_url, every_s=60)
    try:
        assert heartbeat.beat() == 1
    finally:
        heartbeat.stop()
    held = client.zscore("unacked_index", "held")
    assert held is not None and float(held) > 1_000_000_000  # renewed to now
    # Another worker's message is left to expire; an acknowledged one is not brought back.
    assert client.zscore("unacked_index", "other-workers") == 100.0
    assert client.zscore("unacked_index", "acked") is None
    client.close()


def test_a_consumer_without_a_channel_yet_renews_nothing(redis_url: str) -> None:
    heartbeat = VisibilityHeartbeat(SimpleNamespace(task_consumer=None), redis_url, every_s=60)
    try:
        assert heartbeat.beat() == 0
    finally:
        heartbeat.stop()
