"""The fleet's rate limits in Redis: every worker on every host shares one state per endpoint.

Key layout (one hash and one sorted set per endpoint):

    tierline:limit:<endpoint label>            hash: request_tat, token_tat (seconds, epoch)
    tierline:limit:<endpoint label>:inflight   sorted set: lease id -> expiry time

Acquiring is one Lua script with the arithmetic of `routing.limiter.admit`, so two workers never
both take the last slot. The callers' clocks are used (kept in step by NTP), as the breakers do.
Limiting fails open: with Redis unreachable, calls go ahead unlimited (the provider's own 429s
and the breakers still apply).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from redis.exceptions import RedisError

from tierline.config.tiers import Endpoint
from tierline.routing.limiter import Admission, Limits

log = logging.getLogger(__name__)

KEY_PREFIX = "tierline:limit:"

_SCRIPT = """
local key, flight = KEYS[1], KEYS[2]
local now, tokens, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local rpm, tpm, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local lease_s = tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', flight, '-inf', now)
local wait = 0
local rtat = tonumber(redis.call('HGET', key, 'request_tat') or '0')
local ttat = tonumber(redis.call('HGET', key, 'token_tat') or '0')
if rpm > 0 then wait = math.max(wait, rtat - now - 60 / rpm) end
if tpm > 0 then wait = math.max(wait, ttat - now - 60 / tpm) end
if cap > 0 and redis.call('ZCARD', flight) >= cap then
  local first = redis.call('ZRANGE', flight, 0, 0, 'WITHSCORES')
  wait = math.max(wait, 0.01, tonumber(first[2]) - now)
end
if wait > 0 then return string.format('%.6f', wait) end
if rpm > 0 then
  local next_tat = math.max(rtat, now) + 60 / rpm
  redis.call('HSET', key, 'request_tat', string.format('%.6f', next_tat))
end
if tpm > 0 then
  local next_tat = math.max(ttat, now) + tokens * 60 / tpm
  redis.call('HSET', key, 'token_tat', string.format('%.6f', next_tat))
end
redis.call('EXPIRE', key, 600)
if cap > 0 then
  redis.call('ZADD', flight, now + lease_s, lease)
  redis.call('EXPIRE', flight, math.ceil(lease_s) + 60)
end
return '0'
"""


class RedisLimiter:
    def __init__(self, client: Any, clock: Any = time.time) -> None:
        self._client = client
        self._clock = clock
        self._script = client.register_script(_SCRIPT)

    @classmethod
    def from_url(cls, url: str) -> RedisLimiter:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                        retry_on_timeout=False))

    def acquire(self, endpoint: Endpoint, tokens: int) -> Admission:
        limits = Limits.of(endpoint)
        if limits.unlimited:
            return Admission(0.0)
        lease = uuid.uuid4().hex
        key = KEY_PREFIX + endpoint.label
        try:
            wait = float(self._script(keys=[key, key + ":inflight"], args=[
                f"{self._clock():.6f}", tokens, lease, limits.rpm or 0, limits.tpm or 0,
                limits.max_in_flight or 0, limits.lease_s]))
        except RedisError as exc:
            log.warning("rate limits unavailable, calling %s unlimited: %r", endpoint.label, exc)
            return Admission(0.0)
        return Admission(wait) if wait > 0 else Admission(0.0, lease)

    def release(self, endpoint: Endpoint, lease: str) -> None:
        if Limits.of(endpoint).max_in_flight is None:
            return
        try:
            self._client.zrem(KEY_PREFIX + endpoint.label + ":inflight", lease)
        except RedisError as exc:
            log.warning("could not release a call slot of %s: %r", endpoint.label, exc)

    def close(self) -> None:
        self._client.close()
