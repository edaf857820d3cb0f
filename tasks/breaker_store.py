"""The fleet's circuit breakers in Redis: every worker on every host sees one state per endpoint.

Key layout (one hash per endpoint, nothing else):

    tierline:breaker:<endpoint label>
        failures         retryable failures in a row
        last_failure_at  seconds since the epoch (the callers' clocks, kept in step by NTP)
        opened_at        when the breaker opened; absent while closed
        probe_until      a half-open probe holds the endpoint until then

A success deletes the key. Failures are forgotten `forget_after_s` after the last one by the
callers' clock, as in `routing.breaker` (the script and `states` check `last_failure_at`); each
failure also sets the key's time to live to `forget_after_s`, so Redis drops it without a caller.
Each step is one Lua script, so two workers never both take the probe lease; a tier drain's
flush asks once for all its calls to an endpoint, and reports their outcomes in one step
(`tasks.flush_breakers`). The script repeats the transitions of `routing.breaker`;
tests/integration/test_breaker_stores_agree.py drives both stores with the same generated event
sequences and keeps them in step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import RedisError

from tierline.routing.breaker import BreakerPolicy, BreakerState, outcomes_in_short

log = logging.getLogger(__name__)

KEY_PREFIX = "tierline:breaker:"

# ARGV: op, now, threshold, open_for, lease, forget, then for 'admit' the callers asking at once
# (replies: how many may call, and the others' wait, 0 only while closed), for 'record' whether
# any call answered (1/0) and the failures after the last answer (`outcomes_in_short`).
_SCRIPT = """
local key, op, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local threshold, open_for = tonumber(ARGV[3]), tonumber(ARGV[4])
local lease, forget = tonumber(ARGV[5]), tonumber(ARGV[6])
local last = tonumber(redis.call('HGET', key, 'last_failure_at') or '')
if last and now >= last + forget then redis.call('DEL', key) end
local opened = tonumber(redis.call('HGET', key, 'opened_at') or '')
if op == 'admit' then
  if not opened then return {tonumber(ARGV[7]), '0'} end
  local reopens = opened + open_for
  if now < reopens then return {0, string.format('%.6f', reopens - now)} end
  local probe = tonumber(redis.call('HGET', key, 'probe_until') or '0')
  if now < probe then return {0, string.format('%.6f', math.min(probe - now, open_for))} end
  redis.call('HSET', key, 'probe_until', string.format('%.6f', now + lease))
  return {1, string.format('%.6f', math.min(lease, open_for))}
end
if ARGV[7] == '1' then
  redis.call('DEL', key)
  opened = nil
end
local failed = tonumber(ARGV[8])
if failed == 0 then return '0' end
local failures = redis.call('HINCRBY', key, 'failures', failed)
redis.call('HSET', key, 'last_failure_at', ARGV[2])
if opened or failures >= threshold then
  redis.call('HSET', key, 'opened_at', ARGV[2], 'probe_until', '0')
end
redis.call('PEXPIRE', key, math.floor(forget * 1000))
return '0'
"""


class RedisBreakers:
    """`routing.breaker.Breakers` kept in Redis, for a fleet of workers."""

    def __init__(self, client: Any, policy: BreakerPolicy | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.policy = policy or BreakerPolicy()
        self._client = client
        self._clock = clock
        self._script = client.register_script(_SCRIPT)

    @classmethod
    def from_url(cls, url: str, policy: BreakerPolicy | None = None) -> RedisBreakers:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # A breaker lookup must never hold a call up for long: Redis is on the local network,
        # and while it is away the breakers fail open at once (the client's default retries
        # would wait seconds per lookup).
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1,
                                      retry=Retry(NoBackoff(), 1))
        return cls(client, policy)

    def _run(self, op: str, endpoint: str, *args: int) -> Any:
        p = self.policy
        return self._script(keys=[KEY_PREFIX + endpoint],
                            args=[op, f"{self._clock():.6f}", p.failures_to_open, p.open_for_s,
                                  p.probe_lease_s, p.forget_after_s, *args])

    def admit_many(self, endpoint: str, calls: int) -> tuple[int, float]:
        try:
            admitted, wait = self._run("admit", endpoint, calls)
        except RedisError as exc:
            # Unreachable state fails open: the call goes ahead as if the breaker were closed.
            # Stopping calls because Redis blinked would turn a broker hiccup into failed jobs.
            log.warning("circuit breaker of %s unreadable, calling anyway: %s", endpoint, exc)
            return calls, 0.0
        return int(admitted), float(wait)

    def admit(self, endpoint: str) -> float:
        admitted, wait = self.admit_many(endpoint, 1)
        return 0.0 if admitted else wait

    def record_many(self, endpoint: str, outcomes: Sequence[bool]) -> None:
        answered, failed = outcomes_in_short(outcomes)
        try:
            self._run("record", endpoint, int(answered), failed)
        except RedisError as exc:
            log.warning("circuit breaker of %s not updated: %s", endpoint, exc)

    def record(self, endpoint: str, ok: bool) -> None:
        self.record_many(endpoint, [ok])

    def states(self) -> dict[str, BreakerState]:
        out: dict[str, BreakerState] = {}
        now = self._clock()
        for key in sorted(self._client.scan_iter(match=KEY_PREFIX + "*")):
            fields = {k.decode(): v.decode() for k, v in self._client.hgetall(key).items()}
            if not fields:
                continue  # expired between the scan and the read
            last_failure_at = float(fields.get("last_failure_at", 0))
            if now >= last_failure_at + self.policy.forget_after_s:
                continue  # forgotten, and not yet dropped by Redis
            opened = fields.get("opened_at")
            out[key.decode()[len(KEY_PREFIX):]] = BreakerState(
                failures=int(fields.get("failures", 0)),
                last_failure_at=last_failure_at,
                opened_at=float(opened) if opened else None,
                probe_until=float(fields.get("probe_until", 0)))
        return out

    def close(self) -> None:
        self._client.close()
