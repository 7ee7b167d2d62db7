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
from openai import AsyncOpenAI

from routeur_grpc.providers.base import (
    ChatEvent,
    ChatRequest,
    ProviderModel,
    TextDelta,
)
from routeur_grpc.providers.token_count import TokenCounter
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
        self._client = AsyncOpenAI(
            api_key=api_key or NO_KEY,
            base_url=base_url,
            organization=organization,
            timeout=httpx2.Timeout(timeout_s, connect=connect_timeout_s or timeout_s),
            max_retries=0,
            default_headers=default_headers,
        )

    @property
    def name(self) -> str:
        return self._name

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            params[self._max_tokens_field] = request.max_tokens
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
            stream = await self._client.chat.completions.create(**params, stream=True)
        except Exception as error:
            self._raise(error, request.model)
        parts: list[str] = []
        usage: openai.types.CompletionUsage | None = None
        finished = False
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices or ():
                    finished = finished or bool(choice.finish_reason)
                    if choice.index == 0 and choice.delta.content:
                        parts.append(choice.delta.content)
                        yield TextDelta(choice.delta.content)
        except Exception as error:
            self._raise(error, request.model)
        finally:
            # Closing the SDK stream closes the HTTP response: the upstream sees the
            # connection go when the caller cancels, instead of generating on for nobody.
            await stream.close()
        if parts and not finished:
            # The stream ended without any choice's `finish_reason`: cut short upstream.
            raise cut_short(self._name)
        yield counted_usage(
            self._counter,
            request,
            "".join(parts),
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
        )

    async def complete_chat(self, request: ChatRequest) -> ChatCompletion:
        try:
            response = await self._client.chat.completions.create(**self._params(request))
        except Exception as error:
            self._raise(error, request.model)
        if not isinstance(response, openai.types.chat.ChatCompletion):
            raise malformed(self._name, "an answer that is not a chat completion")
        choices = getattr(response, "choices", None) or []
        text = (choices[0].message.content or "") if choices else ""
        usage = getattr(response, "usage", None)
        return ChatCompletion(
            text,
            counted_usage(
                self._counter,
                request,
                text,
                usage.prompt_tokens if usage else None,
                usage.completion_tokens if usage else None,
            ),
        )

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

