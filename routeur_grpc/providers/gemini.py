"""Google Gemini through the official `google-genai` SDK (Gemini Developer API).

Streams with `client.aio.models.generate_content_stream` (`streamGenerateContent?alt=sse`).
`base_url` in `HttpOptions` points the SDK at another endpoint (a proxy, or a fake in tests).
Roles map to Gemini's `user`/`model`; system turns become `system_instruction`. Automatic
function calling is disabled (Routeur sends no tools) and the SDK's retries are off
(`HttpRetryOptions(attempts=1)`). Output tokens include the model's thinking tokens, which
Google bills as output.

The SDK raises `ClientError` (4xx) and `ServerError` (5xx), both carrying the HTTP `code` and
the response; transport failures arrive as raw `httpx2` exceptions.

Closing: the SDK's stream is several nested generators, and closing the outer one leaves
the HTTP response open until the pool goes. So the SDK gets an `httpx2.AsyncClient` of ours
whose `response` hook notes each response in a per-call list (a context variable: hooks run
in the task iterating the stream), and `stream_chat` closes them itself.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from routeur_grpc.domain.completion import ChatMessage, ToolCall
from routeur_grpc.providers.base import (
    ChatEvent,
    ChatRequest,
    ProviderModel,
    TextDelta,
    ToolCallRequested,
)
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.providers.tool_formats import (
    arguments_object,
    gemini_function_calling,
    result_object,
)
from routeur_grpc.providers.unary import ChatCompletion, counted_usage
from routeur_grpc.providers.upstream_errors import (
    ErrorTable,
    by_status,
    cut_short,
    malformed,
    timed_out,
    unavailable,
)

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com"
GEMINI_API_VERSION = "v1beta"

# Responses opened by the current `stream_chat` call (see the module docstring).
_OPEN_RESPONSES: contextvars.ContextVar[list[httpx2.Response] | None] = contextvars.ContextVar(
    "gemini_open_responses", default=None
)


async def _note_response(response: httpx2.Response) -> None:
    opened = _OPEN_RESPONSES.get()
    if opened is not None:
        opened.append(response)


def _status_error(error: genai_errors.APIError, provider: str, model: str) -> Any:
    response = error.response
    headers = getattr(response, "headers", None)
    return by_status(provider, model, int(error.code or 0), headers, error.message)


ERRORS = ErrorTable(
    [
        (genai_errors.APIError, _status_error),  # ClientError and ServerError
        (httpx2.TimeoutException, lambda e, p, m: timed_out(p)),
        (httpx2.TransportError, lambda e, p, m: unavailable(p, what="connection failed")),
        (genai_errors.UnknownApiResponseError, lambda e, p, m: malformed(p, "an answer it could not read")),
        (json.JSONDecodeError, lambda e, p, m: malformed(p, "an event that is not valid JSON")),
    ]
)


def _texts(response: types.GenerateContentResponse) -> list[str]:
    """Visible text parts of the first candidate (thoughts excluded)."""
    if not response.candidates:
        return []
    content = response.candidates[0].content
    if content is None or not content.parts:
        return []
    return [part.text for part in content.parts if part.text and not part.thought]


def _function_calls(response: types.GenerateContentResponse) -> list[ToolCall]:
    """Function calls of the first candidate: Gemini sends each one whole, in one part."""
    if not response.candidates or response.candidates[0].content is None:
        return []
    calls = []
    for part in response.candidates[0].content.parts or ():
        call = part.function_call
        if call is not None and call.name:
            arguments = json.dumps(call.args or {})
            calls.append(ToolCall(call.id or f"{call.name}-{len(calls)}", call.name, arguments))
    return calls


def _content(message: ChatMessage) -> types.Content:
    """A turn in Gemini's format: `model` turns carry function calls, `user` turns carry
    function responses (by the function's name)."""
    if message.role == "tool":
        return types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        name=message.name, response=result_object(message.content)
                    )
                )
            ],
        )
    parts = [types.Part(text=message.content)] if message.content or not message.tool_calls else []
    parts += [
        types.Part(
            function_call=types.FunctionCall(name=call.name, args=arguments_object(call.arguments))
        )
        for call in message.tool_calls
    ]
    return types.Content(role="model" if message.role == "assistant" else "user", parts=parts)


def _output_tokens(usage: types.GenerateContentResponseUsageMetadata | None) -> int | None:
    if usage is None or usage.candidates_token_count is None:
        return None
    return usage.candidates_token_count + (usage.thoughts_token_count or 0)


