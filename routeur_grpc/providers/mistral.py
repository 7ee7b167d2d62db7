"""Mistral La Plateforme through the official SDK (`from mistralai.client import Mistral`).

`server_url` is the bare origin (`https://api.mistral.ai`): the SDK adds `/v1/...` itself.
The SDK's retries are off (`retry_config=None`); we hand it an `httpx2.AsyncClient` we own so
that `aclose` releases its connections. Mistral reports usage on the last stream chunk.

The SDK raises one `MistralError` type for every HTTP error, carrying the status and
headers, so the table below dispatches on that type and then on the status; transport
failures arrive as raw `httpx2` exceptions.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import httpx2
from mistralai.client import Mistral, errors

from routeur_grpc.domain.completion import ChatMessage
from routeur_grpc.providers.base import (
    ChatEvent,
    ChatRequest,
    ProviderModel,
    TextDelta,
    ToolCallRequested,
)
from routeur_grpc.providers.sampling import openai_sampling
from routeur_grpc.providers.streamed_tool_calls import StreamedToolCalls
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.providers.tool_formats import openai_message, openai_tool_choice, openai_tools
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

MISTRAL_SERVER_URL = "https://api.mistral.ai"


def _detail(error: errors.MistralError) -> object:
    # The documented error body is JSON with a `message`; fall back to nothing.
    try:
        body = json.loads(error.body)
    except (TypeError, ValueError):
        return None
    return body.get("message") if isinstance(body, dict) else None


ERRORS = ErrorTable(
    [
        (errors.HTTPValidationError, lambda e, p, m: bad_request(p, 422, _detail(e))),
        (errors.ResponseValidationError, lambda e, p, m: malformed(p, "an answer it could not read")),
        (
            errors.MistralError,
            lambda e, p, m: by_status(p, m, e.status_code, e.headers, _detail(e)),
        ),
        (errors.NoResponseError, lambda e, p, m: unavailable(p, what="no response")),
        (httpx2.TimeoutException, lambda e, p, m: timed_out(p)),
        (httpx2.TransportError, lambda e, p, m: unavailable(p, what="connection failed")),
        (json.JSONDecodeError, lambda e, p, m: malformed(p, "an event that is not valid JSON")),
    ]
)


def _message(message: ChatMessage) -> dict[str, Any]:
    """A turn in Mistral's format: OpenAI's, with the tool's name on tool results and text
    (never null) on assistant turns."""
    turn = openai_message(message, with_name=True)
    if turn.get("content") is None:
        turn["content"] = ""
    return turn


def _text(content: Any) -> str:
    """Text of a message or delta `content`: a string, or a list of typed chunks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            getattr(chunk, "text", "") or ""
            for chunk in content
            if getattr(chunk, "type", "text") == "text"
        )
    return ""


class MistralProvider:
    """Chat completions from Mistral's API."""

    def __init__(
        self,
        name: str = "mistral",
        *,
        api_key: str | None,
        server_url: str = MISTRAL_SERVER_URL,
        timeout_s: float = 600.0,
        connect_timeout_s: float | None = None,
        token_counter: TokenCounter | None = None,
    ) -> None:
        self._name = name
        self._counter = token_counter or TokenCounter()
        self._http = httpx2.AsyncClient(
            follow_redirects=True,
            timeout=httpx2.Timeout(timeout_s, connect=connect_timeout_s or timeout_s),
        )
        self._client = Mistral(
            api_key=api_key,
            server_url=server_url.rstrip("/").removesuffix("/v1"),
            async_client=self._http,
            retry_config=None,
            timeout_ms=int(timeout_s * 1000),
        )

    @property
    def name(self) -> str:
        return self._name

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": [_message(m) for m in request.messages],
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        if request.tools:
            params["tools"] = openai_tools(request.tools)
            choice = openai_tool_choice(request.tool_choice)
            if choice is not None:
                params["tool_choice"] = choice
        sampling = openai_sampling(request.sampling)
        if "seed" in sampling:
            sampling["random_seed"] = sampling.pop("seed")
        params.update(sampling)
        return params

    def _raise(self, error: Exception, model: str) -> NoReturn:
        mapped = ERRORS.map(error, self._name, model)
        if mapped is None:
            raise error
        raise mapped from error

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        try:
            stream = await self._client.chat.stream_async(**self._params(request))
        except Exception as error:
            self._raise(error, request.model)
        parts: list[str] = []
        usage = None
        calls = StreamedToolCalls()
        finished = False
        try:
            async for event in stream:
                chunk = event.data
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices or ():
                    finished = finished or bool(choice.finish_reason)
                    if choice.index != 0:
                        continue
                    text = _text(choice.delta.content)
                    if text:
                        parts.append(text)
                        yield TextDelta(text)
                    # Mistral sends each call whole, its arguments as text or as an object.
                    for position, call in enumerate(choice.delta.tool_calls or ()):
                        arguments = call.function.arguments
                        if not isinstance(arguments, str):
                            arguments = json.dumps(arguments)
                        index = call.index if isinstance(call.index, int) else position
                        calls.add(index, call.id, call.function.name, arguments)
        except Exception as error:
            self._raise(error, request.model)
        finally:
            await stream.close()  # closes the HTTP response, so the upstream stops too
        if (parts or calls.started) and not finished:
            raise cut_short(self._name)  # no `finish_reason`: the stream was cut upstream
        for call in calls.finished():
            yield ToolCallRequested(call)
        yield await counted_usage(
            self._counter,
            request,
            "".join(parts),
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
        )

    async def complete_chat(self, request: ChatRequest) -> ChatCompletion:
        try:
            response = await self._client.chat.complete_async(**self._params(request))
        except Exception as error:
            self._raise(error, request.model)
        text = _text(response.choices[0].message.content) if response.choices else ""
        usage = response.usage
        return ChatCompletion(
            text,
            await counted_usage(
                self._counter,
                request,
                text,
                usage.prompt_tokens if usage else None,
                usage.completion_tokens if usage else None,
            ),
        )

    async def list_models(self) -> list[ProviderModel]:
        try:
            listing = await self._client.models.list_async()
        except Exception as error:
            self._raise(error, "")
        return [
            ProviderModel(
                name=card.id,
                description=getattr(card, "description", None) or "",
                context_window=getattr(card, "max_context_length", 0) or 0,
            )
            for card in listing.data or []
        ]

    async def aclose(self) -> None:
        await self._http.aclose()
