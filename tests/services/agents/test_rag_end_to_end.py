"""Project documents and grounded answers through the real server and a fake upstream.

The document API adds, lists and deletes a caller's documents; a completion with
`project_id` is grounded in that project's chunks (the upstream is sent them), restricted to
`sources` when given, and its metadata names the chunks used. Another owner's documents are
never read, even under the same project id.
"""

from __future__ import annotations

import grpc
import pytest
from providers.conftest import EndToEnd
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from routeur.v1 import document_service_pb2 as doc_pb
from routeur.v1 import document_service_pb2_grpc as doc_grpc

from routeur_grpc.services.document_chunks import chunk_text

BUDGET = ("Le budget du projet Atlas est de 120 000 euros pour 2026, dont 40 % pour le "
          "personnel et 25 % pour l'infrastructure cloud.")
RISKS = ("Les risques principaux du projet Atlas sont le retard du fournisseur de capteurs et "
         "la dépendance à une seule équipe de développement.")
TIDES = "Ocean tides are caused mainly by the Moon's gravity pulling on the oceans."


def documents(e2e: EndToEnd) -> doc_grpc.DocumentServiceStub:
    return doc_grpc.DocumentServiceStub(e2e.channel)


async def add(e2e: EndToEnd, project: str, text: str, title: str) -> str:
    response = await documents(e2e).CreateDocument(
        doc_pb.CreateDocumentRequest(project_id=project, title=title, text=text), timeout=10
    )
    return response.document.document_id


def system_prompt_sent(e2e: EndToEnd) -> str:
    messages = e2e.fakes["mistral"].requests_to("/chat/completions")[-1].json()["messages"]
    assert messages[0]["role"] == "system"
    return messages[0]["content"]


async def test_documents_are_added_listed_and_deleted(e2e: EndToEnd) -> None:
    stub = documents(e2e)
    created = await stub.CreateDocument(
        doc_pb.CreateDocumentRequest(
            project_id="proj-files", file_content=RISKS.encode(), filename="risques.md"
        ),
        timeout=10,
    )
    document = created.document
    assert (document.title, document.filename, document.char_count) == (
        "risques.md", "risques.md", len(RISKS))
    assert document.chunk_count == 1 and document.created_at.seconds > 0
    listed = await stub.ListDocuments(doc_pb.ListDocumentsRequest(project_id="proj-files"))
    assert [d.document_id for d in listed.documents] == [document.document_id]
    await stub.DeleteDocument(
        doc_pb.DeleteDocumentRequest(project_id="proj-files", document_id=document.document_id)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetDocument(
            doc_pb.GetDocumentRequest(project_id="proj-files", document_id=document.document_id)
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_fields", "problem"),
    [
        ({"project_id": "p", "text": ""}, "`text` or as `file_content`"),
        ({"project_id": "p", "file_content": b"\xff\xfe\x00bad", "filename": "a.txt"}, "UTF-8"),
        ({"project_id": "p", "file_content": b"%PDF", "filename": "a.pdf"}, "not a text file"),
        ({"project_id": "bad id!", "text": "x"}, "project_id"),
        ({"project_id": "p", "text": "   "}, "blank"),
    ],
)
async def test_bad_documents_are_refused_with_a_reason(
    e2e: EndToEnd, request_fields: dict[str, object], problem: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await documents(e2e).CreateDocument(doc_pb.CreateDocumentRequest(**request_fields))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert problem in caught.value.details()


@pytest.mark.parametrize("agent", ["V2", "V1", "RAG"])
async def test_a_project_completion_is_grounded_in_the_right_document(
    e2e: EndToEnd, agent: str
) -> None:
    budget = await add(e2e, f"proj-{agent}", BUDGET, "Budget")
    await add(e2e, f"proj-{agent}", RISKS, "Risques")
    await add(e2e, f"proj-{agent}", TIDES, "Tides")
    response = await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
        pb.CompleteRequest(message="Quel est le budget du projet Atlas ?",
                           model="mistral-large-latest", agent=agent, project_id=f"proj-{agent}"),
        timeout=10,
    )
    chunks = response.metadata.chunks
    assert chunks[0].document_id == budget and chunks[0].title == "Budget"
    assert chunks[0].offset == 0 and chunks[0].length == len(BUDGET) and chunks[0].score > 0
    assert "120 000 euros" in system_prompt_sent(e2e)
    if agent == "RAG":
        assert response.response.endswith(")")
        assert f"Budget ({budget})" in response.response


async def test_sources_restrict_retrieval_to_the_listed_documents(e2e: EndToEnd) -> None:
    await add(e2e, "proj-src", BUDGET, "Budget")
    risks = await add(e2e, "proj-src", RISKS, "Risques")
    response = await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
        pb.CompleteRequest(message="Quel est le budget du projet Atlas ?",
                           model="mistral-large-latest", project_id="proj-src",
                           sources=[risks]),
        timeout=10,
    )
    assert {c.document_id for c in response.metadata.chunks} == {risks}
    assert "120 000 euros" not in system_prompt_sent(e2e)


async def test_an_unknown_source_is_not_found(e2e: EndToEnd) -> None:
    await add(e2e, "proj-unknown-src", BUDGET, "Budget")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
            pb.CompleteRequest(message="budget ?", model="mistral-large-latest",
                               project_id="proj-unknown-src", sources=["0" * 26]),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "0" * 26 in caught.value.details()
    assert e2e.fakes["mistral"].requests_to("/chat/completions") == []


async def test_another_owners_project_is_never_read(e2e: EndToEnd) -> None:
    store = e2e.server.server.app.store
    secret = "Le mot de passe du coffre du projet Atlas est tournesol."
    theirs = await store.documents.create(
        "someone-else", project_id="proj-shared-name", title="Secret", filename="",
        char_count=len(secret), chunks=chunk_text(secret),
    )
    completions = pb_grpc.CompletionServiceStub(e2e.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await completions.Complete(
            pb.CompleteRequest(message="Quel est le mot de passe du coffre ?",
                               model="mistral-large-latest", project_id="proj-shared-name"),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # With a document of the caller's in a project of the same name, theirs is still unseen.
    await add(e2e, "proj-shared-name", BUDGET, "Budget")
    response = await completions.Complete(
        pb.CompleteRequest(message="Quel est le mot de passe du coffre ?",
                           model="mistral-large-latest", project_id="proj-shared-name"),
        timeout=10,
    )
    assert theirs.document_id not in {c.document_id for c in response.metadata.chunks}
    assert "tournesol" not in system_prompt_sent(e2e)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await documents(e2e).GetDocument(
            doc_pb.GetDocumentRequest(project_id="proj-shared-name", document_id=theirs.document_id)
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_the_rag_agent_needs_a_project(e2e: EndToEnd) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pb_grpc.CompletionServiceStub(e2e.channel).Complete(
            pb.CompleteRequest(message="hi", model="mistral-large-latest", agent="RAG"),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "project_id" in caught.value.details()


async def test_a_project_completion_is_never_answered_from_the_cache(e2e: EndToEnd) -> None:
    await add(e2e, "proj-cache", BUDGET, "Budget")
    request = pb.CompleteRequest(message="Atlas budget?", model="mistral-large-latest",
                                 project_id="proj-cache", temperature=0)
    completions = pb_grpc.CompletionServiceStub(e2e.channel)
    await completions.Complete(request, timeout=10)
    await add(e2e, "proj-cache", RISKS, "Risques")  # the documents changed in between
    await completions.Complete(request, timeout=10)
    assert len(e2e.fakes["mistral"].requests_to("/chat/completions")) == 2
