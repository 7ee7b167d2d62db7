"""Provider administration: add, change, enable, test and sync the providers Routeur routes
to (an Ollama server's models: `ollama_admin`).

Stored providers are global (not owned by a user); the API is for admins only (the policy
table says so). Keys are encrypted before they reach the store and only ever leave it
masked; the decrypted key lives only inside the provider client. Providers from the
configuration file are listed read-only: changing them here is FAILED_PRECONDITION, naming
where they come from. Every change is applied to this instance's routing at once
(`RuntimeProviders.refresh`), and to the others at their next poll.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import aclosing
from typing import Any, Protocol

from routeur_grpc.domain.completion import ChatMessage
from routeur_grpc.domain.provider_admin import (
    ProviderInput,
    ProviderOptions,
    ProviderSyncResult,
    ProviderTestResult,
    ProviderView,
)
from routeur_grpc.domain.provider_spec import ProviderSpec
from routeur_grpc.domain.records import ProviderConfig
from routeur_grpc.domain.repositories import ProviderRepository
from routeur_grpc.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    RouteurError,
)
from routeur_grpc.providers.base import ChatProvider, ChatRequest, TextDelta
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.routing.catalog import ModelCatalog
from routeur_grpc.services import provider_rules as rules
from routeur_grpc.services.runtime_providers import RuntimeProviders, provider_for
from routeur_grpc.storage.secret_box import SecretBox, mask

log = logging.getLogger(__name__)

CONFIG_ID_PREFIX = "config-"
TEST_PROMPT = "Reply with the word OK."
TEST_MAX_TOKENS = 16
EXCERPT_CHARS = 200
WRITABLE_FIELDS = frozenset(
    {"provider_type", "name", "api_key", "base_url", "model", "config", "enabled"}
)


class ModelCatalogSource(Protocol):
    """Anything with the current catalog (the router)."""

    @property
    def catalog(self) -> ModelCatalog: ...


class ProviderAdmin:
    """The ProviderService's logic."""

    def __init__(
        self,
        repository: ProviderRepository,
        box: SecretBox,
        runtime: RuntimeProviders,
        configured: Sequence[ProviderSpec],
        catalog: ModelCatalogSource,
        counter: TokenCounter,
        *,
        public_urls_only: bool = False,
    ) -> None:
        self._repository = repository
        self._box = box
        self._runtime = runtime
        self._configured = {spec.name: spec for spec in configured}
        self._catalog = catalog
        self._counter = counter
        self._public_only = public_urls_only

    # --- reading --------------------------------------------------------------------------

    async def list(self) -> list[ProviderView]:
        """Configuration-file providers, then stored ones, each group by name."""
        configured = [
            self._config_view(spec)
            for spec in sorted(self._configured.values(), key=lambda spec: spec.name)
        ]
        return configured + [self._view(record) for record in await self._repository.list()]

    async def get(self, provider_id: str) -> ProviderView:
        spec = self._config_spec(provider_id)
        if spec is not None:
            return self._config_view(spec)
        return self._view(await self._stored(provider_id))

    # --- changing -------------------------------------------------------------------------

    async def create(self, new: ProviderInput) -> ProviderView:
        kind = rules.admin_type(new.provider_type)
        name = rules.check_name(new.name)
        self._check_name_free(name)
        url = await rules.check_base_url(new.base_url, kind, public_only=self._public_only)
        record = await self._repository.create(
            provider_type=kind,
            name=name,
            base_url=url,
            api_key_ciphertext=self._box.encrypt(new.api_key or ""),
            default_model=new.model.strip(),
            config=_options_config(new.options),
            enabled=new.enabled,
        )
        await self._runtime.refresh()
        log.info("provider created", extra={"provider": record.name, "type": kind})
        return self._view(record)

    async def update(self, provider_id: str, change: ProviderInput) -> ProviderView:
        current = await self._writable(provider_id)
        fields = change.fields or WRITABLE_FIELDS
        unknown = fields - WRITABLE_FIELDS
        if unknown:
            raise InvalidArgument(
                f"`update_mask` names fields that cannot be changed: {', '.join(sorted(unknown))}"
                f"; use {', '.join(sorted(WRITABLE_FIELDS))}."
            )
        values: dict[str, Any] = {}
        kind = current.provider_type
        if "provider_type" in fields:
            kind = values["provider_type"] = rules.admin_type(change.provider_type)
        if "name" in fields:
            name = rules.check_name(change.name)
            if name != current.name:
                self._check_name_free(name)
            values["name"] = name
        if "base_url" in fields or "provider_type" in fields:
            url = change.base_url if "base_url" in fields else current.base_url
            values["base_url"] = await rules.check_base_url(
                url, kind, public_only=self._public_only
            )
        if "api_key" in fields and change.api_key is not None:
            values["api_key_ciphertext"] = self._box.encrypt(change.api_key)
        if "model" in fields:
            values["default_model"] = change.model.strip()
        if "config" in fields:
            values["config"] = {**_synced(current), **_options_config(change.options)}
        if "enabled" in fields:
            values["enabled"] = change.enabled
        record = await self._repository.update(current.provider_id, **values)
        await self._runtime.refresh()
        log.info("provider updated", extra={"provider": record.name, "fields": sorted(values)})
        return self._view(record)

    async def delete(self, provider_id: str) -> None:
        current = await self._writable(provider_id)
        await self._repository.delete(current.provider_id)
        await self._runtime.refresh()
        log.info("provider deleted", extra={"provider": current.name})

    async def toggle(self, provider_id: str, enabled: bool | None) -> ProviderView:
        current = await self._writable(provider_id)
        wanted = (not current.enabled) if enabled is None else enabled
        record = await self._repository.set_enabled(current.provider_id, wanted)
        await self._runtime.refresh()
        return self._view(record)

    async def initialize_defaults(self) -> tuple[list[ProviderView], list[str]]:
        """Create the standard providers (disabled) whose names are free."""
        created: list[ProviderView] = []
        skipped: list[str] = []
        existing = {record.name for record in await self._repository.list()}
        for name, kind, url, model in rules.DEFAULT_PROVIDERS:
            if name in existing or name in self._configured:
                skipped.append(name)
                continue
            try:
                record = await self._repository.create(
                    provider_type=kind,
                    name=name,
                    base_url=url,
                    default_model=model,
                    config={},
                    enabled=False,
                )
            except AlreadyExists:  # created meanwhile through another instance
                skipped.append(name)
                continue
            created.append(self._view(record))
        await self._runtime.refresh()
        return created, skipped

    # --- talking to a provider ------------------------------------------------------------

    async def test(self, provider_id: str, model: str = "") -> ProviderTestResult:
        """Send a tiny prompt; report success, latency, the answer's start, models seen."""
        default_model, kind, client = await self.client_for(provider_id)
        try:
            seen = await _models_of(client)
            tested = model.strip() or default_model or self._first_model(kind, seen)
            if not tested:
                return ProviderTestResult(
                    False,
                    "No model to test: give `model`, or set the provider's default model.",
                    "",
                    0.0,
                    "",
                    seen,
                )
            started = time.monotonic()
            try:
                text = await _ask(client, tested)
            except RouteurError as error:
                return ProviderTestResult(
                    False, error.message, tested, time.monotonic() - started, "", seen
                )
            latency = time.monotonic() - started
        finally:
            await client.aclose()
        said_ok = "ok" in text.lower()
        message = "The provider answered." + (
            "" if said_ok else ' (The answer does not contain "OK": check the model.)'
        )
        return ProviderTestResult(True, message, tested, latency, text[:EXCERPT_CHARS], seen)

    async def sync(self, provider_ids: Sequence[str]) -> list[ProviderSyncResult]:
        """Ask providers which models they serve; keep the lists and route them."""
        if provider_ids:
            records = [await self._writable(pid) for pid in provider_ids]
        else:
            records = [r for r in await self._repository.list() if r.enabled]
        results = []
        for record in records:
            client = provider_for(record, self._box, self._counter)
            try:
                models = await client.list_models()
            except RouteurError as error:
                results.append(
                    ProviderSyncResult(record.provider_id, record.name, False, (), error.message)
                )
                continue
            finally:
                await client.aclose()
            names = tuple(sorted({m.name for m in models if m.name}))
            await self._repository.update(
                record.provider_id, config={**record.config, "models": list(names)}
            )
            results.append(ProviderSyncResult(record.provider_id, record.name, True, names))
        await self._runtime.refresh()
        return results

    # --- helpers --------------------------------------------------------------------------

    async def client_for(self, provider_id: str) -> tuple[str, str, ChatProvider]:
        """(default model, routing type, a fresh client) of any provider, configured or not."""
        from routeur_grpc.routing.provider_factory import build_provider

        spec = self._config_spec(provider_id)
        if spec is not None:
            return "", spec.type, build_provider(spec, self._counter)
        record = await self._stored(provider_id)
        return (
            record.default_model,
            rules.routing_type(record.provider_type),
            provider_for(record, self._box, self._counter),
        )

    def _first_model(self, kind: str, seen: Sequence[str]) -> str:
        for entry in self._catalog.catalog.entries():
            if entry.provider == kind:
                return entry.upstream_model
        return seen[0] if seen else ""

    async def _stored(self, provider_id: str) -> ProviderConfig:
        if not provider_id.strip():
            raise InvalidArgument("`provider_id` is empty: give the id of a provider.")
        return await self._repository.get(provider_id)

    async def _writable(self, provider_id: str) -> ProviderConfig:
        spec = self._config_spec(provider_id)
        if spec is not None:
            raise FailedPrecondition(
                f"Provider {spec.name!r} comes from the configuration file (ROUTEUR_PROVIDERS "
                "or ROUTEUR_CONFIG_FILE) and is read-only here: change it there and restart, "
                "or add a provider through this API.",
                reason="PROVIDER_READ_ONLY",
            )
        return await self._stored(provider_id)

    def _config_spec(self, provider_id: str) -> ProviderSpec | None:
        if provider_id.startswith(CONFIG_ID_PREFIX):
            spec = self._configured.get(provider_id.removeprefix(CONFIG_ID_PREFIX))
            if spec is None:
                raise NotFound(f"No provider has the id {provider_id!r}.")
            return spec
        return None

    def _check_name_free(self, name: str) -> None:
        if name in self._configured:
            raise AlreadyExists(
                f"A provider named {name!r} exists in the configuration file: choose another name."
            )

    def _view(self, record: ProviderConfig) -> ProviderView:
        config = record.config
        return ProviderView(
            provider_id=record.provider_id,
            provider_type=record.provider_type,
            name=record.name,
            api_key_masked=self._masked_key(record),
            base_url=record.base_url,
            model=record.default_model,
            options=ProviderOptions(
                temperature=config.get("temperature"),
                max_tokens=config.get("max_tokens"),
                timeout_s=config.get("timeout"),
            ),
            enabled=record.enabled,
            create_time=record.create_time,
            update_time=record.update_time,
            models=tuple(config.get("models") or ()),
        )

    def _masked_key(self, record: ProviderConfig) -> str:
        try:
            return mask(self._box.decrypt(record.api_key_ciphertext))
        except FailedPrecondition:  # saved under another secrets key: enter it again
            return "(unreadable)"

    @staticmethod
    def _config_view(spec: ProviderSpec) -> ProviderView:
        key = spec.api_key.get_secret_value() if spec.api_key is not None else ""
        return ProviderView(
            provider_id=CONFIG_ID_PREFIX + spec.name,
            provider_type="ollama_local" if spec.type == "ollama" else spec.type,
            name=spec.name,
            api_key_masked=mask(key),
            base_url=spec.base_url,
            model="",
            options=ProviderOptions(timeout_s=spec.timeout_s),
            enabled=spec.enabled,
            create_time=None,
            update_time=None,
            read_only=True,
        )


