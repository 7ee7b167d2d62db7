"""Fixtures of the transcription tests: real recordings, and a real server whose engine is
the scripted test engine (the real engines are tested on their own), with Envoy in front."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from routeur.v1 import transcription_service_pb2_grpc as pb_grpc
from support import RunningServer, auth_headers, open_channel, server_settings

from routeur_grpc.gateway import EnvoyProcess, GatewayConfig
from routeur_grpc.server import build_server

from .audio import ENCODINGS, convert, speak
from .scripted_engine import SPOKEN_TEXT, ScriptedEngine

UPLOAD_CAP_MB = 1


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The test sentence in every supported format, plus `fr` (a French WAV)."""
    folder = tmp_path_factory.mktemp("recordings")
    wav = speak(SPOKEN_TEXT, folder / "spoken.wav")
    files = {fmt: convert(wav, fmt, folder / f"english.{fmt}") for fmt in ENCODINGS}
    files["fr"] = speak("Bonjour, ceci est un test de transcription.", folder / "fr.wav", "fr")
    return files


@pytest.fixture(scope="session")
def engine() -> ScriptedEngine:
    return ScriptedEngine(steps=4)


@pytest.fixture(scope="session")
async def stt_server(
    tmp_path_factory: pytest.TempPathFactory, engine: ScriptedEngine
) -> AsyncIterator[RunningServer]:
    """A server transcribing with the scripted engine; uploads capped at 1 MB."""
    settings = server_settings(
        tmp_path_factory.mktemp("stt-data"),
        max_upload_mb=UPLOAD_CAP_MB,
        transcription_max_running=4,
        transcription_max_running_per_caller=2,
        transcription_job_poll_s=0.05,
        transcription_audio_retention_s=0,
    )
    server, port = await build_server(settings, {"scripted": engine})
    await server.start()
    yield RunningServer(f"127.0.0.1:{port}", server, settings.data_dir)
    await server.stop(grace=1.0)


@pytest.fixture(scope="session")
async def stt_channel(stt_server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with open_channel(stt_server.address) as channel:
        yield channel


@pytest.fixture(scope="session")
def stt(stt_channel: grpc.aio.Channel) -> pb_grpc.TranscriptionServiceStub:
    return pb_grpc.TranscriptionServiceStub(stt_channel)


@pytest.fixture(scope="session")
async def stt_gateway(
    stt_server: RunningServer,
    tmp_path_factory: pytest.TempPathFactory,
    recordings: dict[str, Path],  # made first: ffmpeg blocks the loop Envoy health-checks
) -> AsyncIterator[EnvoyProcess]:
    envoy = EnvoyProcess(
        GatewayConfig(
            upstreams=(stt_server.address,),
            rest_port=0,
            admin_port=0,
            health_check_interval_s=0.3,
            # The server shares the tests' event loop: a test that blocks it for a second
            # (ffmpeg, another server starting) fails a health check. Route regardless.
            healthy_panic_threshold_percent=100,
        ),
        concurrency=1,
        log_path=tmp_path_factory.mktemp("stt-envoy") / "envoy.log",
    )
    await envoy.start(timeout_s=30.0)
    yield envoy
    await envoy.stop()


@pytest.fixture(scope="session")
async def stt_rest(stt_gateway: EnvoyProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stt_gateway.rest_url, timeout=60.0, headers=auth_headers()
    ) as client:
        yield client


def spool_files(server: RunningServer) -> list[Path]:
    """Uploads still on disk (there should be none once a call has ended)."""
    folder = server.data_dir / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []
