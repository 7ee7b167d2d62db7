"""Provider configurations, in MongoDB."""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from routeur_grpc.domain.records import ProviderConfig
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.fields import new_provider_fields, provider_changes
from routeur_grpc.storage.ids import IdGenerator, check_id, not_found, utc_now
from routeur_grpc.storage.mongodb.database import Document, MongoDatabase
from routeur_grpc.storage.mongodb.errors import mongo_errors


def _provider(doc: Document) -> ProviderConfig:
    return ProviderConfig(
        provider_id=doc["_id"],
        provider_type=doc["provider_type"],
        name=doc["name"],
        base_url=doc["base_url"],
        api_key_ciphertext=doc["api_key_ciphertext"],
        default_model=doc["default_model"],
        config=json.loads(doc["config_json"]),
        enabled=doc["enabled"],
        create_time=doc["create_time"],
        update_time=doc["update_time"],
    )


class MongoProviderRepository:
    """`ProviderRepository` over the `providers` collection."""

    def __init__(self, db: MongoDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def create(
        self,
        *,
        provider_type: str,
        name: str,
        base_url: str = "",
        api_key_ciphertext: str = "",
        default_model: str = "",
        config: Mapping[str, Any] | None = None,
        enabled: bool = True,
    ) -> ProviderConfig:
        fields = new_provider_fields(
            provider_type=provider_type,
            name=name,
            base_url=base_url,
            api_key_ciphertext=api_key_ciphertext,
            default_model=default_model,
            config=config,
            enabled=enabled,
        )
        fields.pop("config")  # kept as config_json
        now = utc_now()
        doc = {"_id": self._ids.new_id(now), **fields, "create_time": now, "update_time": now}
        with mongo_errors(conflict=f"A provider named {fields['name']!r} exists already."):
            await self._db.providers.insert_one(doc)
        return _provider(doc)

    async def get(self, provider_id: str) -> ProviderConfig:
        provider_id = check_id("provider", provider_id)
        with mongo_errors():
            doc = await self._db.providers.find_one({"_id": provider_id})
        if doc is None:
            raise not_found("provider", provider_id)
        return _provider(doc)

    async def get_by_name(self, name: str) -> ProviderConfig:
        name = check.name("name", name)
        with mongo_errors():
            doc = await self._db.providers.find_one({"name": name})
        if doc is None:
            raise not_found("provider named", repr(name))
        return _provider(doc)

    async def list(self, *, enabled_only: bool = False) -> builtins.list[ProviderConfig]:
        filter_ = {"enabled": True} if check.flag("enabled_only", enabled_only) else {}
        with mongo_errors():
            docs = await self._db.providers.find(filter_).sort("name", ASCENDING).to_list()
        return [_provider(d) for d in docs]

    async def update(
        self,
        provider_id: str,
        *,
        provider_type: str | None = None,
        name: str | None = None,
        base_url: str | None = None,
        api_key_ciphertext: str | None = None,
        default_model: str | None = None,
        config: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
    ) -> ProviderConfig:
        provider_id = check_id("provider", provider_id)
        changes = provider_changes(
            provider_type=provider_type,
            name=name,
            base_url=base_url,
            api_key_ciphertext=api_key_ciphertext,
            default_model=default_model,
            config=config,
            enabled=enabled,
        )
        changes.pop("config", None)  # kept as config_json
        changes["update_time"] = utc_now()
        with mongo_errors(conflict=f"A provider named {name!r} exists already."):
            doc = await self._db.providers.find_one_and_update(
                {"_id": provider_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
            )
        if doc is None:
            raise not_found("provider", provider_id)
        return _provider(doc)

    async def set_enabled(self, provider_id: str, enabled: bool) -> ProviderConfig:
        return await self.update(provider_id, enabled=check.flag("enabled", enabled))

    async def delete(self, provider_id: str) -> None:
        provider_id = check_id("provider", provider_id)
        with mongo_errors():
            result = await self._db.providers.delete_one({"_id": provider_id})
        if result.deleted_count == 0:
            raise not_found("provider", provider_id)
