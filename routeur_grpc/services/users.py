"""Users, their API keys and their usage: what admins manage and users see of themselves.

Admin-only methods are refused earlier, by the access table (`method_access`). The methods
that users may call for themselves (their account, keys and usage) take a `user_id` that
must be theirs (`me` names the caller); anyone else's answers NOT_FOUND, exactly as a
missing user does, so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.records import USER_ROLES, ApiKey, DailyUsage, UsageRecord, User
from routeur_grpc.domain.repositories import (
    ApiKeyRepository,
    Page,
    UsageRepository,
    UserRepository,
)
from routeur_grpc.errors import FailedPrecondition, InvalidArgument, NotFound
from routeur_grpc.services.api_keys import NewApiKey, new_api_key
from routeur_grpc.services.authentication import Authenticator
from routeur_grpc.services.passwords import hash_password

SELF = "me"
DEFAULT_USAGE_DAYS = 30
MAX_USAGE_DAYS = 366
DEFAULT_RECENT_REQUESTS = 50
MAX_KEY_LIFETIME_S = 10 * 366 * 86400


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new key: its record, and its secret, shown this once."""

    key: ApiKey
    secret: str


@dataclass(frozen=True, slots=True)
class UsageReport:
    days: list[DailyUsage]
    total: DailyUsage


@dataclass(frozen=True, slots=True)
class UserChange:
    """What UpdateUser changes; None leaves a field as it is."""

    display_name: str | None = None
    role: str | None = None
    disabled: bool | None = None
    password: str | None = None


class UserAdministration:
    """Accounts, keys and usage, with the rule of who may see whose."""

    def __init__(
        self,
        users: UserRepository,
        api_keys: ApiKeyRepository,
        usage: UsageRepository,
        authenticator: Authenticator | None,
    ) -> None:
        self._users = users
        self._api_keys = api_keys
        self._usage = usage
        self._authenticator = authenticator

    # --- Accounts (admins) -------------------------------------------------------------
    async def create_user(
        self, *, username: str, display_name: str, role: str, password: str
    ) -> User:
        role = role or "user"
        _check_role(role)
        password_hash = await hash_password(password) if password else ""
        user = await self._users.create(username=username, display_name=display_name, role=role)
        if password_hash:
            await self._users.set_password_hash(user.user_id, password_hash)
        return user

    async def list_users(self, page_size: int, page_token: str) -> Page[User]:
        return await self._users.list(page_size=page_size, page_token=page_token)

    async def get_user(self, caller: Caller, user_id: str) -> User:
        return await self._users.get(self._own(caller, user_id))

    async def update_user(self, caller: Caller, user_id: str, change: UserChange) -> User:
        if change.role is not None:
            _check_role(change.role)
        if user_id == caller.user_id and (change.disabled or change.role not in (None, "admin")):
            # Nobody could undo it if this was the last admin.
            raise FailedPrecondition(
                "You cannot disable your own account or give up your own admin role: ask "
                "another admin."
            )
        if change.password is not None:
            password_hash = await hash_password(change.password) if change.password else ""
            await self._users.set_password_hash(user_id, password_hash)
        user = await self._users.update(
            user_id, display_name=change.display_name, role=change.role, disabled=change.disabled
        )
        self._forget_user(user.user_id)
        return user

    async def delete_user(self, user_id: str) -> None:
        await self._users.delete(user_id)
        self._forget_user(user_id)
        if self._authenticator is not None:
            self._authenticator.forget_keys()

    # --- API keys (self-service) ---------------------------------------------------------
    async def create_api_key(
        self, caller: Caller, user_id: str, name: str, expires_in_s: int
    ) -> CreatedApiKey:
        owner = self._own(caller, user_id)
        if not 0 <= expires_in_s <= MAX_KEY_LIFETIME_S:
            raise InvalidArgument(
                f"`expires_in` must be 0 (never) to {MAX_KEY_LIFETIME_S} seconds.",
                metadata={"field": "expires_in"},
            )
        expire_time = (
            datetime.now(UTC) + timedelta(seconds=expires_in_s) if expires_in_s else None
        )
        made: NewApiKey = new_api_key()
        key = await self._api_keys.create(
            user_id=owner,
            name=name,
            prefix=made.prefix,
            secret_hash=made.secret_hash,
            expire_time=expire_time,
        )
        return CreatedApiKey(key, made.secret)

    async def list_api_keys(self, caller: Caller, user_id: str) -> list[ApiKey]:
        owner = self._own(caller, user_id)
        await self._users.get(owner)  # an unknown user is NOT_FOUND, not an empty list
        page = await self._api_keys.list_for_user(owner, page_size=1000)
        return list(page.items)

    async def revoke_api_key(self, caller: Caller, user_id: str, key_id: str) -> ApiKey:
        key = await self._api_keys.revoke(self._own(caller, user_id), key_id)
        if self._authenticator is not None:
            self._authenticator.forget_keys()
        return key

    # --- Usage (self-service) ------------------------------------------------------------
    async def usage(
        self, caller: Caller, user_id: str, start_date: str, end_date: str
    ) -> UsageReport:
        owner = self._own(caller, user_id)
        await self._users.get(owner)
        last = _day("end_date", end_date) if end_date else datetime.now(UTC).date()
        first = (
            _day("start_date", start_date)
            if start_date
            else last - timedelta(days=DEFAULT_USAGE_DAYS - 1)
        )
        if first > last or (last - first).days >= MAX_USAGE_DAYS:
            raise InvalidArgument(
                f"`start_date` must be on or before `end_date`, at most {MAX_USAGE_DAYS} days "
                "apart.",
                metadata={"field": "start_date"},
            )
        days = await self._usage.daily(owner, first_day=first, last_day=last)
        total = await self._usage.total(owner, first_day=first, last_day=last)
        return UsageReport(
            days=days,
            total=DailyUsage(
                owner_id=owner,
                day=first,
                requests=total.requests,
                prompt_tokens=total.prompt_tokens,
                completion_tokens=total.completion_tokens,
                cost=total.cost,
                emissions_g=total.emissions_g,
                audio_seconds=total.audio_seconds,
            ),
        )

    async def recent_requests(
        self, caller: Caller, user_id: str, page_size: int
    ) -> list[UsageRecord]:
        owner = self._own(caller, user_id)
        await self._users.get(owner)
        if page_size < 0:
            raise InvalidArgument("`page_size` must be 0 (default) or more.")
        limit = min(page_size or DEFAULT_RECENT_REQUESTS, 1000)
        return await self._usage.recent(owner, limit=limit)

    # --- Rules --------------------------------------------------------------------------
    def _own(self, caller: Caller, user_id: str) -> str:
        """The user a self-service request is about: the caller's own id, or any for admins."""
        if user_id in ("", SELF):
            return caller.user_id
        if caller.is_admin or user_id == caller.user_id:
            return user_id
        # The same answer as for a user that does not exist.
        raise NotFound(f"user {user_id} not found.")

    def _forget_user(self, user_id: str) -> None:
        if self._authenticator is not None:
            self._authenticator.forget_user(user_id)


def _check_role(role: str) -> None:
    if role not in USER_ROLES:
        raise InvalidArgument(
            f"`role` must be one of {', '.join(sorted(USER_ROLES))}.", metadata={"field": "role"}
        )


def _day(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(
            f"`{field}` must be a day written YYYY-MM-DD.", metadata={"field": field}
        ) from None
