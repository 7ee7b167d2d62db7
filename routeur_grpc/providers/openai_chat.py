"""OpenAI Chat Completions through the official SDK (`AsyncOpenAI`).

The same class serves any OpenAI-compatible server (vLLM, llama.cpp's `llama-server`, LM
Studio, …) by base URL: see `openai_compatible`. Those servers often want `max_tokens`
rather than `max_completion_tokens`, may need no key, and may not report usage; the tokens
are then counted locally (exactly for OpenAI model names, approximately otherwise).

Streams ask for `stream_options.include_usage` so that OpenAI reports usage in a last chunk.
SDK retries are off: the router owns the one retry policy.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, NoReturn

import httpx2
import openai
from openai import AsyncOpenAI, AsyncStream, DefaultAioHttpClient

from routeur_grpc.errors import RouteurError
from routeur_grpc.providers.base import (
    ChatEvent,
    ChatRequest,
    ProviderModel,
    TextDelta,
    ToolCallRequested,
)
from routeur_grpc.providers.http_clients import aiohttp_client
from routeur_grpc.providers.sampling import openai_sampling
from routeur_grpc.providers.streamed_tool_calls import StreamedToolCalls
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.providers.tool_formats import openai_message, openai_tool_choice, openai_tools
from routeur_grpc.providers.unary import ChatCompletion, counted_usage
from routeur_grpc.providers.upstream_errors import (
    ErrorTable,
    bad_request,
    by_status,
    context_too_long,
    credentials_rejected,
    cut_short,
    malformed,
    model_not_found,
    rate_limited,
    timed_out,
    unavailable,
)

OPENAI_BASE_URL = "https://api.openai.com/v1"
#: Sent when a compatible server needs no key (the SDK insists on one).
NO_KEY = "not-needed"
#: OpenAI's typed error code (not message text) for an over-long prompt.
CONTEXT_LENGTH_CODE = "context_length_exceeded"


def _body_message(error: openai.APIStatusError) -> object:
    body = error.body
    if isinstance(body, Mapping):
        return body.get("message")
    return None


def _bad_request(error: openai.APIStatusError, provider: str, model: str) -> Any:
    if error.code == CONTEXT_LENGTH_CODE:
        return context_too_long(provider, error.status_code)
    return bad_request(provider, error.status_code, _body_message(error))


ERRORS = ErrorTable(
    [
        (openai.RateLimitError, lambda e, p, m: rate_limited(p, e.response.headers)),
        (
            (openai.AuthenticationError, openai.PermissionDeniedError),
            lambda e, p, m: credentials_rejected(p, e.status_code),
        ),
        (openai.NotFoundError, lambda e, p, m: model_not_found(p, m)),
        ((openai.BadRequestError, openai.UnprocessableEntityError), _bad_request),
        (openai.InternalServerError, lambda e, p, m: unavailable(p, e.status_code)),
        (
            openai.APIStatusError,
            lambda e, p, m: by_status(p, m, e.status_code, e.response.headers, _body_message(e)),
        ),
        (openai.APITimeoutError, lambda e, p, m: timed_out(p)),
        (openai.APIConnectionError, lambda e, p, m: unavailable(p, what="connection failed")),
        (openai.APIResponseValidationError, lambda e, p, m: malformed(p, "an answer it could not read")),
        # An `error` event in the middle of a stream.
        (openai.APIError, lambda e, p, m: unavailable(p, what="error reported mid-stream")),
        (httpx2.TimeoutException, lambda e, p, m: timed_out(p)),
        (httpx2.TransportError, lambda e, p, m: unavailable(p, what="connection lost")),
        # An SSE event whose data is not JSON.
        (json.JSONDecodeError, lambda e, p, m: malformed(p, "an event that is not valid JSON")),
    ]
)


class OpenAIChatProvider:
    """Chat completions from OpenAI or any server speaking its protocol."""

    def __init__(
        self,
        name: str = "openai",
        *,
        api_key: str | None,
        base_url: str = OPENAI_BASE_URL,
        timeout_s: float = 600.0,
        connect_timeout_s: float | None = None,
        organization: str | None = None,
        max_tokens_field: Literal["max_completion_tokens", "max_tokens"] = "max_completion_tokens",
        stream_usage: bool = True,
        default_headers: Mapping[str, str] | None = None,
        token_counter: TokenCounter | None = None,
    ) -> None:
        self._name = name
        self._max_tokens_field = max_tokens_field
        self._stream_usage = stream_usage
        self._counter = token_counter or TokenCounter()
        timeout = httpx2.Timeout(timeout_s, connect=connect_timeout_s or timeout_s)
        self._client = AsyncOpenAI(
            api_key=api_key or NO_KEY,
            base_url=base_url,
            organization=organization,
            timeout=timeout,
            max_retries=0,
            default_headers=default_headers,
            http_client=aiohttp_client(DefaultAioHttpClient, timeout),
        )

    @property
    def name(self) -> str:
        return self._name

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": [openai_message(m) for m in request.messages],
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            params[self._max_tokens_field] = request.max_tokens
        if request.tools:
            params["tools"] = openai_tools(request.tools)
            choice = openai_tool_choice(request.tool_choice)
            if choice is not None:
                params["tool_choice"] = choice
        params.update(openai_sampling(request.sampling))
        return params

    def _raise(self, error: Exception, model: str) -> NoReturn:
        mapped = ERRORS.map(error, self._name, model)
        if mapped is None:
            raise error
        raise mapped from error

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        params = self._params(request)
        if self._stream_usage:
            params["stream_options"] = {"include_usage": True}
        try:
            # Each event's JSON as it came (`cast_to=object`): the SDK still sends the
            # request, decodes the SSE stream and raises its typed errors (an `error`
            # event too), but builds no pydantic model per chunk, which was most of the
            # CPU a relayed token cost.
            stream = await self._client.post(
                "/chat/completions",
                body={**params, "stream": True},
                cast_to=object,
                stream=True,
                stream_cls=AsyncStream[object],
            )
        except Exception as error:
            self._raise(error, request.model)
        parts: list[str] = []
        usage: Mapping[str, Any] | None = None
        calls = StreamedToolCalls()
        finished = False
        try:
            async for chunk in stream:
                chunk = self._object(chunk, "an event that is not a chat completion chunk")
                if chunk.get("usage") is not None:
                    usage = self._object(chunk["usage"], "a usage that is not an object")
                for choice in self._list(chunk.get("choices"), "choices that are not a list"):
                    choice = self._object(choice, "a choice that is not an object")
                    finished = finished or bool(choice.get("finish_reason"))
                    if choice.get("index", 0) != 0:
                        continue
                    delta = self._object(choice.get("delta") or {}, "a delta that is not an object")
                    content = delta.get("content")
                    if content:
                        if not isinstance(content, str):
                            raise malformed(self._name, "content that is not text")
                        parts.append(content)
                        yield TextDelta(content)
                    for call in self._list(delta.get("tool_calls"), "tool calls that are not a list"):
                        call = self._object(call, "a tool call that is not an object")
                        function = self._object(call.get("function") or {}, "a tool call without a function")
                        calls.add(
                            call.get("index", 0),
                            call.get("id"),
                            function.get("name"),
                            function.get("arguments"),
                        )
        except RouteurError:
            raise
        except Exception as error:
            self._raise(error, request.model)
        finally:
            # Closing the SDK stream closes the HTTP response: the upstream sees the
            # connection go when the caller cancels, instead of generating on for nobody.
            await stream.close()
        if (parts or calls.started) and not finished:
            # The stream ended without any choice's `finish_reason`: cut short upstream
            # (tool calls cut short are never reported: their arguments may be partial).
            raise cut_short(self._name)
        for finished_call in calls.finished():
            yield ToolCallRequested(finished_call)
        yield await counted_usage(
            self._counter,
            request,
            "".join(parts),
            self._count(usage, "prompt_tokens"),
            self._count(usage, "completion_tokens"),
        )

    async def complete_chat(self, request: ChatRequest) -> ChatCompletion:
        try:
            # The answer's JSON as it came: no pydantic model built for it.
            response = await self._client.post(
                "/chat/completions", body=self._params(request), cast_to=object
            )
        except Exception as error:
            self._raise(error, request.model)
        response = self._object(response, "an answer that is not a chat completion")
        choices = self._list(response.get("choices"), "choices that are not a list")
        text = ""
        if choices:
            choice = self._object(choices[0], "a choice that is not an object")
            message = self._object(choice.get("message") or {}, "a message that is not an object")
            text = message.get("content") or ""
            if not isinstance(text, str):
                raise malformed(self._name, "content that is not text")
        usage = response.get("usage")
        usage = self._object(usage, "a usage that is not an object") if usage is not None else None
        return ChatCompletion(
            text,
            await counted_usage(
                self._counter,
                request,
                text,
                self._count(usage, "prompt_tokens"),
                self._count(usage, "completion_tokens"),
            ),
        )

    # --- reading OpenAI's JSON ---------------------------------------------------------------

    def _object(self, value: object, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise malformed(self._name, what)
        return value

    def _list(self, value: object, what: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise malformed(self._name, what)
        return value

    def _count(self, usage: Mapping[str, Any] | None, field: str) -> int | None:
        """A token count the upstream reported; None when it reported none (counted here)."""
        value = usage.get(field) if usage is not None else None
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise malformed(self._name, f"a usage whose {field} is not a count")
        return value

    async def list_models(self) -> list[ProviderModel]:
        try:
            return [ProviderModel(name=model.id) async for model in self._client.models.list()]
        except Exception as error:
            self._raise(error, "")

    async def aclose(self) -> None:
        await self._client.close()


def openai_compatible(
    name: str,
    *,
    base_url: str,
    api_key: str | None = None,
    timeout_s: float = 600.0,
    connect_timeout_s: float | None = None,
    stream_usage: bool = True,
    token_counter: TokenCounter | None = None,
) -> OpenAIChatProvider:
    """A provider for an OpenAI-compatible server (vLLM, llama-server, LM Studio…)."""
    return OpenAIChatProvider(
        name,
        api_key=api_key,
        base_url=base_url,
        timeout_s=timeout_s,
        connect_timeout_s=connect_timeout_s,
        max_tokens_field="max_tokens",
        stream_usage=stream_usage,
        token_counter=token_counter,
    )

