"""Analysis messages: protobuf to domain and back."""

from __future__ import annotations

from google.protobuf import struct_pb2
from routeur.v1 import analysis_service_pb2 as pb

from routeur_grpc.api.completion_convert import fill_metadata
from routeur_grpc.api.timestamps import timestamp
from routeur_grpc.domain.analysis import AnalysisRequest, TextAnalysis


def analysis_request(message: pb.AnalyzeTextRequest) -> AnalysisRequest:
    return AnalysisRequest(
        text=message.text, model=message.model, instructions=message.instructions
    )


def analysis_message(analysis: TextAnalysis) -> pb.Analysis:
    result = struct_pb2.Struct()
    result.update(analysis.result)
    message = pb.Analysis(
        analysis_id=analysis.analysis_id,
        text=analysis.text,
        model=analysis.model,
        summary=analysis.summary,
        sentiment=analysis.sentiment,
        language=analysis.language,
        keywords=list(analysis.keywords),
        entities=[pb.AnalysisEntity(text=e.text, type=e.type) for e in analysis.entities],
        result=result,
        created_at=timestamp(analysis.create_time),
    )
    if analysis.metadata is not None:
        fill_metadata(message.metadata, analysis.metadata)
    return message
