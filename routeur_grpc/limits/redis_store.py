"""Counters in Redis: shared by every Routeur instance that names the same server.

Each call is one Lua script, run atomically by Redis: checking every counter and applying
every charge cannot interleave with another instance's call. The time is the calling
instance's clock (passed in, so every instance's clock should be in sync, as job leases
already need). Keys live under `routeur:limits:` and expire on their own: a window's keys
one window after their last use, a period's keys after the period.

Per counter, two keys: a sorted set (window: entry start times; period: hold expiries) and a
hash (window: entry amounts; period: hold amounts, and `@used` for what was settled).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from routeur_grpc.limits.counters import (
    Charge,
    Counter,
    CounterState,
    CountersUnavailable,
    Verdict,
)

log = logging.getLogger(__name__)

KEY_PREFIX = "routeur:limits:"
CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 2.0

# KEYS: two per counter (sorted set, hash). ARGV: now, hold_id, hold_ttl, then per counter:
# kind ("w" or "p"), limit, window_s, period_end, amount.
# Returns {allowed, refused index (0: none), retry_after, used_1, reset_1, used_2, ...}
# with numbers as strings (Redis would truncate Lua floats to integers).
_RESERVE = """
local now = tonumber(ARGV[1])
local id = ARGV[2]
local ttl = tonumber(ARGV[3])
local n = (#ARGV - 3) / 5
local used = {}
for i = 1, n do
  local b = 3 + (i - 1) * 5
  local kind, limit = ARGV[b + 1], tonumber(ARGV[b + 2])
  local window, amount = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 5])
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local total = 0
  local gone
  if kind == 'w' then
    gone = redis.call('ZRANGEBYSCORE', z, '-inf', now - window)
  else
    gone = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  end
  for _, member in ipairs(gone) do
    redis.call('ZREM', z, member)
    redis.call('HDEL', h, member)
  end
  local values = redis.call('HVALS', h)
  for _, value in ipairs(values) do total = total + tonumber(value) end
  if amount > 0 and total + amount > limit then
    local retry = window
    if kind == 'w' then
      local entries = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
      local freed = 0
      for j = 1, #entries, 2 do
        freed = freed + tonumber(redis.call('HGET', h, entries[j]) or '0')
        if total - freed + amount <= limit then
          retry = tonumber(entries[j + 1]) + window - now
          break
        end
      end
    else
      retry = tonumber(ARGV[b + 4]) - now
    end
    return {0, i, tostring(retry)}
  end
  used[i] = total
end
local out = {1, 0, '0'}
for i = 1, n do
  local b = 3 + (i - 1) * 5
  local kind, window = ARGV[b + 1], tonumber(ARGV[b + 3])
  local period_end, amount = tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local reset
  if kind == 'w' then
    if not redis.call('ZSCORE', z, id) then redis.call('ZADD', z, now, id) end
    redis.call('HINCRBYFLOAT', h, id, amount)
    local ms = math.ceil(window * 1000) + 1000
    redis.call('PEXPIRE', z, ms)
    redis.call('PEXPIRE', h, ms)
    local newest = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
    reset = tonumber(newest[2]) + window - now
  else
    redis.call('ZADD', z, now + ttl, id)
    redis.call('HINCRBYFLOAT', h, id, amount)
    local at = math.ceil(period_end) + 3600
    redis.call('EXPIREAT', z, at)
    redis.call('EXPIREAT', h, at)
    reset = period_end - now
  end
  table.insert(out, tostring(used[i] + amount))
  table.insert(out, tostring(reset))
end
return out
"""

# KEYS as for _RESERVE. ARGV: hold_id, then per counter: kind, period_end, amount.
_SETTLE = """
local id = ARGV[1]
local n = (#ARGV - 1) / 3
for i = 1, n do
  local b = 1 + (i - 1) * 3
  local kind, period_end, amount = ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3]
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  if kind == 'w' then
    if redis.call('HEXISTS', h, id) == 1 then redis.call('HSET', h, id, amount) end
  else
    redis.call('ZREM', z, id)
    redis.call('HDEL', h, id)
    redis.call('HINCRBYFLOAT', h, '@used', amount)
    redis.call('EXPIREAT', h, math.ceil(period_end) + 3600)
  end
end
return 1
"""

# KEYS as for one counter. ARGV: amount, period_end. Sets `@used` only if absent.
_SEED = """
if redis.call('HSETNX', KEYS[2], '@used', ARGV[1]) == 1 then
  redis.call('EXPIREAT', KEYS[2], math.ceil(tonumber(ARGV[2])) + 3600)
end
return 1
"""


class RedisCounters:
    """`CounterStore` in Redis, through the `redis` package's asyncio client."""

    def __init__(self, url: str) -> None:
        self._client = aioredis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=COMMAND_TIMEOUT_S,
            decode_responses=True,
        )
        self._reserve = self._client.register_script(_RESERVE)
        self._settle = self._client.register_script(_SETTLE)
        self._seed = self._client.register_script(_SEED)

    async def reserve(
        self, hold_id: str, charges: Sequence[Charge], *, now: float, hold_ttl_s: float
    ) -> Verdict:
        keys: list[str] = []
        args: list[str | float] = [repr(now), hold_id, repr(hold_ttl_s)]
        for charge in charges:
            counter = charge.counter
            keys += _keys(counter)
            args += [
                "w" if counter.kind == "window" else "p",
                repr(float(counter.limit)),
                repr(float(counter.window_s)),
                repr(float(counter.period_end)),
                repr(float(charge.amount)),
            ]
        reply = await self._call(self._reserve, keys, args)
        allowed, refused, retry = int(reply[0]), int(reply[1]), float(reply[2])
        if not allowed:
            return Verdict(False, (), charges[refused - 1].counter, max(0.0, retry))
        states = tuple(
            CounterState(charge.counter, float(reply[3 + 2 * i]), max(0.0, float(reply[4 + 2 * i])))
            for i, charge in enumerate(charges)
        )
        return Verdict(True, states)

    async def settle(self, hold_id: str, charges: Sequence[Charge], *, now: float) -> None:
        if not charges:
            return
        keys: list[str] = []
        args: list[str | float] = [hold_id]
        for charge in charges:
            counter = charge.counter
            keys += _keys(counter)
            args += [
                "w" if counter.kind == "window" else "p",
                repr(float(counter.period_end)),
                repr(float(charge.amount)),
            ]
        await self._call(self._settle, keys, args)

    async def seed(self, counter: Counter, amount: float) -> None:
        keys = _keys(counter)
        args: list[str | float] = [repr(float(amount)), repr(float(counter.period_end))]
        await self._call(self._seed, keys, args)

    async def _call(self, script: object, keys: list[str], args: list[str | float]) -> list[str]:
        try:
            return await script(keys=keys, args=args)  # type: ignore[operator,no-any-return]
        except (RedisError, OSError) as error:
            # The exception text may hold the server's address: log the type only.
            log.warning("rate-limit counters unreachable", extra={"error": type(error).__name__})
            raise CountersUnavailable(
                "The rate-limit counters (Redis, ROUTEUR_REDIS_URL) cannot be reached."
            ) from None

    async def ping(self) -> None:
        """Raise `CountersUnavailable` when Redis does not answer (the health check)."""
        try:
            await self._client.ping()
        except (RedisError, OSError):
            raise CountersUnavailable("Redis (ROUTEUR_REDIS_URL) does not answer.") from None

    async def aclose(self) -> None:
        await self._client.aclose()


def _keys(counter: Counter) -> list[str]:
    base = KEY_PREFIX + counter.key
    return [base + ":z", base + ":h"]
