"""Contract of `DocumentRepository`, run on both stores: documents belong to their owner's
project, their chunks are searched lexically (SQLite FTS5; MongoDB's text index, or BM25
scored in Python where the server has none, as SecantusDB), and recall@5 is measured on a
small labelled set."""

from __future__ import annotations

import pytest

from retrieval_set import CORPUS, QUESTIONS

from routeur_grpc.domain.repositories import Store
from routeur_grpc.domain.text_search import query_terms
from routeur_grpc.errors import InvalidArgument, NotFound
from routeur_grpc.services.document_chunks import chunk_text
from routeur_grpc.services.documents import DocumentService

ALICE = "alice"
BOB = "bob"



async def add(store: Store, owner: str, project: str, text: str, title: str = ""):  # noqa: ANN201
    return await store.documents.create(
        owner, project_id=project, title=title, filename="", char_count=len(text),
        chunks=chunk_text(text),
    )


async def test_a_document_is_listed_got_and_deleted_in_its_project(store: Store) -> None:
    doc = await add(store, ALICE, "proj-a", "Some text about tides and the moon.", "Tides")
    assert (doc.project_id, doc.title, doc.chunk_count) == ("proj-a", "Tides", 1)
    assert (await store.documents.get(ALICE, "proj-a", doc.document_id)) == doc
    page = await store.documents.list(ALICE, "proj-a")
    assert [d.document_id for d in page.items] == [doc.document_id]
    assert (await store.documents.list(ALICE, "proj-b")).items == ()
    await store.documents.delete(ALICE, "proj-a", doc.document_id)
    with pytest.raises(NotFound):
        await store.documents.get(ALICE, "proj-a", doc.document_id)
    assert await store.documents.search(ALICE, "proj-a", ["tide"]) == []


async def test_another_owners_document_looks_missing_and_is_never_searched(store: Store) -> None:
    doc = await add(store, ALICE, "proj-a", "The secret budget of Atlas is large.")
    for call in (
        store.documents.get(BOB, "proj-a", doc.document_id),
        store.documents.delete(BOB, "proj-a", doc.document_id),
        store.documents.get(ALICE, "proj-other", doc.document_id),
    ):
        with pytest.raises(NotFound):
            await call
    assert await store.documents.search(BOB, "proj-a", ["secret", "budget"]) == []
    assert await store.documents.existing(BOB, "proj-a", [doc.document_id]) == set()
    assert await store.documents.existing(ALICE, "proj-a", [doc.document_id, "x"]) == {doc.document_id}


async def test_search_ranks_the_matching_chunk_first_and_respects_the_restriction(store: Store) -> None:
    tides = await add(store, ALICE, "p", CORPUS["tides"])
    volcano = await add(store, ALICE, "p", CORPUS["volcano"])
    found = await store.documents.search(ALICE, "p", query_terms("What causes the tides?"))
    assert found[0].document_id == tides.document_id and found[0].score > 0
    assert found[0].offset == 0 and "Moon" in found[0].text
    only = await store.documents.search(
        ALICE, "p", query_terms("tides eruption"), document_ids=[volcano.document_id]
    )
    assert {c.document_id for c in only} == {volcano.document_id}
    assert await store.documents.search(ALICE, "p", ["tide"], document_ids=["not-an-id"]) == []


async def test_bad_project_ids_are_refused(store: Store) -> None:
    for project in ("", "a b", "x" * 200, "$where"):
        with pytest.raises(InvalidArgument):
            await store.documents.list(ALICE, project)


async def test_recall_at_5_on_a_labelled_set(store: Store, request: pytest.FixtureRequest) -> None:
    service = DocumentService(store.documents)
    ids = {}
    for name, text in CORPUS.items():
        ids[name] = (await service.add(ALICE, "proj-eval", title=name, text=text)).document_id
    # Another owner's copy of the corpus must never be retrieved.
    for text in CORPUS.values():
        await service.add(BOB, "proj-eval", text=text)
    hits = firsts = 0
    for question, expected in QUESTIONS:
        found = await service.retrieve(ALICE, "proj-eval", question, limit=5)
        assert all(c.document_id in ids.values() for c in found)
        hits += ids[expected] in {c.document_id for c in found}
        firsts += bool(found) and found[0].document_id == ids[expected]
    recall = hits / len(QUESTIONS)
    print(f"\nlexical retrieval ({request.node.callspec.id}): recall@5 {recall:.2f}, "
          f"recall@1 {firsts / len(QUESTIONS):.2f}, {len(QUESTIONS)} questions, "
          f"{len(CORPUS)} documents")
    assert recall >= 0.8
