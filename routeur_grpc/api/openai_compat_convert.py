"""OpenAI-compatible messages: OpenAI's chat shapes to Routeur's domain and back.

OpenAI's request is a list of messages; Routeur's is a new user message plus its history.
Answers become OpenAI's `chat.completion` object, or `chat.completion.chunk` objects for a
stream, with a last chunk carrying `error` when a stream fails after it has started.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence

import grpc
from google.protobuf import struct_pb2
from routeur.v1 import openai_compat_service_pb2 as pb

from routeur_grpc.api.completion_convert import sampling_of
from routeur_grpc.api.openai_tools_convert import (
    openai_tool_call,
    tool_calls_of,
    tool_choice,
    tool_specs,
)
from routeur_grpc.domain.completion import (
    ChatMessage,
    CompletionChunk,
    CompletionRequest,
    CompletionResult,
    TokenUsage,
)
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import InvalidArgument, RouteurError

ChatRequestMessage = pb.CreateChatCompletionRequest | pb.StreamChatCompletionRequest

# OpenAI's `developer` role is its newer name for `system`.
_ROLE_ALIASES = {"developer": "system"}

# OpenAI's error `type` for each gRPC code; anything else is a `server_error`.
_ERROR_TYPES = {
    grpc.StatusCode.INVALID_ARGUMENT: "invalid_request_error",
    grpc.StatusCode.NOT_FOUND: "not_found_error",
    grpc.StatusCode.UNAUTHENTICATED: "authentication_error",
    grpc.StatusCode.PERMISSION_DENIED: "permission_error",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "rate_limit_exceeded",
}


def new_completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def chat_request(message: ChatRequestMessage) -> CompletionRequest:
    """The domain request: the last message is the new one, the others its history.

    After the model called the caller's tools, the last messages are their results: the
    whole list is then the history, and there is no new message.
    """
    if not message.messages:
        raise InvalidArgument("`messages` is empty: give at least one user message.")
    if message.HasField("n") and message.n != 1:
        raise InvalidArgument(f"`n` is {message.n}: Routeur answers with one choice, n=1.")
    last = message.messages[-1]
    if last.role not in ("user", "tool"):
        raise InvalidArgument(
            f"The last of `messages` has role {last.role!r}: it must be the user's message "
            "to answer, or a tool's result."
        )
    turns = _turns(message.messages)
    new_message = turns.pop().content if last.role == "user" else ""
    return CompletionRequest(
        message=new_message,
        model=message.model,
        temperature=message.temperature if message.HasField("temperature") else None,
        max_tokens=max_tokens_of(message),
        history=tuple(turns),
        sampling=sampling_of(message, stop=_stop(message.stop)),
        tools=tool_specs(list(message.tools)),
        tool_choice=tool_choice(message.tool_choice),
    )


def _turns(messages: Sequence[pb.OpenAIChatMessage]) -> list[ChatMessage]:
    """Every message as a domain turn; roles are checked by the domain's validation, like
    those of CompleteRequest. A tool's result also gets the name of the function it
    answers (Gemini wants it), from the call it names."""
    turns: list[ChatMessage] = []
    functions: dict[str, str] = {}
    for index, turn in enumerate(messages):
        role = _ROLE_ALIASES.get(turn.role, turn.role)
        content = _text(turn.content, index)
        if role == "tool":
            if not turn.tool_call_id:
                raise InvalidArgument(
                    f"`messages[{index}]` is a tool's result without `tool_call_id`: name "
                    "the call it answers."
                )
            name = functions.get(turn.tool_call_id, "")
            turns.append(ChatMessage("tool", content, tool_call_id=turn.tool_call_id, name=name))
        elif turn.tool_calls:
            if role != "assistant":
                raise InvalidArgument(
                    f"`messages[{index}]` has `tool_calls` but role {turn.role!r}: only the "
                    "assistant calls tools."
                )
            calls = tool_calls_of(turn, index)
            functions.update((call.id, call.name) for call in calls)
            turns.append(ChatMessage("assistant", content, tool_calls=calls))
        else:
            turns.append(ChatMessage(role, content))  # type: ignore[arg-type]
    return turns


def max_tokens_of(message: ChatRequestMessage) -> int | None:
    if message.HasField("max_completion_tokens"):
        return message.max_completion_tokens
    return message.max_tokens if message.HasField("max_tokens") else None


def _stop(stop: struct_pb2.Value) -> tuple[str, ...]:
    """OpenAI's `stop`: one text, or a list of texts."""
    kind = stop.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return ()
    if kind == "string_value":
        return (stop.string_value,)
    if kind == "list_value" and all(
        item.WhichOneof("kind") == "string_value" for item in stop.list_value.values
    ):
        return tuple(item.string_value for item in stop.list_value.values)
    raise InvalidArgument("`stop` must be a string or a list of strings.")