class GeminiProvider:
    """Chat completions from Gemini."""

    def __init__(
        self,
        name: str = "gemini",
        *,
        api_key: str | None,
        base_url: str = GEMINI_BASE_URL,
        api_version: str = GEMINI_API_VERSION,
        timeout_s: float = 600.0,
        connect_timeout_s: float | None = None,
        token_counter: TokenCounter | None = None,
    ) -> None:
        self._name = name
        self._counter = token_counter or TokenCounter()
        self._http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(timeout_s, connect=connect_timeout_s or timeout_s),
            event_hooks={"response": [_note_response]},
        )
        self._client = genai.Client(
            api_key=api_key or "",
            http_options=types.HttpOptions(
                base_url=base_url,
                api_version=api_version,
                timeout=int(timeout_s * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
                httpx_async_client=self._http,
            ),
        )

    @property
    def name(self) -> str:
        return self._name

    def _call(self, request: ChatRequest) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        contents = [_content(m) for m in request.messages if m.role != "system"]
        tools = None
        tool_config = None
        calling = gemini_function_calling(request.tool_choice) if request.tools else None
        if calling is not None:
            mode, allowed = calling
            tool_config = types.ToolConfig(
                function_calling_config=types.FunctionCallingConfig(
                    mode=types.FunctionCallingConfigMode(mode),
                    allowed_function_names=allowed,
                )
            )
        if request.tools:
            tools = [
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(
                            name=tool.name,
                            description=tool.description,
                            parameters_json_schema=tool.parameters,
                        )
                        for tool in request.tools
                    ]
                )
            ]
        sampling = request.sampling
        config = types.GenerateContentConfig(
            temperature=request.temperature,
            top_p=sampling.top_p,
            stop_sequences=list(sampling.stop) or None,
            seed=sampling.seed,
            presence_penalty=sampling.presence_penalty,
            frequency_penalty=sampling.frequency_penalty,
            max_output_tokens=request.max_tokens,
            system_instruction=system or None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            tools=tools,
            tool_config=tool_config,
        )
        return {"model": request.model, "contents": contents, "config": config}

    def _raise(self, error: Exception, model: str) -> NoReturn:
        mapped = ERRORS.map(error, self._name, model)
        if mapped is None:
            raise error
        raise mapped from error

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        opened: list[httpx2.Response] = []
        _OPEN_RESPONSES.set(opened)
        try:
            stream = await self._client.aio.models.generate_content_stream(**self._call(request))
        except Exception as error:
            self._raise(error, request.model)
        parts: list[str] = []
        usage: types.GenerateContentResponseUsageMetadata | None = None
        finished = False
        calls: list[ToolCall] = []
        try:
            async for response in stream:
                finished = finished or any(c.finish_reason for c in response.candidates or ())
                if response.usage_metadata is not None:
                    usage = response.usage_metadata  # cumulative: the last one wins
                for text in _texts(response):
                    parts.append(text)
                    yield TextDelta(text)
                calls.extend(_function_calls(response))
        except Exception as error:
            self._raise(error, request.model)
        finally:
            await stream.aclose()
            for response in opened:
                await response.aclose()  # the SDK's generators leave it open
            _OPEN_RESPONSES.set(None)
        if (parts or calls) and not finished:
            raise cut_short(self._name)  # no `finishReason`: the stream was cut upstream
        for call in calls:  # reported once the answer is known to be whole
            yield ToolCallRequested(call)
        yield await counted_usage(
            self._counter,
            request,
            "".join(parts),
            usage.prompt_token_count if usage else None,
            _output_tokens(usage),
        )

    async def complete_chat(self, request: ChatRequest) -> ChatCompletion:
        try:
            response = await self._client.aio.models.generate_content(**self._call(request))
        except Exception as error:
            self._raise(error, request.model)
        text = "".join(_texts(response))
        usage = response.usage_metadata
        return ChatCompletion(
            text,
            await counted_usage(
                self._counter,
                request,
                text,
                usage.prompt_token_count if usage else None,
                _output_tokens(usage),
            ),
        )

    async def list_models(self) -> list[ProviderModel]:
        try:
            pager = await self._client.aio.models.list()
            return [
                ProviderModel(
                    name=(model.name or "").removeprefix("models/"),
                    description=model.description or model.display_name or "",
                    context_window=model.input_token_limit or 0,
                )
                async for model in pager
            ]
        except Exception as error:
            self._raise(error, "")

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        await self._http.aclose()
