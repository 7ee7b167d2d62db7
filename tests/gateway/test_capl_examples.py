"""The completion examples of the CAPL Routeur IA API, over gRPC and over REST.

Plain (with `agent` V2, as its first example), streamed, a project completion with
`sources`, one with `conversation_history`, and the agents V1 and V2 by name: each is sent
over REST through Envoy and over gRPC to the same server (the embedded model), and both
answers carry the same field names and metadata keys.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from routeur.v1 import document_service_pb2 as doc_pb
from routeur.v1 import document_service_pb2_grpc as doc_grpc
from sse import read_events
from support import LOCAL_MODEL, auth_headers

pytestmark = pytest.mark.slow

USAGE_KEYS = {"prompt_tokens", "completion_tokens", "total_tokens"}
METADATA_KEYS = {"model", "agent", "message_count", "latency_s", "usage", "usage_by_model",
                 "pricing", "steps"}
HISTORY = [
    {"role": "user", "content": "Comment faire une boucle en JavaScript?"},
    {"role": "assistant", "content": "for (let i = 0; i < 10; i++) { console.log(i); }"},
]
PROJECT_TEXT = ("Les enjeux du projet Atlas sont le budget de 120 000 euros, le calendrier "
                "serré et la dépendance à un seul fournisseur de capteurs.")


def as_json(message: Any) -> dict[str, Any]:
    """A gRPC answer as the transcoder writes it: proto field names, defaults included."""
    return MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def assert_same_shape(rest: dict[str, Any], grpc_: dict[str, Any]) -> None:
    assert set(rest) == set(grpc_)
    assert set(rest["metadata"]) == set(grpc_["metadata"])
    assert set(rest["usage"]) == set(grpc_["usage"]) == USAGE_KEYS
    assert METADATA_KEYS <= set(rest["metadata"])
    assert set(rest["metadata"]["pricing"]) >= {"currency", "total_cost", "by_model"}


EXAMPLES = {
    "plain V2": {"message": "Explique-moi la théorie de la relativité en 2 phrases",
                 "agent": "V2", "temperature": 0.7},
    "agent V1": {"message": "Quelle est la capitale de la France?", "agent": "V1"},
    "no agent (V2 by default)": {"message": "Bonjour!"},
    "with history": {"message": "Et en Python?", "conversation_history": HISTORY},
}


@pytest.mark.parametrize("example", EXAMPLES.values(), ids=list(EXAMPLES))
async def test_a_whole_completion_has_the_same_shape_over_rest_and_grpc(
    rest: httpx.AsyncClient, channel, example: dict[str, Any]
) -> None:
    body = {**example, "model": LOCAL_MODEL, "stream": False, "max_tokens": 8}
    response = await rest.post("/completion", json=body, headers=auth_headers())
    assert response.status_code == 200, response.text
    over_rest = response.json()
    grpc_request = {k: v for k, v in body.items() if k != "stream"}
    over_grpc = as_json(await pb_grpc.CompletionServiceStub(channel).Complete(
        pb.CompleteRequest(**grpc_request), timeout=120))
    assert_same_shape(over_rest, over_grpc)
    expected_agent = example.get("agent", "V2")
    for answer in (over_rest, over_grpc):
        assert answer["model"] == LOCAL_MODEL and answer["agent"] == expected_agent
        assert answer["metadata"]["agent"] == expected_agent
        assert answer["metadata"]["message_count"] == 1 + len(example.get("conversation_history", []))
        assert answer["usage"]["total_tokens"] == answer["metadata"]["usage"]["total_tokens"]
        assert set(answer["metadata"]["usage_by_model"]) == {LOCAL_MODEL}


async def test_a_streamed_completion_labels_every_chunk_over_rest_and_grpc(
    rest: httpx.AsyncClient, channel
) -> None:
    body = {"message": "Raconte-moi une courte histoire", "model": LOCAL_MODEL, "stream": True,
            "max_tokens": 8}
    async with rest.stream("POST", "/completion", json=body, headers=auth_headers()) as response:
        assert response.status_code == 200
        rest_events = [event.data for event in await read_events(response)]
    grpc_events = [
        as_json(chunk)
        async for chunk in pb_grpc.CompletionServiceStub(channel).StreamCompletion(
            pb.StreamCompletionRequest(message=body["message"], model=LOCAL_MODEL, max_tokens=8),
            timeout=120,
        )
    ]
    for events in (rest_events, grpc_events):
        *pieces, last = events
        assert pieces and all(
            p["done"] is False and p["metadata"]["model"] == LOCAL_MODEL
            and p["metadata"]["agent"] == "V2" for p in pieces
        )
        assert last["done"] is True and last["content"] == ""
        assert last["metadata"]["agent"] == "V2"
        assert {"usage", "usage_by_model", "latency_s", "pricing"} <= set(last["metadata"])
    assert set(rest_events[0]) == set(grpc_events[0]) == {"content", "done", "metadata"}
    assert set(rest_events[-1]["metadata"]) == set(grpc_events[-1]["metadata"])


async def test_a_project_completion_with_sources_over_rest_and_grpc(
    rest: httpx.AsyncClient, channel
) -> None:
    created = await rest.post(
        "/projects/proj-abc123/documents",
        json={"title": "Enjeux", "text": PROJECT_TEXT},
        headers=auth_headers(),
    )
    assert created.status_code == 200, created.text
    document = created.json()["document"]
    assert {"document_id", "project_id", "title", "char_count", "chunk_count", "created_at"} <= set(document)
    other = await doc_grpc.DocumentServiceStub(channel).CreateDocument(
        doc_pb.CreateDocumentRequest(project_id="proj-abc123", text="Notes sans rapport : météo.")
    )
    body = {"message": "Fais une synthèse des enjeux du projet", "model": LOCAL_MODEL,
            "agent": "V2", "stream": False, "max_tokens": 8, "project_id": "proj-abc123",
            "sources": [document["document_id"]]}
    response = await rest.post("/completion", json=body, headers=auth_headers())
    assert response.status_code == 200, response.text
    over_rest = response.json()
    grpc_request = {k: v for k, v in body.items() if k != "stream"}
    over_grpc = as_json(await pb_grpc.CompletionServiceStub(channel).Complete(
        pb.CompleteRequest(**grpc_request), timeout=120))
    assert_same_shape(over_rest, over_grpc)
    for answer in (over_rest, over_grpc):
        chunks = answer["metadata"]["chunks"]
        assert [c["document_id"] for c in chunks] == [document["document_id"]]
        assert set(chunks[0]) >= {"document_id", "offset", "score"}
        assert other.document.document_id not in {c["document_id"] for c in chunks}
    listed = await rest.get("/projects/proj-abc123/documents", headers=auth_headers())
    assert {d["document_id"] for d in listed.json()["documents"]} >= {document["document_id"]}
    deleted = await rest.delete(
        f"/projects/proj-abc123/documents/{document['document_id']}", headers=auth_headers())
    assert deleted.status_code == 200


async def test_the_agents_list_has_the_capl_shape(rest: httpx.AsyncClient) -> None:
    response = await rest.get("/agents", headers=auth_headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["agents"]) >= 2
    assert all(set(agent) == {"type", "name", "description", "available"} for agent in body["agents"])
    v2 = next(agent for agent in body["agents"] if agent["type"] == "V2")
    assert v2["available"] is True and "default" in v2["description"].lower()
    one = await rest.get("/agents/V1", headers=auth_headers())
    assert one.json()["agent"]["type"] == "V1"
    missing = await rest.get("/agents/nope", headers=auth_headers())
    assert missing.status_code == 404
