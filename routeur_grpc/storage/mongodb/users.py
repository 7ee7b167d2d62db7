"""Users and their API keys, in MongoDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument

from routeur_grpc.domain.records import MAX_NAME_CHARS, USER_ROLES, ApiKey, User
from routeur_grpc.domain.repositories import Page
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.ids import IdGenerator, check_id, is_valid_id, not_found, utc_now
from routeur_grpc.storage.mongodb.database import Document, MongoDatabase
from routeur_grpc.storage.mongodb.errors import mongo_errors
from routeur_grpc.storage.paging import build_page, id_page


def _user(doc: Document) -> User:
    return User(
        user_id=doc["_id"],
        username=doc["username"],
        display_name=doc["display_name"],
        role=doc["role"],
        disabled=doc["disabled"],
        create_time=doc["create_time"],
        update_time=doc["update_time"],
    )


def _key(doc: Document) -> ApiKey:
    return ApiKey(
        key_id=doc["_id"],
        user_id=doc["user_id"],
        name=doc["name"],
        prefix=doc["prefix"],
        secret_hash=doc["secret_hash"],
        create_time=doc["create_time"],
        last_used_time=doc["last_used_time"],
        revoked=doc["revoked"],
        expire_time=doc.get("expire_time"),
    )


class MongoUserRepository:
    """`UserRepository` over the `users` collection."""

    def __init__(self, db: MongoDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def create(self, *, username: str, display_name: str = "", role: str = "user") -> User:
        username = check.name("username", username)
        display_name = check.name("display_name", display_name, required=False)
        role = check.choice("role", role, USER_ROLES)
        now = utc_now()
        user_id = self._ids.new_id(now)
        with mongo_errors(conflict=f"A user named {username!r} exists already."):
            await self._db.users.insert_one(
                {
                    "_id": user_id,
                    "username": username,
                    "display_name": display_name,
                    "role": role,
                    "disabled": False,
                    "password_hash": "",
                    "create_time": now,
                    "update_time": now,
                }
            )
        return User(user_id, username, display_name, role, False, now, now)  # type: ignore[arg-type]

    async def get(self, user_id: str) -> User:
        user_id = check_id("user", user_id)
        with mongo_errors():
            doc = await self._db.users.find_one({"_id": user_id})
        if doc is None:
            raise not_found("user", user_id)
        return _user(doc)

    async def get_by_username(self, username: str) -> User:
        username = check.name("username", username)
        with mongo_errors():
            doc = await self._db.users.find_one({"username": username})
        if doc is None:
            raise not_found("user named", repr(username))
        return _user(doc)

    async def list(self, *, page_size: int = 0, page_token: str = "") -> Page[User]:
        query = id_page(("users.list",), page_size, page_token)
        filter_: Document = {} if query.after is None else {"_id": {"$lt": query.after}}
        with mongo_errors():
            cursor = self._db.users.find(filter_).sort("_id", DESCENDING).limit(query.fetch)
            docs = await cursor.to_list()
        return build_page(query, [_user(d) for d in docs], lambda u: u.user_id)

    async def update(
        self,
        user_id: str,
        *,
        display_name: str | None = None,
        role: str | None = None,
        disabled: bool | None = None,
    ) -> User:
        user_id = check_id("user", user_id)
        changes: dict[str, Any] = {"update_time": utc_now()}
        if display_name is not None:
            changes["display_name"] = check.name("display_name", display_name, required=False)
        if role is not None:
            changes["role"] = check.choice("role", role, USER_ROLES)
        if disabled is not None:
            changes["disabled"] = check.flag("disabled", disabled)
        with mongo_errors():
            doc = await self._db.users.find_one_and_update(
                {"_id": user_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
            )
        if doc is None:
            raise not_found("user", user_id)
        return _user(doc)

    async def delete(self, user_id: str) -> None:
        user_id = check_id("user", user_id)
        with mongo_errors():
            # Keys first: if we fail in between, the user is still there (and the delete can
            # be retried), but no key of theirs is left to authenticate with.
            await self._db.api_keys.delete_many({"user_id": user_id})
            result = await self._db.users.delete_one({"_id": user_id})
        if result.deleted_count == 0:
            raise not_found("user", user_id)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        user_id = check_id("user", user_id)
        password_hash = check.password_hash(password_hash)
        with mongo_errors():
            result = await self._db.users.update_one(
                {"_id": user_id},
                {"$set": {"password_hash": password_hash, "update_time": utc_now()}},
            )
        if result.matched_count == 0:
            raise not_found("user", user_id)

    async def password_hash(self, user_id: str) -> str:
        user_id = check_id("user", user_id)
        with mongo_errors():
            doc = await self._db.users.find_one({"_id": user_id}, projection={"password_hash": 1})
        if doc is None:
            raise not_found("user", user_id)
        return str(doc.get("password_hash", ""))


class MongoApiKeyRepository:
    """`ApiKeyRepository` over the `api_keys` collection."""

    def __init__(self, db: MongoDatabase, ids: IdGenerator) -> None:
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
        with mongo_errors(conflict="An API key with this secret exists already."):
            if await self._db.users.find_one({"_id": user_id}, projection={"_id": 1}) is None:
                raise not_found("user", user_id)
            await self._db.api_keys.insert_one(
                {
                    "_id": key.key_id,
                    "user_id": user_id,
                    "name": name,
                    "prefix": prefix,
                    "secret_hash": secret_hash,
                    "create_time": now,
                    "last_used_time": None,
                    "revoked": False,
                    "expire_time": expire_time,
                }
            )
        return key

    async def get(self, user_id: str, key_id: str) -> ApiKey:
        user_id = check_id("user", user_id)
        key_id = check_id("API key", key_id)
        with mongo_errors():
            doc = await self._db.api_keys.find_one({"_id": key_id, "user_id": user_id})
        if doc is None:
            raise not_found("API key", key_id)
        return _key(doc)

    async def list_for_user(
        self, user_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[ApiKey]:
        user_id = check_id("user", user_id)
        query = id_page(("api_keys.list", user_id), page_size, page_token)
        filter_: Document = {"user_id": user_id}
        if query.after is not None:
            filter_["_id"] = {"$lt": query.after}
        with mongo_errors():
            cursor = self._db.api_keys.find(filter_).sort("_id", DESCENDING).limit(query.fetch)
            docs = await cursor.to_list()
        return build_page(query, [_key(d) for d in docs], lambda k: k.key_id)

    async def find_by_secret_hash(self, secret_hash: str) -> ApiKey | None:
        secret_hash = check.secret_hash(secret_hash)
        with mongo_errors():
            doc = await self._db.api_keys.find_one({"secret_hash": secret_hash})
        return None if doc is None else _key(doc)

    async def revoke(self, user_id: str, key_id: str) -> ApiKey:
        user_id = check_id("user", user_id)
        key_id = check_id("API key", key_id)
        with mongo_errors():
            doc = await self._db.api_keys.find_one_and_update(
                {"_id": key_id, "user_id": user_id},
                {"$set": {"revoked": True}},
                return_document=ReturnDocument.AFTER,
            )
        if doc is None:
            raise not_found("API key", key_id)
        return _key(doc)

    async def touch_last_used(self, key_id: str, when: datetime | None = None) -> None:
        if not is_valid_id(key_id):
            return
        moment = utc_now() if when is None else check.timestamp("when", when)
        with mongo_errors():
            # $max: a late, slower request must not move the time backwards ($max treats
            # null as lower than any date).
            await self._db.api_keys.update_one(
                {"_id": key_id}, {"$max": {"last_used_time": moment}}
            )
