"""Analysis with the embedded model (SmolLM2-135M through llama.cpp), end to end.

A model this small may or may not write a usable analysis; either way the answer must be
clean: a valid analysis, or UNAVAILABLE `MODEL_OUTPUT_INVALID` naming the model — never
INVALID_ARGUMENT (the request was fine), never an internal error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from routeur.v1 import analysis_service_pb2 as pb
from routeur.v1 import analysis_service_pb2_grpc as pb_grpc
from support import (
    LOCAL_MODEL,
    RunningServer,
    error_info,
    open_channel,
    server_settings,
    start_server,
)

from routeur_grpc.domain.analysis import SENTIMENTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def embedded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    running = await start_server(
        server_settings(tmp_path_factory.mktemp("analysis-embedded"), analysis_max_tokens=192)
    )
    yield running
    await running.server.stop(grace=0.5)


async def test_the_embedded_model_gives_an_analysis_or_a_clean_model_error(
    embedded: RunningServer,
) -> None:
    text = "Le train de Lyon avait deux heures de retard. Personne ne nous a rien expliqué."
    async with open_channel(embedded.address) as channel:
        try:
            response = await pb_grpc.AnalysisServiceStub(channel).AnalyzeText(
                pb.AnalyzeTextRequest(text=text), timeout=600
            )
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
            assert error_info(error).reason == "MODEL_OUTPUT_INVALID"
            assert LOCAL_MODEL in error.details()
            assert "Traceback" not in error.details()
            return
    analysis = response.analysis
    assert analysis.model == LOCAL_MODEL
    assert analysis.summary
    assert analysis.sentiment in SENTIMENTS
    assert len(analysis.language) == 2
    assert analysis.metadata.usage.output_tokens > 0
