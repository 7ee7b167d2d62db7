"""Ollama through its official client (`ollama.AsyncClient`), local or remote.

Uses Ollama's native API: `/api/chat` (NDJSON stream), `/api/tags` (installed models),
`/api/pull` (download, with progress) and `/api/delete`. A remote Ollama behind a proxy can
require a key: it is sent as `Authorization: Bearer <key>`. (The client also picks
`OLLAMA_API_KEY` from the environment when no key is given; set none there.)

The client raises `ResponseError(error, status_code)` for HTTP errors but drops the response
headers, so a `response` event hook on its httpx client keeps the `Retry-After` of a 429 in a
context variable: hooks run in the task that made the request, the one that maps the error.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
import ollama

from routeur_grpc.domain.provider_admin import InstalledModel
from routeur_grpc.providers.base import ChatEvent, ChatRequest, ProviderModel, TextDelta
from routeur_grpc.providers.sampling import openai_sampling, refuse_tools
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.providers.unary import ChatCompletion, counted_usage
from routeur_grpc.providers.upstream_errors import (
    ErrorTable,
    bad_request,
    by_status,
    cut_short,
    malformed,
    timed_out,
    unavailable,
)

OLLAMA_LOCAL_URL = "http://127.0.0.1:11434"

# Headers of the last 429 seen by the current task (see the module docstring).
_RATE_LIMIT_HEADERS: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "ollama_rate_limit_headers", default=None
)


async def _remember_rate_limit(response: httpx.Response) -> None:
    if response.status_code == 429:
        _RATE_LIMIT_HEADERS.set(dict(response.headers))


def _response_error(error: ollama.ResponseError, provider: str, model: str) -> Any:
    if error.status_code < 0:
        # An `error` field inside a 200 NDJSON stream.
        return unavailable(provider, what="error reported mid-stream")
    headers = _RATE_LIMIT_HEADERS.get() if error.status_code == 429 else None
    return by_status(provider, model, error.status_code, headers, error.error)


ERRORS = ErrorTable(
    [
        (ollama.ResponseError, _response_error),
        (ollama.RequestError, lambda e, p, m: bad_request(p, 400, e.error)),
        (httpx.TimeoutException, lambda e, p, m: timed_out(p)),
        (httpx.TransportError, lambda e, p, m: unavailable(p, what="connection failed")),
        # The client turns httpx.ConnectError into the builtin ConnectionError.
        (ConnectionError, lambda e, p, m: unavailable(p, what="connection failed")),
        (json.JSONDecodeError, lambda e, p, m: malformed(p, "a line that is not valid JSON")),
    ]
)


@dataclass(frozen=True, slots=True)
class PullProgress:
    """One step of a model download."""

    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0


class OllamaProvider:
    """Chat completions and model management from an Ollama server."""

    def __init__(
        self,
        name: str = "ollama",
        *,
        base_url: str = OLLAMA_LOCAL_URL,
        api_key: str | None = None,
        timeout_s: float = 600.0,
        connect_timeout_s: float | None = None,
        token_counter: TokenCounter | None = None,
    ) -> None:
        self._name = name
        self._counter = token_counter or TokenCounter()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self._client = ollama.AsyncClient(
            host=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s or timeout_s),
            event_hooks={"response": [_remember_rate_limit]},
        )

    @property
    def name(self) -> str:
        return self._name

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        refuse_tools(request.tools, self._name, request.model)
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        options.update(openai_sampling(request.sampling))
        return {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "options": options or None,
        }

    def _raise(self, error: Exception, model: str) -> NoReturn:
        mapped = ERRORS.map(error, self._name, model)
        if mapped is None:
            raise error
        raise mapped from error

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        _RATE_LIMIT_HEADERS.set(None)
        # The request is sent on the first iteration, inside the try below.
        stream = await self._client.chat(**self._params(request), stream=True)
        parts: list[str] = []
        prompt_tokens: int | None = None
        output_tokens: int | None = None
        finished = False
        try:
            async for part in stream:
                if part.message.content:
                    parts.append(part.message.content)
                    yield TextDelta(part.message.content)
                if part.done:
                    finished = True
                    prompt_tokens = part.prompt_eval_count
                    output_tokens = part.eval_count
        except Exception as error:
            self._raise(error, request.model)
        finally:
            await stream.aclose()  # leaves the client's `stream()` block: the response closes
        if parts and not finished:
            raise cut_short(self._name)  # no `done: true` line: the stream was cut upstream
        yield await counted_usage(
            self._counter, request, "".join(parts), prompt_tokens, output_tokens
        )

    async def complete_chat(self, request: ChatRequest) -> ChatCompletion:
        _RATE_LIMIT_HEADERS.set(None)
        try:
            response = await self._client.chat(**self._params(request), stream=False)
        except Exception as error:
            self._raise(error, request.model)
        text = response.message.content or ""
        return ChatCompletion(
            text,
            await counted_usage(
                self._counter, request, text, response.prompt_eval_count, response.eval_count
            ),
        )

    async def list_models(self) -> list[ProviderModel]:
        """The models installed on the server (`/api/tags`)."""
        try:
            listing = await self._client.list()
        except Exception as error:
            self._raise(error, "")
        models = []
        for model in listing.models:
            details = model.details
            description = ""
            if details is not None:
                description = " ".join(
                    x for x in (details.family, details.parameter_size, details.quantization_level) if x
                )
            models.append(ProviderModel(name=model.model or "", description=description))
        return models

    async def installed_models(self) -> list[InstalledModel]:
        """The models installed on the server, with size, digest and details."""
        try:
            listing = await self._client.list()
        except Exception as error:
            self._raise(error, "")
        return [
            InstalledModel(
                name=model.model or "",
                size_bytes=int(model.size or 0),
                digest=model.digest or "",
                modified_at=model.modified_at,
                parameter_size=(model.details.parameter_size or "") if model.details else "",
                family=(model.details.family or "") if model.details else "",
            )
            for model in listing.models
        ]

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        """Download `model`, reporting progress; closing the iterator abandons the download."""
        try:
            stream = await self._client.pull(model, stream=True)
        except Exception as error:
            self._raise(error, model)
        try:
            async for step in stream:
                yield PullProgress(
                    status=step.status or "",
                    digest=step.digest or "",
                    total=step.total or 0,
                    completed=step.completed or 0,
                )
        except Exception as error:
            self._raise(error, model)
        finally:
            await stream.aclose()

    async def delete(self, model: str) -> None:
        """Remove `model` from the server."""
        try:
            await self._client.delete(model)
        except Exception as error:
            self._raise(error, model)

    async def aclose(self) -> None:
        await self._client.close()
