"""AnalysisService servicer: protobuf in, domain call, protobuf out."""

from __future__ import annotations

import grpc
from routeur.v1 import analysis_service_pb2 as pb
from routeur.v1 import analysis_service_pb2_grpc as pb_grpc

from routeur_grpc.api import analysis_convert as convert
from routeur_grpc.api.caller import caller_of
from routeur_grpc.services.analysis import AnalysisService


class AnalysisServicer(pb_grpc.AnalysisServiceServicer):
    def __init__(self, analyses: AnalysisService) -> None:
        self._analyses = analyses

    async def AnalyzeText(
        self, request: pb.AnalyzeTextRequest, context: grpc.aio.ServicerContext
    ) -> pb.AnalyzeTextResponse:
        analysis = await self._analyses.analyze(
            convert.analysis_request(request), caller_of(context)
        )
        return pb.AnalyzeTextResponse(analysis=convert.analysis_message(analysis))

    async def GetAnalysis(
        self, request: pb.GetAnalysisRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAnalysisResponse:
        analysis = await self._analyses.get(caller_of(context), request.analysis_id)
        return pb.GetAnalysisResponse(analysis=convert.analysis_message(analysis))

    async def ListAnalyses(
        self, request: pb.ListAnalysesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAnalysesResponse:
        page = await self._analyses.list(
            caller_of(context), request.page_size, request.page_token
        )
        return pb.ListAnalysesResponse(
            analyses=[convert.analysis_message(a) for a in page.items],
            next_page_token=page.next_page_token,
        )

    async def DeleteAnalysis(
        self, request: pb.DeleteAnalysisRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAnalysisResponse:
        await self._analyses.delete(caller_of(context), request.analysis_id)
        return pb.DeleteAnalysisResponse()
