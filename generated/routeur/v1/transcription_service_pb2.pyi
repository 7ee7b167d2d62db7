import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TranscribeAudioRequest(_message.Message):
    __slots__ = ("file_name", "format", "language", "prompt", "model", "audio")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    format: str
    language: str
    prompt: str
    model: str
    audio: _httpbody_pb2.HttpBody
    def __init__(self, file_name: _Optional[str] = ..., format: _Optional[str] = ..., language: _Optional[str] = ..., prompt: _Optional[str] = ..., model: _Optional[str] = ..., audio: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class TranscribeAudioResponse(_message.Message):
    __slots__ = ("text", "language", "duration", "model")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    text: str
    language: str
    duration: float
    model: str
    def __init__(self, text: _Optional[str] = ..., language: _Optional[str] = ..., duration: _Optional[float] = ..., model: _Optional[str] = ...) -> None: ...

class TranscribeMeetingRequest(_message.Message):
    __slots__ = ("file_name", "format", "language", "prompt", "model", "project_id", "max_duration_seconds", "audio")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    format: str
    language: str
    prompt: str
    model: str
    project_id: str
    max_duration_seconds: int
    audio: _httpbody_pb2.HttpBody
    def __init__(self, file_name: _Optional[str] = ..., format: _Optional[str] = ..., language: _Optional[str] = ..., prompt: _Optional[str] = ..., model: _Optional[str] = ..., project_id: _Optional[str] = ..., max_duration_seconds: _Optional[int] = ..., audio: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class TranscribeMeetingResponse(_message.Message):
    __slots__ = ("text", "language", "duration", "model", "report", "project_id", "transcript")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    text: str
    language: str
    duration: float
    model: str
    report: MeetingReport
    project_id: str
    transcript: str
    def __init__(self, text: _Optional[str] = ..., language: _Optional[str] = ..., duration: _Optional[float] = ..., model: _Optional[str] = ..., report: _Optional[_Union[MeetingReport, _Mapping]] = ..., project_id: _Optional[str] = ..., transcript: _Optional[str] = ...) -> None: ...

class MeetingReport(_message.Message):
    __slots__ = ("summary", "decisions", "action_items", "model", "text")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    ACTION_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    summary: str
    decisions: _containers.RepeatedScalarFieldContainer[str]
    action_items: _containers.RepeatedCompositeFieldContainer[MeetingActionItem]
    model: str
    text: str
    def __init__(self, summary: _Optional[str] = ..., decisions: _Optional[_Iterable[str]] = ..., action_items: _Optional[_Iterable[_Union[MeetingActionItem, _Mapping]]] = ..., model: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class MeetingActionItem(_message.Message):
    __slots__ = ("description", "owner", "due")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    description: str
    owner: str
    due: str
    def __init__(self, description: _Optional[str] = ..., owner: _Optional[str] = ..., due: _Optional[str] = ...) -> None: ...

class CreateTranscriptionJobRequest(_message.Message):
    __slots__ = ("kind", "file_name", "format", "language", "prompt", "model", "project_id", "max_duration_seconds", "audio")
    KIND_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    kind: str
    file_name: str
    format: str
    language: str
    prompt: str
    model: str
    project_id: str
    max_duration_seconds: int
    audio: _httpbody_pb2.HttpBody
    def __init__(self, kind: _Optional[str] = ..., file_name: _Optional[str] = ..., format: _Optional[str] = ..., language: _Optional[str] = ..., prompt: _Optional[str] = ..., model: _Optional[str] = ..., project_id: _Optional[str] = ..., max_duration_seconds: _Optional[int] = ..., audio: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class CreateTranscriptionJobResponse(_message.Message):
    __slots__ = ("job_id", "status", "created_at")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TranscriptionJob(_message.Message):
    __slots__ = ("job_id", "status", "job_type", "progress_percent", "transcript_text", "transcript_language", "transcript_duration", "transcript_model", "error", "created_at", "updated_at")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_TEXT_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_DURATION_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_MODEL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: str
    job_type: str
    progress_percent: int
    transcript_text: str
    transcript_language: str
    transcript_duration: float
    transcript_model: str
    error: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[str] = ..., job_type: _Optional[str] = ..., progress_percent: _Optional[int] = ..., transcript_text: _Optional[str] = ..., transcript_language: _Optional[str] = ..., transcript_duration: _Optional[float] = ..., transcript_model: _Optional[str] = ..., error: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetTranscriptionJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchTranscriptionJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchTranscriptionJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: TranscriptionJob
    def __init__(self, job: _Optional[_Union[TranscriptionJob, _Mapping]] = ...) -> None: ...

class ListTranscriptionJobsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTranscriptionJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[TranscriptionJob]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[TranscriptionJob, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelTranscriptionJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelTranscriptionJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: TranscriptionJob
    def __init__(self, job: _Optional[_Union[TranscriptionJob, _Mapping]] = ...) -> None: ...

class GetSupportedFormatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSupportedFormatsResponse(_message.Message):
    __slots__ = ("supported_formats", "max_file_size_mb", "model", "languages", "models")
    SUPPORTED_FORMATS_FIELD_NUMBER: _ClassVar[int]
    MAX_FILE_SIZE_MB_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    supported_formats: _containers.RepeatedScalarFieldContainer[str]
    max_file_size_mb: int
    model: str
    languages: str
    models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, supported_formats: _Optional[_Iterable[str]] = ..., max_file_size_mb: _Optional[int] = ..., model: _Optional[str] = ..., languages: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ...) -> None: ...