def _options_config(options: ProviderOptions) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if options.temperature is not None:
        if not 0 <= options.temperature <= 2:
            raise InvalidArgument("`config.temperature` must be between 0 and 2.")
        config["temperature"] = options.temperature
    if options.max_tokens is not None:
        if options.max_tokens < 1:
            raise InvalidArgument("`config.max_tokens` must be 1 or more.")
        config["max_tokens"] = options.max_tokens
    if options.timeout_s is not None:
        if not 0 < options.timeout_s <= 3600:
            raise InvalidArgument("`config.timeout` must be more than 0 and at most 3600 seconds.")
        config["timeout"] = options.timeout_s
    return config


def _synced(record: ProviderConfig) -> dict[str, Any]:
    models = record.config.get("models")
    return {"models": models} if models else {}


async def _models_of(client: ChatProvider) -> tuple[str, ...]:
    try:
        return tuple(sorted({m.name for m in await client.list_models() if m.name}))
    except RouteurError:
        return ()


async def _ask(client: ChatProvider, model: str) -> str:
    request = ChatRequest(
        model=model, messages=[ChatMessage("user", TEST_PROMPT)], max_tokens=TEST_MAX_TOKENS
    )
    parts: list[str] = []
    async with aclosing(client.stream_chat(request)) as events:  # type: ignore[type-var]
        async for event in events:
            if isinstance(event, TextDelta):
                parts.append(event.text)
    return "".join(parts)
