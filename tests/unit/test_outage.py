"""Telling an outage from a crash, and the waits while one lasts."""

from __future__ import annotations

import pytest
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisDown
from sqlalchemy.exc import OperationalError, ProgrammingError

from tierline.tasks.outage import MAX_OUTAGE_DELAY_S, is_outage, outage_delay, outage_over


def _raised_from(cause: BaseException) -> Exception:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        return wrapped


@pytest.mark.parametrize("exc", [
    OperationalError("SELECT 1", {}, Exception("connection refused")),
    BrokerError("Error 111 connecting to 127.0.0.1:6379"),
    RedisDown("Connection reset by peer"),
    ConnectionRefusedError(),
    _raised_from(RedisDown("gone")),
], ids=lambda e: type(e).__name__)
def test_unreachable_servers_are_outages(exc: Exception) -> None:
    assert is_outage(exc)


@pytest.mark.parametrize("exc", [
    KeyError("field"), ValueError("bad spec"),
    ProgrammingError("SELECT nope", {}, Exception("syntax error")),
    _raised_from(ZeroDivisionError()),
], ids=lambda e: type(e).__name__)
def test_bugs_are_not_outages(exc: Exception) -> None:
    assert not is_outage(exc)


def test_waits_start_short_and_stay_bounded() -> None:
    assert all(0 < outage_delay(0) <= 0.5 for _ in range(100))
    assert all(MAX_OUTAGE_DELAY_S / 2 <= outage_delay(600) <= MAX_OUTAGE_DELAY_S
               for _ in range(100))


def test_the_window_counts_from_the_outages_start() -> None:
    assert not outage_over(0.0, 1_000.0, 120)  # no outage under way
    assert not outage_over(900.0, 1_000.0, 120)
    assert outage_over(880.0, 1_000.0, 120)
