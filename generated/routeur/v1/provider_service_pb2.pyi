import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Provider(_message.Message):
    __slots__ = ("provider_id", "provider_type", "name", "api_key", "api_key_masked", "base_url", "model", "config", "enabled", "created_at", "updated_at", "read_only", "models")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    API_KEY_MASKED_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    provider_type: str
    name: str
    api_key: str
    api_key_masked: str
    base_url: str
    model: str
    config: ProviderOptions
    enabled: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    read_only: bool
    models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, provider_id: _Optional[str] = ..., provider_type: _Optional[str] = ..., name: _Optional[str] = ..., api_key: _Optional[str] = ..., api_key_masked: _Optional[str] = ..., base_url: _Optional[str] = ..., model: _Optional[str] = ..., config: _Optional[_Union[ProviderOptions, _Mapping]] = ..., enabled: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., read_only: _Optional[bool] = ..., models: _Optional[_Iterable[str]] = ...) -> None: ...

class ProviderOptions(_message.Message):
    __slots__ = ("temperature", "max_tokens", "timeout", "base_url", "model", "api_key")
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    temperature: float
    max_tokens: int
    timeout: float
    base_url: str
    model: str
    api_key: str
    def __init__(self, temperature: _Optional[float] = ..., max_tokens: _Optional[int] = ..., timeout: _Optional[float] = ..., base_url: _Optional[str] = ..., model: _Optional[str] = ..., api_key: _Optional[str] = ...) -> None: ...

class ListProvidersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProvidersResponse(_message.Message):
    __slots__ = ("providers", "next_page_token")
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[Provider]
    next_page_token: str
    def __init__(self, providers: _Optional[_Iterable[_Union[Provider, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateProviderRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class CreateProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class GetProviderRequest(_message.Message):
    __slots__ = ("provider_id",)
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    def __init__(self, provider_id: _Optional[str] = ...) -> None: ...

class GetProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class UpdateProviderRequest(_message.Message):
    __slots__ = ("provider", "update_mask")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class DeleteProviderRequest(_message.Message):
    __slots__ = ("provider_id",)
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    def __init__(self, provider_id: _Optional[str] = ...) -> None: ...

class DeleteProviderResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ToggleProviderRequest(_message.Message):
    __slots__ = ("provider_id", "enabled")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    enabled: bool
    def __init__(self, provider_id: _Optional[str] = ..., enabled: _Optional[bool] = ...) -> None: ...

class ToggleProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class TestProviderRequest(_message.Message):
    __slots__ = ("provider_id", "model")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    model: str
    def __init__(self, provider_id: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class TestProviderResponse(_message.Message):
    __slots__ = ("ok", "message", "model", "latency_s", "response_excerpt", "models")
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LATENCY_S_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_EXCERPT_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    message: str
    model: str
    latency_s: float
    response_excerpt: str
    models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ok: _Optional[bool] = ..., message: _Optional[str] = ..., model: _Optional[str] = ..., latency_s: _Optional[float] = ..., response_excerpt: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ...) -> None: ...

class InitializeDefaultProvidersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InitializeDefaultProvidersResponse(_message.Message):
    __slots__ = ("created", "skipped")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    created: _containers.RepeatedCompositeFieldContainer[Provider]
    skipped: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, created: _Optional[_Iterable[_Union[Provider, _Mapping]]] = ..., skipped: _Optional[_Iterable[str]] = ...) -> None: ...

class SyncProviderModelsRequest(_message.Message):
    __slots__ = ("provider_ids",)
    PROVIDER_IDS_FIELD_NUMBER: _ClassVar[int]
    provider_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, provider_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SyncProviderModelsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ProviderSyncResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ProviderSyncResult, _Mapping]]] = ...) -> None: ...

class ProviderSyncResult(_message.Message):
    __slots__ = ("provider_id", "name", "ok", "models", "message")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    name: str
    ok: bool
    models: _containers.RepeatedScalarFieldContainer[str]
    message: str
    def __init__(self, provider_id: _Optional[str] = ..., name: _Optional[str] = ..., ok: _Optional[bool] = ..., models: _Optional[_Iterable[str]] = ..., message: _Optional[str] = ...) -> None: ...

class ListOllamaModelsRequest(_message.Message):
    __slots__ = ("provider_id",)
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    def __init__(self, provider_id: _Optional[str] = ...) -> None: ...

class ListOllamaModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[OllamaModel]
    def __init__(self, models: _Optional[_Iterable[_Union[OllamaModel, _Mapping]]] = ...) -> None: ...

class OllamaModel(_message.Message):
    __slots__ = ("name", "size_mb", "digest", "modified_at", "parameter_size", "family")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_MB_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SIZE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    name: str
    size_mb: float
    digest: str
    modified_at: _timestamp_pb2.Timestamp
    parameter_size: str
    family: str
    def __init__(self, name: _Optional[str] = ..., size_mb: _Optional[float] = ..., digest: _Optional[str] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., parameter_size: _Optional[str] = ..., family: _Optional[str] = ...) -> None: ...

class PullOllamaModelRequest(_message.Message):
    __slots__ = ("provider_id", "model")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    model: str
    def __init__(self, provider_id: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class PullOllamaModelResponse(_message.Message):
    __slots__ = ("status", "digest", "total_bytes", "completed_bytes", "percent")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_BYTES_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    status: str
    digest: str
    total_bytes: float
    completed_bytes: float
    percent: float
    def __init__(self, status: _Optional[str] = ..., digest: _Optional[str] = ..., total_bytes: _Optional[float] = ..., completed_bytes: _Optional[float] = ..., percent: _Optional[float] = ...) -> None: ...

class DeleteOllamaModelRequest(_message.Message):
    __slots__ = ("provider_id", "model")
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    provider_id: str
    model: str
    def __init__(self, provider_id: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class DeleteOllamaModelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
