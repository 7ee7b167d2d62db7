from google.api import annotations_pb2 as _annotations_pb2
from google.rpc import status_pb2 as _status_pb2
from routeur.v1 import accounting_pb2 as _accounting_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunSessionRequest(_message.Message):
    __slots__ = ("ping", "message", "cancel")
    PING_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    ping: RealtimePing
    message: RealtimeUserMessage
    cancel: RealtimeCancel
    def __init__(self, ping: _Optional[_Union[RealtimePing, _Mapping]] = ..., message: _Optional[_Union[RealtimeUserMessage, _Mapping]] = ..., cancel: _Optional[_Union[RealtimeCancel, _Mapping]] = ...) -> None: ...

class RunSessionResponse(_message.Message):
    __slots__ = ("started", "pong", "delta", "done", "error")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    started: RealtimeSessionStarted
    pong: RealtimePong
    delta: RealtimeReplyDelta
    done: RealtimeReplyDone
    error: _status_pb2.Status
    def __init__(self, started: _Optional[_Union[RealtimeSessionStarted, _Mapping]] = ..., pong: _Optional[_Union[RealtimePong, _Mapping]] = ..., delta: _Optional[_Union[RealtimeReplyDelta, _Mapping]] = ..., done: _Optional[_Union[RealtimeReplyDone, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class RealtimePing(_message.Message):
    __slots__ = ("nonce",)
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: str
    def __init__(self, nonce: _Optional[str] = ...) -> None: ...

class RealtimeUserMessage(_message.Message):
    __slots__ = ("message_id", "text", "model")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    text: str
    model: str
    def __init__(self, message_id: _Optional[str] = ..., text: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class RealtimeCancel(_message.Message):
    __slots__ = ("message_id",)
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    def __init__(self, message_id: _Optional[str] = ...) -> None: ...

class RealtimeSessionStarted(_message.Message):
    __slots__ = ("session_id", "conversation_id")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    conversation_id: str
    def __init__(self, session_id: _Optional[str] = ..., conversation_id: _Optional[str] = ...) -> None: ...

class RealtimePong(_message.Message):
    __slots__ = ("nonce",)
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: str
    def __init__(self, nonce: _Optional[str] = ...) -> None: ...

class RealtimeReplyDelta(_message.Message):
    __slots__ = ("message_id", "content")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    content: str
    def __init__(self, message_id: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class RealtimeReplyDone(_message.Message):
    __slots__ = ("message_id", "metadata", "cancelled", "error")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    metadata: _accounting_pb2.CompletionMetadata
    cancelled: bool
    error: _status_pb2.Status
    def __init__(self, message_id: _Optional[str] = ..., metadata: _Optional[_Union[_accounting_pb2.CompletionMetadata, _Mapping]] = ..., cancelled: _Optional[bool] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
