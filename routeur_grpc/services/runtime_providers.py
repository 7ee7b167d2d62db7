"""Providers added by administrators, kept in step with the store on every instance.

The store is the source of truth. Each instance reads the providers table right after an
admin change made through it, and every `ROUTEUR_PROVIDER_REFRESH_S` seconds (5 by
default) to catch changes made through other instances: a new, changed, disabled or
deleted provider is routed accordingly within that delay, without a restart. When nothing
changed (the records compare equal) nothing is rebuilt. A changed provider gets a new
client; the old one is closed once requests in flight have had `RETIRE_GRACE_S` to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection

from pydantic import SecretStr

from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.domain.provider_spec import ProviderSpec
from routeur_grpc.domain.records import ProviderConfig
from routeur_grpc.domain.repositories import ProviderRepository
from routeur_grpc.errors import RouteurError
from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.routing.provider_factory import build_provider
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.provider_rules import routing_type
from routeur_grpc.storage.secret_box import SecretBox

log = logging.getLogger(__name__)

RETIRE_GRACE_S = 600.0
DEFAULT_TIMEOUT_S = 600.0


def provider_for(record: ProviderConfig, box: SecretBox, counter: TokenCounter) -> ChatProvider:
    """A client for a stored provider (its key decrypted only here, in memory)."""
    key = box.decrypt(record.api_key_ciphertext)
    timeout = record.config.get("timeout")
    spec = ProviderSpec(
        name=record.name,
        type=routing_type(record.provider_type),  # type: ignore[arg-type]
        base_url=record.base_url,
        api_key=SecretStr(key) if key else None,
        timeout_s=float(timeout) if timeout else DEFAULT_TIMEOUT_S,
    )
    return build_provider(spec, counter)


class RuntimeProviders:
    """Keeps the router's runtime providers equal to the enabled stored ones."""

    def __init__(
        self,
        repository: ProviderRepository,
        box: SecretBox,
        router: ModelRouter,
        counter: TokenCounter,
        *,
        refresh_s: float,
        reserved_names: Collection[str] = (),
    ) -> None:
        self._repository = repository
        self._box = box
        self._router = router
        self._counter = counter
        self._refresh_s = refresh_s
        self._reserved = frozenset(reserved_names)
        self._applied: tuple[ProviderConfig, ...] | None = None
        self._clients: dict[tuple[str, object], ChatProvider] = {}
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._retired: list[ChatProvider] = []
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh()
        self._poller = asyncio.create_task(self._poll())

    async def refresh(self) -> None:
        """Read the stored providers and route to the enabled ones, if anything changed."""
        async with self._lock:
            records = tuple(await self._repository.list())
            if records == self._applied:
                return
            clients: dict[tuple[str, object], ChatProvider] = {}
            types: dict[str, str] = {}
            served: dict[str, list[ModelInfo]] = {}
            for record in records:
                if not record.enabled:
                    continue
                if record.name in self._reserved:
                    log.warning(
                        "stored provider shadowed by the configuration file",
                        extra={"provider": record.name},
                    )
                    continue
                identity = (record.provider_id, record.update_time)
                try:
                    client = self._clients.get(identity) or provider_for(
                        record, self._box, self._counter
                    )
                except RouteurError as error:  # e.g. a key the current secrets key cannot read
                    log.warning(
                        "stored provider not routed",
                        extra={"provider": record.name, "reason": error.reason},
                    )
                    continue
                clients[identity] = client
                kind = routing_type(record.provider_type)
                types[record.name] = kind
                models = record.config.get("models") or []
                if models:
                    served[record.name] = [ModelInfo(name=m, provider=kind) for m in models]
            self._router.set_runtime_providers(list(clients.values()), types, served)
            retired = [c for key, c in self._clients.items() if key not in clients]
            self._clients = clients
            self._applied = records
            for client in retired:
                self._later(client)
            log.info("runtime providers applied", extra={"providers": len(clients)})

    def _later(self, client: ChatProvider) -> None:
        self._retired.append(client)

        async def close() -> None:
            await asyncio.sleep(RETIRE_GRACE_S)
            self._retired.remove(client)
            await client.aclose()

        task = asyncio.create_task(close())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.refresh()
            except Exception as error:  # noqa: BLE001 - the store may be briefly away
                log.warning(
                    "reading stored providers failed", extra={"error": type(error).__name__}
                )

    async def aclose(self) -> None:
        """Stop polling; close retired clients now (the router closes the current ones)."""
        tasks = [t for t in (self._poller, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for client in self._retired:
            await client.aclose()
        self._retired.clear()
