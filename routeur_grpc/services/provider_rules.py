"""What a provider administrators add must look like: its type, its URL, its name.

Types are those of the provider administration API (`openai`, `anthropic` — `claude` is
accepted —, `gemini`, `mistral`, `ollama_local`, `ollama_cloud`, `openai_compatible`); each
maps to the routing type whose SDK serves it. Base URLs must be http(s) with a host. An
admin can point a provider at any address the server reaches, internal ones included (a
server-side request forgery risk): `ROUTEUR_PROVIDER_URLS_PUBLIC_ONLY` refuses loopback,
private, link-local and reserved addresses (names are resolved at validation time).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from routeur_grpc.domain.records import MAX_NAME_CHARS, MAX_URL_CHARS
from routeur_grpc.errors import FailedPrecondition, InvalidArgument

#: Administration type → routing type (the SDK that serves it).
ROUTING_TYPES: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "mistral": "mistral",
    "ollama_local": "ollama",
    "ollama_cloud": "ollama",
    "openai_compatible": "openai_compatible",
}
TYPE_ALIASES = {"claude": "anthropic", "ollama": "ollama_local"}
OLLAMA_TYPES = frozenset({"ollama_local", "ollama_cloud"})
OLLAMA_LOCAL_URL = "http://127.0.0.1:11434"

#: What `InitializeDefaultProviders` creates (disabled: an admin adds keys, then enables).
DEFAULT_PROVIDERS: tuple[tuple[str, str, str, str], ...] = (
    # (name, type, base_url, default model)
    ("OpenAI", "openai", "", "gpt-4o-mini"),
    ("Anthropic", "anthropic", "", "claude-3-5-sonnet-20241022"),
    ("Google Gemini", "gemini", "", "gemini-2.0-flash"),
    ("Mistral AI", "mistral", "", "mistral-large-latest"),
    ("Ollama Local", "ollama_local", OLLAMA_LOCAL_URL, "llama3:8b"),
)


def admin_type(value: str) -> str:
    """The canonical administration type of `value`, or InvalidArgument listing them."""
    kind = TYPE_ALIASES.get(value.strip().lower(), value.strip().lower())
    if kind == "local":
        raise InvalidArgument(
            "`provider_type` `local` is the embedded model, configured by the settings "
            "(ROUTEUR_LOCAL_MODEL_*), not through this API."
        )
    if kind not in ROUTING_TYPES:
        raise InvalidArgument(
            f"`provider_type` {value!r} is unknown; use one of "
            f"{', '.join(sorted(ROUTING_TYPES))} (or `claude` for anthropic)."
        )
    return kind


def routing_type(stored_type: str) -> str:
    """The routing type of a stored provider type; FailedPrecondition if there is none."""
    kind = ROUTING_TYPES.get(TYPE_ALIASES.get(stored_type, stored_type))
    if kind is None:
        raise FailedPrecondition(
            f"Stored provider type {stored_type!r} is not one Routeur can route to; change "
            "the provider's type."
        )
    return kind


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidArgument("`name` is empty: give the provider a name.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidArgument(f"`name` is longer than {MAX_NAME_CHARS} characters.")
    return name


async def check_base_url(url: str, kind: str, *, public_only: bool) -> str:
    """`url` (stripped) if acceptable for a provider of type `kind`; "" keeps the default."""
    url = url.strip()
    if not url:
        if kind in ("openai_compatible", "ollama_cloud"):
            raise InvalidArgument(
                f"`base_url` is required for a `{kind}` provider, e.g. https://host:port/v1."
            )
        return ""
    if len(url) > MAX_URL_CHARS:
        raise InvalidArgument(f"`base_url` is longer than {MAX_URL_CHARS} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidArgument(
            "`base_url` is not a valid URL (e.g. https://api.example.com/v1)."
        ) from None
    if parts.scheme not in ("http", "https"):
        raise InvalidArgument("`base_url` must start with http:// or https://.")
    if not parts.hostname:
        raise InvalidArgument("`base_url` has no host name (e.g. https://api.example.com/v1).")
    if parts.username or parts.password:
        raise InvalidArgument(
            "`base_url` must not hold credentials: put the key in `api_key`, where it is encrypted."
        )
    if parts.query or parts.fragment:
        raise InvalidArgument("`base_url` must not have a query or a fragment.")
    if public_only:
        await _check_public(parts.hostname, port)
    return url


async def _check_public(host: str, port: int | None) -> None:
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port or 443, type=socket.SOCK_STREAM
            )
        except OSError:
            raise InvalidArgument(f"`base_url`: the host {host!r} cannot be resolved.") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global:
            raise InvalidArgument(
                f"`base_url` points at a non-public address ({address}); this server only "
                "accepts public provider addresses (ROUTEUR_PROVIDER_URLS_PUBLIC_ONLY)."
            )
