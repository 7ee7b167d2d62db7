from google.api import annotations_pb2 as _annotations_pb2
from google.rpc import status_pb2 as _status_pb2
from routeur.v1 import accounting_pb2 as _accounting_pb2
from routeur.v1 import chat_pb2 as _chat_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CompleteRequest(_message.Message):
    __slots__ = ("message", "model", "agent", "temperature", "max_tokens", "conversation_history", "conversation_id", "project_id", "sources", "stream", "allow_fallback", "prompt", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_HISTORY_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    ALLOW_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_PENALTY_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_PENALTY_FIELD_NUMBER: _ClassVar[int]
    message: str
    model: str
    agent: str
    temperature: float
    max_tokens: int
    conversation_history: _containers.RepeatedCompositeFieldContainer[_chat_pb2.ChatMessage]
    conversation_id: str
    project_id: str
    sources: _containers.RepeatedScalarFieldContainer[str]
    stream: bool
    allow_fallback: bool
    prompt: str
    top_p: float
    stop: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    presence_penalty: float
    frequency_penalty: float
    def __init__(self, message: _Optional[str] = ..., model: _Optional[str] = ..., agent: _Optional[str] = ..., temperature: _Optional[float] = ..., max_tokens: _Optional[int] = ..., conversation_history: _Optional[_Iterable[_Union[_chat_pb2.ChatMessage, _Mapping]]] = ..., conversation_id: _Optional[str] = ..., project_id: _Optional[str] = ..., sources: _Optional[_Iterable[str]] = ..., stream: _Optional[bool] = ..., allow_fallback: _Optional[bool] = ..., prompt: _Optional[str] = ..., top_p: _Optional[float] = ..., stop: _Optional[_Iterable[str]] = ..., seed: _Optional[int] = ..., presence_penalty: _Optional[float] = ..., frequency_penalty: _Optional[float] = ...) -> None: ...

class CompleteResponse(_message.Message):
    __slots__ = ("response", "model", "agent", "usage", "metadata")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    response: str
    model: str
    agent: str
    usage: _accounting_pb2.TokenUsage
    metadata: _accounting_pb2.CompletionMetadata
    def __init__(self, response: _Optional[str] = ..., model: _Optional[str] = ..., agent: _Optional[str] = ..., usage: _Optional[_Union[_accounting_pb2.TokenUsage, _Mapping]] = ..., metadata: _Optional[_Union[_accounting_pb2.CompletionMetadata, _Mapping]] = ...) -> None: ...

class StreamCompletionRequest(_message.Message):
    __slots__ = ("message", "model", "agent", "temperature", "max_tokens", "conversation_history", "conversation_id", "project_id", "sources", "stream", "allow_fallback", "prompt", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_HISTORY_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    ALLOW_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_PENALTY_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_PENALTY_FIELD_NUMBER: _ClassVar[int]
    message: str
    model: str
    agent: str
    temperature: float
    max_tokens: int
    conversation_history: _containers.RepeatedCompositeFieldContainer[_chat_pb2.ChatMessage]
    conversation_id: str
    project_id: str
    sources: _containers.RepeatedScalarFieldContainer[str]
    stream: bool
    allow_fallback: bool
    prompt: str
    top_p: float
    stop: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    presence_penalty: float
    frequency_penalty: float
    def __init__(self, message: _Optional[str] = ..., model: _Optional[str] = ..., agent: _Optional[str] = ..., temperature: _Optional[float] = ..., max_tokens: _Optional[int] = ..., conversation_history: _Optional[_Iterable[_Union[_chat_pb2.ChatMessage, _Mapping]]] = ..., conversation_id: _Optional[str] = ..., project_id: _Optional[str] = ..., sources: _Optional[_Iterable[str]] = ..., stream: _Optional[bool] = ..., allow_fallback: _Optional[bool] = ..., prompt: _Optional[str] = ..., top_p: _Optional[float] = ..., stop: _Optional[_Iterable[str]] = ..., seed: _Optional[int] = ..., presence_penalty: _Optional[float] = ..., frequency_penalty: _Optional[float] = ...) -> None: ...

class StreamCompletionResponse(_message.Message):
    __slots__ = ("content", "done", "metadata", "error")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    content: str
    done: bool
    metadata: _accounting_pb2.CompletionMetadata
    error: _status_pb2.Status
    def __init__(self, content: _Optional[str] = ..., done: _Optional[bool] = ..., metadata: _Optional[_Union[_accounting_pb2.CompletionMetadata, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
