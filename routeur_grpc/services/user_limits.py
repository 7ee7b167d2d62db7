"""Per-user rate limits and budget: set by admins, read on every limited request.

Reads go through a short per-instance cache (`CACHE_TTL_S`, 5 s): a change made through an
instance applies there at once, and on the others within those seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from routeur_grpc.domain.records import UserLimits
from routeur_grpc.domain.repositories import UserLimitsRepository, UserRepository
from routeur_grpc.errors import InvalidArgument

CACHE_TTL_S = 5.0


class UserLimitsService:
    """Reads (cached) and changes users' own limits; `limits_of` feeds the quota policy."""

    def __init__(
        self,
        repository: UserLimitsRepository,
        users: UserRepository,
        *,
        ttl_s: float = CACHE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._users = users
        self._ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, UserLimits | None]] = {}

    async def limits_of(self, user_id: str) -> UserLimits | None:
        now = self._clock()
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        limits = await self._repository.get(user_id)
        if len(self._cache) > 10_000:  # idle users' entries go; the next read refills
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[user_id] = (now + self._ttl_s, limits)
        return limits

    async def get(self, user_id: str) -> UserLimits | None:
        """The user's own limits (None: the defaults); NotFound for an unknown user."""
        _require(user_id)
        await self._users.get(user_id)
        return await self._repository.get(user_id)

    async def set(
        self,
        user_id: str,
        *,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        budget: float | None,
    ) -> UserLimits:
        _require(user_id)
        limits = await self._repository.set(
            user_id,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            budget=budget,
        )
        self._cache.pop(user_id, None)
        return limits


def _require(user_id: str) -> None:
    if not user_id.strip():
        raise InvalidArgument("`user_id` is empty: name the user whose limits to read or set.")
