from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TokenUsage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "total_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ...) -> None: ...

class ModelUsage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "total_tokens")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    total_tokens: int
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ...) -> None: ...

class ModelCost(_message.Message):
    __slots__ = ("input", "output", "total")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    input: float
    output: float
    total: float
    def __init__(self, input: _Optional[float] = ..., output: _Optional[float] = ..., total: _Optional[float] = ...) -> None: ...

class Pricing(_message.Message):
    __slots__ = ("currency", "total_cost", "by_model")
    class ByModelEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ModelCost
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ModelCost, _Mapping]] = ...) -> None: ...
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    BY_MODEL_FIELD_NUMBER: _ClassVar[int]
    currency: str
    total_cost: float
    by_model: _containers.MessageMap[str, ModelCost]
    def __init__(self, currency: _Optional[str] = ..., total_cost: _Optional[float] = ..., by_model: _Optional[_Mapping[str, ModelCost]] = ...) -> None: ...

class Equivalences(_message.Message):
    __slots__ = ("water_liters", "car_km", "tgv_km", "smartphone_charges")
    WATER_LITERS_FIELD_NUMBER: _ClassVar[int]
    CAR_KM_FIELD_NUMBER: _ClassVar[int]
    TGV_KM_FIELD_NUMBER: _ClassVar[int]
    SMARTPHONE_CHARGES_FIELD_NUMBER: _ClassVar[int]
    water_liters: float
    car_km: float
    tgv_km: float
    smartphone_charges: float
    def __init__(self, water_liters: _Optional[float] = ..., car_km: _Optional[float] = ..., tgv_km: _Optional[float] = ..., smartphone_charges: _Optional[float] = ...) -> None: ...

class CompletionMetadata(_message.Message):
    __slots__ = ("model", "agent", "message_count", "latency_s", "emissions_kgCO2eq", "emissions_gCO2eq", "energy_kwh", "pricing", "equivalences", "usage", "usage_by_model", "requested_model", "fallback_reason", "attempts", "cache_hit")
    class UsageByModelEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ModelUsage
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ModelUsage, _Mapping]] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_S_FIELD_NUMBER: _ClassVar[int]
    EMISSIONS_KGCO2EQ_FIELD_NUMBER: _ClassVar[int]
    EMISSIONS_GCO2EQ_FIELD_NUMBER: _ClassVar[int]
    ENERGY_KWH_FIELD_NUMBER: _ClassVar[int]
    PRICING_FIELD_NUMBER: _ClassVar[int]
    EQUIVALENCES_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    USAGE_BY_MODEL_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_MODEL_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CACHE_HIT_FIELD_NUMBER: _ClassVar[int]
    model: str
    agent: str
    message_count: int
    latency_s: float
    emissions_kgCO2eq: float
    emissions_gCO2eq: float
    energy_kwh: float
    pricing: Pricing
    equivalences: Equivalences
    usage: ModelUsage
    usage_by_model: _containers.MessageMap[str, ModelUsage]
    requested_model: str
    fallback_reason: str
    attempts: _containers.RepeatedCompositeFieldContainer[UpstreamAttempt]
    cache_hit: bool
    def __init__(self, model: _Optional[str] = ..., agent: _Optional[str] = ..., message_count: _Optional[int] = ..., latency_s: _Optional[float] = ..., emissions_kgCO2eq: _Optional[float] = ..., emissions_gCO2eq: _Optional[float] = ..., energy_kwh: _Optional[float] = ..., pricing: _Optional[_Union[Pricing, _Mapping]] = ..., equivalences: _Optional[_Union[Equivalences, _Mapping]] = ..., usage: _Optional[_Union[ModelUsage, _Mapping]] = ..., usage_by_model: _Optional[_Mapping[str, ModelUsage]] = ..., requested_model: _Optional[str] = ..., fallback_reason: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[UpstreamAttempt, _Mapping]]] = ..., cache_hit: _Optional[bool] = ...) -> None: ...

class UpstreamAttempt(_message.Message):
    __slots__ = ("model", "provider", "error_reason")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    model: str
    provider: str
    error_reason: str
    def __init__(self, model: _Optional[str] = ..., provider: _Optional[str] = ..., error_reason: _Optional[str] = ...) -> None: ...
