"""Telling an outage (the database or the broker unreachable) from a crash, and how long to
wait one out.

An outage is waited out: the step is tried again with backoff for `outage_window_s`, and only
then is its job failed. A crash (anything else) is a step that may crash every time: it is
retried a few times and then quarantined (`tasks.deliveries`).
"""

from __future__ import annotations

import random

from kombu.exceptions import OperationalError as BrokerUnreachable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import InterfaceError as DatabaseInterfaceError
from sqlalchemy.exc import OperationalError as DatabaseUnreachable

_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    DatabaseUnreachable, DatabaseInterfaceError, DisconnectionError, BrokerUnreachable,
    RedisConnectionError, RedisTimeout, ConnectionError, TimeoutError,
)
MAX_OUTAGE_DELAY_S = 5.0


def is_outage(exc: BaseException) -> bool:
    """True when `exc`, or anything it was raised from, says a server could not be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGE_TYPES):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def outage_delay(elapsed_s: float) -> float:
    """Seconds before the next try: short at first (most outages are a restart), then at most
    `MAX_OUTAGE_DELAY_S`, jittered so a fleet does not come back in step."""
    ceiling = min(MAX_OUTAGE_DELAY_S, 0.5 + elapsed_s / 4)
    return random.uniform(ceiling / 2, ceiling)


def outage_over(since: float, now: float, window_s: float) -> bool:
    """The outage has lasted the whole window: time to fail the job (if the database lets us)."""
    return since > 0 and now - since >= window_s