def _text(content: struct_pb2.Value, index: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    kind = content.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return ""
    if kind == "string_value":
        return content.string_value
    if kind == "list_value":
        parts = []
        for part in content.list_value.values:
            fields = part.struct_value.fields if part.HasField("struct_value") else {}
            if fields.get("type", struct_pb2.Value()).string_value != "text":
                raise InvalidArgument(
                    f"`messages[{index}].content` has a part that is not text: only "
                    '{"type": "text", "text": ...} parts are supported.'
                )
            parts.append(fields["text"].string_value if "text" in fields else "")
        return "".join(parts)
    raise InvalidArgument(f"`messages[{index}].content` must be a string or a list of parts.")


def _finish_reason(usage: TokenUsage, max_tokens: int | None, called_tools: bool = False) -> str:
    # Providers do not report why they stopped yet; reaching the limit means `length`.
    if called_tools:
        return "tool_calls"
    if max_tokens is not None and usage.completion_tokens >= max_tokens:
        return "length"
    return "stop"


def _usage(usage: TokenUsage) -> pb.OpenAIUsage:
    return pb.OpenAIUsage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


def chat_completion(
    result: CompletionResult, *, completion_id: str, created: int, max_tokens: int | None
) -> pb.CreateChatCompletionResponse:
    return pb.CreateChatCompletionResponse(
        id=completion_id,
        object="chat.completion",
        created=created,
        model=result.model,
        choices=[
            pb.OpenAIChoice(
                index=0,
                message=pb.OpenAIResponseMessage(
                    role="assistant",
                    content=result.response,
                    tool_calls=[openai_tool_call(call) for call in result.tool_calls],
                ),
                finish_reason=_finish_reason(result.usage, max_tokens, bool(result.tool_calls)),
            )
        ],
        usage=_usage(result.usage),
    )


def openai_error(error: RouteurError) -> pb.OpenAIError:
    return pb.OpenAIError(
        message=error.message,
        type=_ERROR_TYPES.get(error.code, "server_error"),
        code=error.reason,
    )


class ChatChunkEncoder:
    """Turns the domain's completion chunks into OpenAI's chunks, for one stream."""

    def __init__(self, request: ChatRequestMessage) -> None:
        self._id = new_completion_id()
        self._created = int(time.time())
        self._model = request.model
        self._max_tokens = max_tokens_of(request)
        self._include_usage = request.stream_options.include_usage
        self._started = False
        self._tool_calls = 0

    def encode(self, chunk: CompletionChunk) -> Iterator[pb.StreamChatCompletionResponse]:
        if chunk.metadata is not None and chunk.metadata.model:
            self._model = chunk.metadata.model
        if chunk.content or chunk.tool_calls:
            delta = pb.OpenAIDelta()
            if chunk.content:
                delta.content = chunk.content
            for call in chunk.tool_calls:
                delta.tool_calls.append(openai_tool_call(call, index=self._tool_calls))
                self._tool_calls += 1
            if not self._started:
                delta.role = "assistant"
                self._started = True
            yield self._chunk(choices=[pb.OpenAIChunkChoice(index=0, delta=delta)])
        if chunk.error is not None:
            yield self._chunk(error=openai_error(chunk.error))
            return
        if chunk.done:
            usage = chunk.metadata.usage if chunk.metadata is not None else TokenUsage()
            delta = pb.OpenAIDelta() if self._started else pb.OpenAIDelta(role="assistant")
            yield self._chunk(
                choices=[
                    pb.OpenAIChunkChoice(
                        index=0,
                        delta=delta,
                        finish_reason=_finish_reason(
                            usage, self._max_tokens, self._tool_calls > 0
                        ),
                    )
                ]
            )
            if self._include_usage:
                yield self._chunk(usage=_usage(usage))

    def _chunk(self, **fields: object) -> pb.StreamChatCompletionResponse:
        return pb.StreamChatCompletionResponse(
            id=self._id,
            object="chat.completion.chunk",
            created=self._created,
            model=self._model,
            **fields,  # type: ignore[arg-type]
        )


def models_list(models: list[ModelInfo]) -> pb.ListOpenAIModelsResponse:
    return pb.ListOpenAIModelsResponse(
        object="list",
        data=[
            pb.OpenAIModel(id=model.name, object="model", created=0, owned_by=model.provider)
            for model in sorted(models, key=lambda model: (model.provider, model.name))
        ],
    )
