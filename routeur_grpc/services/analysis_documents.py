"""How an analysis is kept in the store's `result` document, and read back.

The analysis repository stores one JSON document per analysis. It holds the model's
validated object and the accounting of the calls that produced it, so `GetAnalysis` returns
what `AnalyzeText` returned:

    {"format": 1, "analysis": {summary, sentiment, language, keywords, entities, …},
     "metadata": {model, message_count, latency_s, usage, usage_by_model, pricing, …}}
"""

from __future__ import annotations

from typing import Any

from routeur_grpc.domain.analysis import ENTITY_TYPES, Entity, TextAnalysis
from routeur_grpc.domain.completion import (
    CompletionMetadata,
    Equivalences,
    ModelCost,
    Pricing,
    TokenUsage,
)
from routeur_grpc.domain.records import Analysis

FORMAT = 1


def stored_document(analysis: dict[str, Any], metadata: CompletionMetadata) -> dict[str, Any]:
    """The document to store for a validated analysis object and its accounting."""
    return {"format": FORMAT, "analysis": analysis, "metadata": metadata_document(metadata)}


def text_analysis(record: Analysis) -> TextAnalysis:
    """The analysis a stored record holds."""
    document = record.result
    analysis: dict[str, Any] = document.get("analysis") or {}
    metadata = document.get("metadata")
    return TextAnalysis(
        analysis_id=record.analysis_id,
        text=record.text,
        model=record.model,
        summary=str(analysis.get("summary", "")),
        sentiment=str(analysis.get("sentiment", "")),
        language=str(analysis.get("language", "")),
        keywords=tuple(str(word) for word in analysis.get("keywords") or ()),
        entities=tuple(_entity(item) for item in analysis.get("entities") or ()),
        result=analysis,
        metadata=metadata_from_document(metadata) if isinstance(metadata, dict) else None,
        create_time=record.create_time,
    )


def _entity(item: Any) -> Entity:
    if isinstance(item, dict):
        kind = str(item.get("type", "other"))
        return Entity(str(item.get("text", "")), kind if kind in ENTITY_TYPES else "other")
    return Entity(str(item), "other")


def metadata_document(metadata: CompletionMetadata) -> dict[str, Any]:
    """`metadata` as plain JSON values."""
    document: dict[str, Any] = {
        "model": metadata.model,
        "agent": metadata.agent,
        "message_count": metadata.message_count,
        "latency_s": metadata.latency_s,
        "usage": _usage(metadata.usage),
        "usage_by_model": {m: _usage(u) for m, u in metadata.usage_by_model.items()},
        "emissions_kg_co2eq": metadata.emissions_kg_co2eq,
        "energy_kwh": metadata.energy_kwh,
    }
    if metadata.pricing is not None:
        document["pricing"] = {
            "currency": metadata.pricing.currency,
            "by_model": {
                m: {"input": c.input, "output": c.output}
                for m, c in metadata.pricing.by_model.items()
            },
        }
    if metadata.equivalences is not None:
        e = metadata.equivalences
        document["equivalences"] = {
            "water_liters": e.water_liters,
            "car_km": e.car_km,
            "tgv_km": e.tgv_km,
            "smartphone_charges": e.smartphone_charges,
        }
    return document


def metadata_from_document(document: dict[str, Any]) -> CompletionMetadata:
    """The metadata `metadata_document` wrote."""
    pricing = document.get("pricing")
    equivalences = document.get("equivalences")
    return CompletionMetadata(
        model=str(document.get("model", "")),
        agent=str(document.get("agent", "")),
        message_count=int(document.get("message_count", 0)),
        latency_s=float(document.get("latency_s", 0.0)),
        usage=_token_usage(document.get("usage") or {}),
        usage_by_model={
            m: _token_usage(u) for m, u in (document.get("usage_by_model") or {}).items()
        },
        emissions_kg_co2eq=document.get("emissions_kg_co2eq"),
        energy_kwh=document.get("energy_kwh"),
        pricing=(
            Pricing(
                currency=str(pricing["currency"]),
                by_model={
                    m: ModelCost(float(c["input"]), float(c["output"]))
                    for m, c in pricing.get("by_model", {}).items()
                },
            )
            if isinstance(pricing, dict)
            else None
        ),
        equivalences=Equivalences(**equivalences) if isinstance(equivalences, dict) else None,
    )


def _usage(usage: TokenUsage) -> dict[str, int]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}


def _token_usage(document: dict[str, Any]) -> TokenUsage:
    return TokenUsage(
        int(document.get("prompt_tokens", 0)), int(document.get("completion_tokens", 0))
    )
