"""What the gateway itself does, shown against a small gRPC server that can be made to
pace its chunks, fail mid-stream and echo the metadata it receives."""

from __future__ import annotations

import asyncio
import shutil
import struct
from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_support import start_envoy
from routeur.v1 import health_service_pb2
from sse import read_events
from stub_upstream import CHUNKS, start_stub_upstream
from support import auth_headers

from routeur_grpc.gateway import EnvoyProcess, GatewayConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def stub_gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EnvoyProcess]:
    server, address = await start_stub_upstream()
    envoy = await start_envoy([address], tmp_path_factory.mktemp("envoy-stub") / "envoy.log")
    yield envoy
    await envoy.stop()
    await server.stop(None)


@pytest.fixture(scope="module")
async def client(stub_gateway: EnvoyProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stub_gateway.rest_url, timeout=30.0, headers=auth_headers()
    ) as client:
        yield client


async def test_authorization_and_request_id_reach_the_server_as_metadata(client):
    response = await client.get(
        "/health", headers={"Authorization": "Bearer abc.def", "x-request-id": "req-42"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Bearer abc.def"
    assert body["environment"] == "req-42"
    assert body["version"] == "/health"  # x-envoy-original-path
    assert response.headers["x-request-id"] == "req-42"


async def test_a_request_id_is_made_when_the_caller_sends_none(client):
    response = await client.get("/health")
    assert response.json()["environment"] == response.headers["x-request-id"] != ""


async def test_sse_chunks_arrive_one_by_one(client):
    async with client.stream(
        "POST", "/completion", json={"message": "hi", "stream": True}
    ) as response:
        events = await read_events(response)
    assert [event.data["content"] for event in events[:-1]] == [f"piece{i} " for i in range(CHUNKS)]
    # The server pauses between chunks: each arrives in its own read, in order, spread in time.
    reads = [event.read_index for event in events]
    assert reads == sorted(set(reads))
    times = [event.arrived_at for event in events]
    assert times == sorted(times) and times[-1] > times[0]


async def test_a_failure_after_the_first_chunk_arrives_as_a_last_error_chunk(client):
    async with client.stream(
        "POST", "/completion", json={"message": "fail", "stream": True}
    ) as response:
        assert response.status_code == 200  # too late to change: the client has chunks
        events = await read_events(response)
    assert len(events) == CHUNKS + 1
    last = events[-1].data
    assert last["done"] is True
    assert last["error"]["code"] == 14
    assert last["error"]["message"] == "provider went away"


@pytest.mark.parametrize(
    "body",
    [
        {"message": 'contains "stream": true', "stream": False},
        {"message": "x", "conversation_history": [{"role": "user", "content": '{"stream":true}'}]},
        {"message": "x", "sources": ["stream", "true"]},
        {"message": "x", "stream": False},
        {"message": "x"},
    ],
)
async def test_only_a_top_level_stream_true_switches_to_the_stream(client, body):
    response = await client.post("/completion", json=body)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["response"] == f"unary:{body['message']}"


@pytest.mark.parametrize(
    "raw", [b'{"message":"x","stream":true}', b'{ "stream" :\n true , "message": "x"}']
)
async def test_stream_true_is_found_whatever_the_spacing(client, raw):
    response = await client.post(
        "/completion", content=raw, headers={"content-type": "application/json"}
    )
    assert response.headers["content-type"].startswith("text/event-stream")


async def test_the_query_string_survives_the_switch(client):
    response = await client.post("/completion?model=m", json={"message": "x", "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl for HTTP/2 cleartext")
async def test_no_grpc_trailers_reach_http2_rest_clients(stub_gateway):
    curl = await asyncio.create_subprocess_exec(
        "curl",
        "-sS",
        "-i",
        "--http2-prior-knowledge",
        "-X",
        "POST",
        f"{stub_gateway.rest_url}/completion/stream",
        "-H",
        "content-type: application/json",
        "-d",
        '{"message": "x"}',
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await asyncio.wait_for(curl.communicate(), timeout=30)
    assert b"HTTP/2 200" in output and b'"done":true' in output
    assert b"grpc-" not in output.lower()


def _grpc_web_frame(message: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(message)) + message


def _grpc_web_frames(body: bytes) -> list[tuple[int, bytes]]:
    frames, offset = [], 0
    while offset < len(body):
        flag, length = body[offset], struct.unpack(">I", body[offset + 1 : offset + 5])[0]
        frames.append((flag, body[offset + 5 : offset + 5 + length]))
        offset += 5 + length
    return frames


async def test_a_grpc_web_call_from_a_browser_origin(client):
    response = await client.post(
        "/routeur.v1.HealthService/GetHealth",
        content=_grpc_web_frame(health_service_pb2.GetHealthRequest().SerializeToString()),
        headers={
            "content-type": "application/grpc-web+proto",
            "x-grpc-web": "1",
            "origin": "http://localhost:4200",
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/grpc-web+proto"
    assert response.headers["access-control-allow-origin"] == "http://localhost:4200"
    (data_flag, data), (trailer_flag, trailers) = _grpc_web_frames(response.content)
    assert data_flag == 0 and trailer_flag == 0x80
    assert health_service_pb2.GetHealthResponse.FromString(data).status == "healthy"
    assert b"grpc-status:0" in trailers


async def test_a_grpc_web_error_keeps_its_grpc_status(client):
    response = await client.post(
        "/routeur.v1.HealthService/NoSuchMethod",
        content=_grpc_web_frame(b""),
        headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1"},
    )
    assert response.status_code == 200
    assert response.headers["grpc-status"] == "12"


GRPC_WEB_CONTENT_TYPES = [
    "application/grpc-web",
    "application/grpc-web+proto",
    "application/grpc-web-text",
    "application/grpc-web-text+proto",
]


@pytest.mark.parametrize("content_type", GRPC_WEB_CONTENT_TYPES)
@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
async def test_a_grpc_web_content_type_on_another_method_than_post_is_refused_in_json(
    client, method, content_type
):
    # gRPC-Web calls are POSTs: anything else is a client's mistake, answered as
    # one (not a 503 from a reset upstream, which clients would retry).
    response = await client.request(method, "/models", headers={"content-type": content_type})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == 12 and body["details"] == []
    assert "POST" in body["message"] and "upstream" not in body["message"]
    assert not any(name.startswith("grpc-") for name in response.headers)


async def test_a_content_type_that_only_starts_like_grpc_is_rest(client):
    response = await client.get("/health", headers={"content-type": "application/grpcfoo"})
    assert response.status_code == 200
    assert not any(name.startswith("grpc-") for name in response.headers)


async def test_cors_preflight_from_the_allowed_origin(client):
    response = await client.options(
        "/completion",
        headers={
            "Origin": "http://localhost:4200",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:4200"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"]
    assert "authorization" in allowed and "content-type" in allowed


async def test_cors_refuses_another_origin(client):
    response = await client.options(
        "/completion",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_a_simple_cross_origin_request_gets_its_cors_headers(client):
    response = await client.get("/health", headers={"Origin": "http://localhost:4200"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:4200"
    assert "x-request-id" in response.headers["access-control-expose-headers"]


async def test_no_healthy_server_is_a_503_in_json(tmp_path):
    # Nothing listens there: Envoy starts, the health check fails, requests fail fast.
    envoy = EnvoyProcess(
        GatewayConfig(
            upstreams=("127.0.0.1:9",), rest_port=0, admin_port=0, health_check_interval_s=0.3
        ),
        concurrency=1,
        log_path=tmp_path / "envoy.log",
    )
    await envoy.start(timeout_s=30, wait_for_upstream=False)
    try:
        async with httpx.AsyncClient(base_url=envoy.rest_url, timeout=10) as client:
            response = await client.get("/health")
    finally:
        await envoy.stop()
    assert response.status_code == 503
    assert response.json()["code"] == 14


async def test_an_empty_body_is_an_empty_request(client):
    # The CAPL Routeur IA API's clients post to /auth/token with a JSON content type and no body at all.
    response = await client.post("/completion", headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json()["response"] == "unary:"


UPLOAD_BYTES = 3 * 1024 * 1024  # above Envoy's 1 MiB buffers: it has to stream


async def test_a_raw_audio_body_streams_to_the_server_in_chunks(client):
    audio = bytes(range(256)) * (UPLOAD_BYTES // 256)
    response = await client.post(
        "/transcription",
        params={"language": "en"},  # as the CAPL Routeur IA API's clients: POST /transcription?language=en
        content=audio,
        headers={"content-type": "audio/mpeg"},
    )
    assert response.status_code == 200, response.text
    messages, size, content_type = response.json()["text"].split(" ", 2)
    assert int(messages) > 1
    assert int(size) == len(audio)
    assert content_type == "audio/mpeg"
    assert response.json()["language"] == "en"


async def test_a_multipart_upload_passes_through_as_the_capl_clients_send_it(client):
    audio = b"\xff\xfb" * (UPLOAD_BYTES // 2)
    response = await client.post(
        "/transcription",
        files={"file": ("audio.mp3", audio, "audio/mpeg")},
        data={"language": "fr"},
    )
    assert response.status_code == 200, response.text
    messages, size, content_type = response.json()["text"].split(" ", 2)
    assert int(messages) > 1
    assert int(size) > len(audio)  # the whole multipart body, boundaries and all
    assert content_type.startswith("multipart/form-data; boundary=")
