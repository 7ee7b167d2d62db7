"""Anthropic's Messages API through the official SDK (`AsyncAnthropic`), streamed over SSE.

System turns go into Anthropic's separate `system` field; `max_tokens` is mandatory there, so
a default applies when the request gives none. Usage comes from `message_start` (input) and
`message_delta` (cumulative output). SDK retries are off.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, NoReturn

import anthropic
import httpx2
from anthropic import AsyncAnthropic, DefaultAioHttpClient

from routeur_grpc.providers.base import (
    ChatEvent,
    ChatRequest,
    ProviderModel,
    TextDelta,
    ToolCallRequested,
)
from routeur_grpc.providers.http_clients import aiohttp_client
from routeur_grpc.providers.sampling import refuse_unsupported
from routeur_grpc.providers.streamed_tool_calls import StreamedToolCalls
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.providers.tool_formats import (
    anthropic_messages,
    anthropic_tool_choice,
    anthropic_tools,
)
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

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
DEFAULT_MAX_TOKENS = 4096
#: The Messages API has no seed and no presence or frequency penalty.
ANTHROPIC_SAMPLING = frozenset({"top_p", "stop"})


def _detail(error: anthropic.APIStatusError) -> object:
    body = error.body
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner.get("message")
    return None


ERRORS = ErrorTable(
    [
        (anthropic.RateLimitError, lambda e, p, m: rate_limited(p, e.response.headers)),
        (
            (anthropic.AuthenticationError, anthropic.PermissionDeniedError),
            lambda e, p, m: credentials_rejected(p, e.status_code),
        ),
        (anthropic.NotFoundError, lambda e, p, m: model_not_found(p, m)),
        (anthropic.ContentTooLargeError, lambda e, p, m: context_too_long(p, e.status_code)),
        (
            (anthropic.BadRequestError, anthropic.UnprocessableEntityError),
            lambda e, p, m: bad_request(p, e.status_code, _detail(e)),
        ),
        (
            (anthropic.RequestTimeoutError, anthropic.GatewayTimeoutError),
            lambda e, p, m: timed_out(p),
        ),
        # Includes OverloadedError (529) and ServiceUnavailableError (503).
        (anthropic.InternalServerError, lambda e, p, m: unavailable(p, e.status_code)),
        (
            anthropic.APIStatusError,
            lambda e, p, m: by_status(p, m, e.status_code, e.response.headers, _detail(e)),
        ),
        (anthropic.APITimeoutError, lambda e, p, m: timed_out(p)),
        (anthropic.APIConnectionError, lambda e, p, m: unavailable(p, what="connection failed")),
        (anthropic.APIResponseValidationError, lambda e, p, m: malformed(p, "an answer it could not read")),
        (httpx2.TimeoutException, lambda e, p, m: timed_out(p)),
        (httpx2.TransportError, lambda e, p, m: unavailable(p, what="connection lost")),
        (json.JSONDecodeError, lambda e, p, m: malformed(p, "an event that is not valid JSON")),
    ]
)


class AnthropicMessagesProvider:
    """Chat completions from Anthropic's Messages API."""

    def __init__(
        self,
        name: str = "anthropic",
        *,
        api_key: str | None,
        base_url: str = ANTHROPIC_BASE_URL,
        timeout_s: float = 600.0,
        connect_timeout_s: float | None = None,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        token_counter: TokenCounter | None = None,
    ) -> None:
        self._name = name
        self._default_max_tokens = default_max_tokens
        self._counter = token_counter or TokenCounter()
        timeout = httpx2.Timeout(timeout_s, connect=connect_timeout_s or timeout_s)
        self._client = AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            http_client=aiohttp_client(DefaultAioHttpClient, timeout),
        )

    @property
    def name(self) -> str:
        return self._name

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        sampling = request.sampling
        refuse_unsupported(sampling, ANTHROPIC_SAMPLING, self._name, request.model)
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or self._default_max_tokens,
            "messages": anthropic_messages(request.messages),
        }
        if request.tools:
            params["tools"] = anthropic_tools(request.tools)
            choice = anthropic_tool_choice(request.tool_choice)
            if choice is not None:
                params["tool_choice"] = choice
        if system:
            params["system"] = system
        if sampling.stop:
            params["stop_sequences"] = list(sampling.stop)
        # This SDK release has no `temperature` or `top_p` argument; the API still takes them.
        extra = {"temperature": request.temperature, "top_p": sampling.top_p}
        if any(value is not None for value in extra.values()):
            params["extra_body"] = {k: v for k, v in extra.items() if v is not None}
        return params

    def _raise(self, error: Exception, model: str) -> NoReturn:
        mapped = ERRORS.map(error, self._name, model)
        if mapped is None:
            raise error
        raise mapped from error

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        try:
            stream = await self._client.messages.create(**self._params(request), stream=True)
        except Exception as error:
            self._raise(error, request.model)
        parts: list[str] = []
        input_tokens: int | None = None
        output_tokens: int | None = None
        calls = StreamedToolCalls()
        finished = False
        try:
            async for event in stream:
                if event.type == "message_stop":
                    finished = True
                elif event.type == "message_start":
                    input_tokens = event.message.usage.input_tokens
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    parts.append(event.delta.text)
                    yield TextDelta(event.delta.text)
                elif (
                    event.type == "content_block_start"
                    and event.content_block.type == "tool_use"
                ):
                    block = event.content_block
                    calls.add(event.index, block.id, block.name, None)
                elif (
                    event.type == "content_block_delta"
                    and event.delta.type == "input_json_delta"
                ):
                    calls.add(event.index, None, None, event.delta.partial_json)
                elif event.type == "message_delta":
                    output_tokens = event.usage.output_tokens
                    if getattr(event.usage, "input_tokens", None):
                        input_tokens = event.usage.input_tokens
        except Exception as error:
            self._raise(error, request.model)
        finally:
            await stream.close()  # closes the HTTP response, so the upstream stops too
        if (parts or calls.started) and not finished:
            raise cut_short(self._name)  # no `message_stop`: the stream was cut upstream
        for call in calls.finished():
            yield ToolCallRequested(call)
        yield await counted_usage(
            self._counter, request, "".join(parts), input_tokens, output_tokens
        )

    async def complete_chat(self, request: ChatRequest) -> ChatCompletion:
        try:
            message = await self._client.messages.create(**self._params(request))
        except Exception as error:
            self._raise(error, request.model)
        text = "".join(block.text for block in message.content if block.type == "text")
        return ChatCompletion(
            text,
            await counted_usage(
                self._counter,
                request,
                text,
                message.usage.input_tokens,
                message.usage.output_tokens,
            ),
        )

    async def list_models(self) -> list[ProviderModel]:
        try:
            return [
                ProviderModel(name=model.id, description=model.display_name)
                async for model in self._client.models.list()
            ]
        except Exception as error:
            self._raise(error, "")

    async def aclose(self) -> None:
        await self._client.close()
