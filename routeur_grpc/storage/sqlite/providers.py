"""Provider configurations, in SQLite."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from routeur_grpc.domain.records import ProviderConfig
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.fields import new_provider_fields, provider_changes
from routeur_grpc.storage.ids import (
    IdGenerator,
    check_id,
    from_millis,
    not_found,
    to_millis,
    utc_now,
)
from routeur_grpc.storage.sqlite.database import SqliteDatabase

_COLUMNS = (
    "provider_id, provider_type, name, base_url, api_key_ciphertext, default_model,"
    " config_json, enabled, create_time, update_time"
)


def _provider(row: sqlite3.Row) -> ProviderConfig:
    return ProviderConfig(
        provider_id=row["provider_id"],
        provider_type=row["provider_type"],
        name=row["name"],
        base_url=row["base_url"],
        api_key_ciphertext=row["api_key_ciphertext"],
        default_model=row["default_model"],
        config=json.loads(row["config_json"]),
        enabled=bool(row["enabled"]),
        create_time=from_millis(row["create_time"]),
        update_time=from_millis(row["update_time"]),
    )


class SqliteProviderRepository:
    """`ProviderRepository` over the `providers` table."""

    def __init__(self, db: SqliteDatabase, ids: IdGenerator) -> None:
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
        now = utc_now()
        provider = ProviderConfig(
            provider_id=self._ids.new_id(now),
            provider_type=fields["provider_type"],
            name=fields["name"],
            base_url=fields["base_url"],
            api_key_ciphertext=fields["api_key_ciphertext"],
            default_model=fields["default_model"],
            config=fields["config"],
            enabled=fields["enabled"],
            create_time=now,
            update_time=now,
        )
        async with self._db.write(
            conflict=f"A provider named {provider.name!r} exists already."
        ) as tx:
            await tx.execute(
                f"INSERT INTO providers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    provider.provider_id,
                    provider.provider_type,
                    provider.name,
                    provider.base_url,
                    provider.api_key_ciphertext,
                    provider.default_model,
                    fields["config_json"],
                    int(provider.enabled),
                    to_millis(now),
                    to_millis(now),
                ),
            )
        return provider

    async def get(self, provider_id: str) -> ProviderConfig:
        provider_id = check_id("provider", provider_id)
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM providers WHERE provider_id = ?", (provider_id,)
        )
        if row is None:
            raise not_found("provider", provider_id)
        return _provider(row)

    async def get_by_name(self, name: str) -> ProviderConfig:
        name = check.name("name", name)
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM providers WHERE name = ?", (name,))
        if row is None:
            raise not_found("provider named", repr(name))
        return _provider(row)

    async def list(self, *, enabled_only: bool = False) -> builtins.list[ProviderConfig]:
        where = "WHERE enabled = 1" if check.flag("enabled_only", enabled_only) else ""
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM providers {where} ORDER BY name")
        return [_provider(r) for r in rows]

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
        changes.pop("config", None)  # stored as config_json
        if "enabled" in changes:
            changes["enabled"] = int(changes["enabled"])
        changes["update_time"] = to_millis(utc_now())
        # Column names come from provider_changes' fixed keys, never from the caller.
        assignments = ", ".join(f"{column} = ?" for column in changes)
        async with self._db.write(conflict=f"A provider named {name!r} exists already.") as tx:
            row = await tx.fetchone(
                f"UPDATE providers SET {assignments} WHERE provider_id = ? RETURNING {_COLUMNS}",
                (*changes.values(), provider_id),
            )
        if row is None:
            raise not_found("provider", provider_id)
        return _provider(row)

    async def set_enabled(self, provider_id: str, enabled: bool) -> ProviderConfig:
        return await self.update(provider_id, enabled=check.flag("enabled", enabled))

    async def delete(self, provider_id: str) -> None:
        provider_id = check_id("provider", provider_id)
        async with self._db.write() as tx:
            deleted = await tx.execute(
                "DELETE FROM providers WHERE provider_id = ?", (provider_id,)
            )
        if not deleted:
            raise not_found("provider", provider_id)
