"""Users and their API keys, in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from routeur_grpc.domain.records import MAX_NAME_CHARS, USER_ROLES, ApiKey, User
from routeur_grpc.domain.repositories import Page
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.ids import (
    IdGenerator,
    check_id,
    from_millis,
    is_valid_id,
    not_found,
    to_millis,
    utc_now,
)
from routeur_grpc.storage.paging import build_page, id_page
from routeur_grpc.storage.sqlite.database import SqliteDatabase

_USER_COLUMNS = "user_id, username, display_name, role, disabled, create_time, update_time"
_KEY_COLUMNS = (
    "key_id, user_id, name, prefix, secret_hash, create_time, last_used_time, revoked,"
    " expire_time"
)


def _user(row: sqlite3.Row) -> User:
    return User(
        user_id=row["user_id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        disabled=bool(row["disabled"]),
        create_time=from_millis(row["create_time"]),
        update_time=from_millis(row["update_time"]),
    )


def _key(row: sqlite3.Row) -> ApiKey:
    last_used = row["last_used_time"]
    expires = row["expire_time"]
    return ApiKey(
        key_id=row["key_id"],
        user_id=row["user_id"],
        name=row["name"],
        prefix=row["prefix"],
        secret_hash=row["secret_hash"],
        create_time=from_millis(row["create_time"]),
        last_used_time=None if last_used is None else from_millis(last_used),
        revoked=bool(row["revoked"]),
        expire_time=None if expires is None else from_millis(expires),
    )


class SqliteUserRepository:
    """`UserRepository` over the `users` table."""

    def __init__(self, db: SqliteDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def create(self, *, username: str, display_name: str = "", role: str = "user") -> User:
        username = check.name("username", username)
        display_name = check.name("display_name", display_name, required=False)
        role = check.choice("role", role, USER_ROLES)
        now = utc_now()
        user = User(self._ids.new_id(now), username, display_name, role, False, now, now)  # type: ignore[arg-type]
        async with self._db.write(conflict=f"A user named {username!r} exists already.") as tx:
            await tx.execute(
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, 0, ?, ?)",
                (user.user_id, username, display_name, role, to_millis(now), to_millis(now)),
            )
        return user

    async def get(self, user_id: str) -> User:
        user_id = check_id("user", user_id)
        row = await self._db.fetchone(
            f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = ?", (user_id,)
        )
        if row is None:
            raise not_found("user", user_id)
        return _user(row)

    async def get_by_username(self, username: str) -> User:
        username = check.name("username", username)
        row = await self._db.fetchone(
            f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)
        )
        if row is None:
            raise not_found("user named", repr(username))
        return _user(row)

    async def list(self, *, page_size: int = 0, page_token: str = "") -> Page[User]:
        query = id_page(("users.list",), page_size, page_token)
        after = "" if query.after is None else "WHERE user_id < ?"
        params = () if query.after is None else (query.after,)
        rows = await self._db.fetchall(
            f"SELECT {_USER_COLUMNS} FROM users {after} ORDER BY user_id DESC LIMIT ?",
            (*params, query.fetch),
        )
        return build_page(query, [_user(r) for r in rows], lambda u: u.user_id)

    async def update(
        self,
        user_id: str,
        *,
        display_name: str | None = None,
        role: str | None = None,
        disabled: bool | None = None,
    ) -> User:
        user_id = check_id("user", user_id)
        changes: dict[str, object] = {}
        if display_name is not None:
            changes["display_name"] = check.name("display_name", display_name, required=False)
        if role is not None:
            changes["role"] = check.choice("role", role, USER_ROLES)
        if disabled is not None:
            changes["disabled"] = int(check.flag("disabled", disabled))
        changes["update_time"] = to_millis(utc_now())
        # Column names come from the fixed keys above, never from the caller.
        assignments = ", ".join(f"{column} = ?" for column in changes)
        async with self._db.write() as tx:
            row = await tx.fetchone(
                f"UPDATE users SET {assignments} WHERE user_id = ? RETURNING {_USER_COLUMNS}",
                (*changes.values(), user_id),
            )
        if row is None:
            raise not_found("user", user_id)
        return _user(row)

    async def delete(self, user_id: str) -> None:
        user_id = check_id("user", user_id)
        async with self._db.write() as tx:
            # api_keys rows go with it (ON DELETE CASCADE).
            deleted = await tx.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
        if not deleted:
            raise not_found("user", user_id)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        user_id = check_id("user", user_id)
        password_hash = check.password_hash(password_hash)
        async with self._db.write() as tx:
            changed = await tx.execute(
                "UPDATE users SET password_hash = ?, update_time = ? WHERE user_id = ?",
                (password_hash, to_millis(utc_now()), user_id),
            )
        if not changed:
            raise not_found("user", user_id)

    async def password_hash(self, user_id: str) -> str:
        user_id = check_id("user", user_id)
        row = await self._db.fetchone(
            "SELECT password_hash FROM users WHERE user_id = ?", (user_id,)
        )
        if row is None:
            raise not_found("user", user_id)
        return str(row["password_hash"])


class SqliteApiKeyRepository:
    """`ApiKeyRepository` over the `api_keys` table."""

    def __init__(self, db: SqliteDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def create(
        self,
        *,
        user_id: str,
        name: str,
        prefix: str,
        secret_hash: str,
        expire_time: datetime | None = None,
    ) -> ApiKey:
        user_id = check_id("user", user_id)
        name = check.name("name", name)
        prefix = check.name("prefix", prefix, max_chars=MAX_NAME_CHARS)
        secret_hash = check.secret_hash(secret_hash)
        expire_time = check.optional_timestamp("expire_time", expire_time)
        now = utc_now()
        key = ApiKey(
            self._ids.new_id(now), user_id, name, prefix, secret_hash, now, None, False,
            expire_time,
        )
        async with self._db.write(
            conflict="An API key with this secret exists already.",
            reference=f"user {user_id} not found.",
        ) as tx:
            await tx.execute(
                f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?)",
                (
                    key.key_id, user_id, name, prefix, secret_hash, to_millis(now),
                    None if expire_time is None else to_millis(expire_time),
                ),
            )
        return key

    async def get(self, user_id: str, key_id: str) -> ApiKey:
        user_id = check_id("user", user_id)
        key_id = check_id("API key", key_id)
        row = await self._db.fetchone(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_id = ? AND user_id = ?",
            (key_id, user_id),
        )
        if row is None:
            raise not_found("API key", key_id)
        return _key(row)

    async def list_for_user(
        self, user_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[ApiKey]:
        user_id = check_id("user", user_id)
        query = id_page(("api_keys.list", user_id), page_size, page_token)
        after = "" if query.after is None else "AND key_id < ?"
        params = () if query.after is None else (query.after,)
        rows = await self._db.fetchall(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE user_id = ? {after}"
            " ORDER BY key_id DESC LIMIT ?",
            (user_id, *params, query.fetch),
        )
        return build_page(query, [_key(r) for r in rows], lambda k: k.key_id)

    async def find_by_secret_hash(self, secret_hash: str) -> ApiKey | None:
        secret_hash = check.secret_hash(secret_hash)
        row = await self._db.fetchone(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE secret_hash = ?", (secret_hash,)
        )
        return None if row is None else _key(row)

    async def revoke(self, user_id: str, key_id: str) -> ApiKey:
        user_id = check_id("user", user_id)
        key_id = check_id("API key", key_id)
        async with self._db.write() as tx:
            row = await tx.fetchone(
                f"UPDATE api_keys SET revoked = 1 WHERE key_id = ? AND user_id = ?"
                f" RETURNING {_KEY_COLUMNS}",
                (key_id, user_id),
            )
        if row is None:
            raise not_found("API key", key_id)
        return _key(row)

    async def touch_last_used(self, key_id: str, when: datetime | None = None) -> None:
        if not is_valid_id(key_id):
            return
        moment = utc_now() if when is None else check.timestamp("when", when)
        async with self._db.write() as tx:
            # MAX: a late, slower request must not move the time backwards.
            await tx.execute(
                "UPDATE api_keys SET last_used_time = MAX(COALESCE(last_used_time, 0), ?)"
                " WHERE key_id = ?",
                (to_millis(moment), key_id),
            )
