"""Record-level checks shared by both stores: provider fields, job results and errors."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from typing import Any

from routeur_grpc.domain.records import (
    MAX_ERROR_CHARS,
    MAX_JSON_BYTES,
    MAX_SECRET_CHARS,
    MAX_TRANSCRIPT_BYTES,
    MAX_URL_CHARS,
    TranscriptResult,
    UsageRecord,
)
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.ids import utc_now


def provider_changes(
    *,
    provider_type: object = None,
    name: object = None,
    base_url: object = None,
    api_key_ciphertext: object = None,
    default_model: object = None,
    config: object = None,
    enabled: object = None,
) -> dict[str, Any]:
    """The checked fields of a provider update, keyed by field name; None values are left
    out. `config` comes with `config_json`, its serialised text."""
    changes: dict[str, Any] = {}
    if provider_type is not None:
        changes["provider_type"] = check.name("provider_type", provider_type)
    if name is not None:
        changes["name"] = check.name("name", name)
    if base_url is not None:
        changes["base_url"] = check.name(
            "base_url", base_url, required=False, max_chars=MAX_URL_CHARS
        )
    if api_key_ciphertext is not None:
        changes["api_key_ciphertext"] = check.text(
            "api_key_ciphertext", api_key_ciphertext, max_chars=MAX_SECRET_CHARS
        )
    if default_model is not None:
        changes["default_model"] = check.name("default_model", default_model, required=False)
    if config is not None:
        changes["config"], changes["config_json"] = check.json_document(
            "config", config, max_bytes=MAX_JSON_BYTES
        )
    if enabled is not None:
        changes["enabled"] = check.flag("enabled", enabled)
    return changes


def new_provider_fields(
    *,
    provider_type: object,
    name: object,
    base_url: object,
    api_key_ciphertext: object,
    default_model: object,
    config: object,
    enabled: object,
) -> dict[str, Any]:
    """Every checked field of a new provider (a missing config is an empty one)."""
    values = {
        "provider_type": provider_type,
        "name": name,
        "base_url": base_url,
        "api_key_ciphertext": api_key_ciphertext,
        "default_model": default_model,
        "enabled": enabled,
    }
    for field, value in values.items():
        if value is None:  # provider_changes would skip it
            raise InvalidArgument(f"{field} must be set.")
    return provider_changes(**values, config={} if config is None else config)


def transcript_result(result: object) -> TranscriptResult:
    if not isinstance(result, TranscriptResult):
        raise InvalidArgument("result must be a TranscriptResult.")
    return TranscriptResult(
        text=check.text("transcript_text", result.text, max_bytes=MAX_TRANSCRIPT_BYTES),
        language=check.name("transcript_language", result.language, required=False),
        duration_s=check.optional_amount("transcript_duration", result.duration_s),
        model=check.name("transcript_model", result.model, required=False),
    )


def job_error(error: object) -> str:
    if not isinstance(error, str):
        raise InvalidArgument("error must be a string.")
    # Truncated, not refused: recording a failure must not fail. NULs would not store.
    return error.replace("\x00", "")[:MAX_ERROR_CHARS]


_EPOCH_DAY = date(1970, 1, 1)


def day_number(day: date) -> int:
    """The UTC day as days since 1970-01-01: what usage rows are grouped on."""
    return (day - _EPOCH_DAY).days


def day_from_number(number: int) -> date:
    return _EPOCH_DAY + timedelta(days=number)


def usage_record(
    *,
    request_id: object,
    owner_id: object,
    model: object,
    provider: object,
    prompt_tokens: object,
    completion_tokens: object,
    cost: object,
    currency: object,
    emissions_g: object,
    latency_s: object,
    create_time: object,
    audio_seconds: object = None,
) -> UsageRecord:
    """A checked usage record; `create_time` None means now."""
    return UsageRecord(
        request_id=check.request_id(request_id),
        owner_id=check.owner_id(owner_id),
        model=check.name("model", model, required=False),
        provider=check.name("provider", provider, required=False),
        prompt_tokens=check.count("prompt_tokens", prompt_tokens),
        completion_tokens=check.count("completion_tokens", completion_tokens),
        cost=check.amount("cost", cost),
        currency=check.name("currency", currency, required=False, max_chars=16),
        emissions_g=check.optional_amount("emissions_g", emissions_g),
        latency_s=check.amount("latency_s", latency_s),
        create_time=utc_now()
        if create_time is None
        else check.timestamp("create_time", create_time),
        audio_seconds=check.optional_amount("audio_seconds", audio_seconds),
    )


def checked(record: UsageRecord) -> UsageRecord:
    """`record` as `usage_record` would build it: every field checked."""
    return usage_record(**{field.name: getattr(record, field.name) for field in fields(record)})
