"""Saved conversations over gRPC, and completions that continue them, on both stores.

The same flow runs against a server on the embedded SQLite store and one on MongoDB (a real
wire-protocol server: SecantusDB in-process, or the mongod of ROUTEUR_TEST_MONGODB_URI).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import grpc
import pytest
from routeur.v1 import (
    completion_service_pb2 as completion_pb,
)
from routeur.v1 import (
    completion_service_pb2_grpc as completion_grpc,
)
from routeur.v1 import (
    conversation_service_pb2 as pb,
)
from routeur.v1 import (
    conversation_service_pb2_grpc as pb_grpc,
)
from support import LOCAL_MODEL, open_channel, server_settings, start_server, user_id_of


@pytest.fixture(scope="module", params=["sqlite", "mongodb"])
async def server(request, tmp_path_factory):
    store_settings = {"store": request.param}
    if request.param == "mongodb":
        store_settings["mongodb_uri"] = request.getfixturevalue("mongodb_uri")
        store_settings["mongodb_database"] = f"routeur_api_{uuid.uuid4().hex[:10]}"
    running = await start_server(
        server_settings(tmp_path_factory.mktemp(f"data-{request.param}"), **store_settings)
    )
    async with open_channel(running.address) as channel:
        yield running, channel
    await running.server.stop(grace=1.0)


@pytest.fixture
def conversations(server):
    return pb_grpc.ConversationServiceStub(server[1])


@pytest.fixture
def completions(server):
    return completion_grpc.CompletionServiceStub(server[1])


async def new_conversation(conversations, title: str = "") -> pb.Conversation:
    response = await conversations.CreateConversation(pb.CreateConversationRequest(title=title))
    return response.conversation


async def test_a_created_conversation_can_be_read_back(conversations):
    created = await new_conversation(conversations, "Recettes")
    got = await conversations.GetConversation(
        pb.GetConversationRequest(conversation_id=created.conversation_id)
    )
    assert got.conversation.title == "Recettes"
    assert got.conversation.message_count == 0
    assert got.conversation.created_at.seconds > 0


async def test_appended_messages_come_back_in_order(conversations):
    conversation = await new_conversation(conversations)
    for role, content in (("user", "Bonjour"), ("assistant", "Salut"), ("user", "Ça va ?")):
        await conversations.AppendMessage(pb.AppendMessageRequest(
            conversation_id=conversation.conversation_id, role=role, content=content
        ))
    listed = await conversations.ListMessages(
        pb.ListMessagesRequest(conversation_id=conversation.conversation_id)
    )
    assert [(m.role, m.content) for m in listed.messages] == [
        ("user", "Bonjour"), ("assistant", "Salut"), ("user", "Ça va ?")
    ]
    recent = await conversations.GetConversation(pb.GetConversationRequest(
        conversation_id=conversation.conversation_id, max_messages=2
    ))
    assert [m.content for m in recent.conversation.messages] == ["Salut", "Ça va ?"]
    assert recent.conversation.title == "Bonjour", "the first user message names it"


async def test_a_completion_continues_a_saved_conversation(conversations, completions):
    conversation = await new_conversation(conversations)
    first = await completions.Complete(completion_pb.CompleteRequest(
        message="My name is Alice.", model=LOCAL_MODEL, max_tokens=8,
        conversation_id=conversation.conversation_id,
    ), timeout=120)
    second = await completions.Complete(completion_pb.CompleteRequest(
        message="What is my name?", model=LOCAL_MODEL, max_tokens=8,
        conversation_id=conversation.conversation_id,
    ), timeout=120)
    assert first.metadata.message_count == 1
    assert second.metadata.message_count == 3, "the stored exchange was sent as history"
    listed = await conversations.ListMessages(
        pb.ListMessagesRequest(conversation_id=conversation.conversation_id)
    )
    assert [m.role for m in listed.messages] == ["user", "assistant", "user", "assistant"]
    assert listed.messages[1].content == first.response
    assert listed.messages[3].model == LOCAL_MODEL


async def test_a_streamed_completion_saves_the_exchange(conversations, completions):
    conversation = await new_conversation(conversations)
    chunks = [chunk async for chunk in completions.StreamCompletion(
        completion_pb.StreamCompletionRequest(
            message="Count to three.", model=LOCAL_MODEL, max_tokens=8,
            conversation_id=conversation.conversation_id,
        ), timeout=120,
    )]
    answer = "".join(chunk.content for chunk in chunks)
    listed = await conversations.ListMessages(
        pb.ListMessagesRequest(conversation_id=conversation.conversation_id)
    )
    assert [m.content for m in listed.messages] == ["Count to three.", answer]


async def test_search_finds_text_in_titles_and_messages(conversations):
    marker = f"zebra-{uuid.uuid4().hex[:6]}"
    conversation = await new_conversation(conversations, "Safari")
    await conversations.AppendMessage(pb.AppendMessageRequest(
        conversation_id=conversation.conversation_id, role="user", content=f"I saw a {marker}."
    ))
    found = await conversations.SearchConversations(
        pb.SearchConversationsRequest(query=marker.upper())
    )
    assert [c.conversation_id for c in found.conversations] == [conversation.conversation_id]


async def test_conversations_page_without_gaps(conversations):
    for number in range(3):
        await new_conversation(conversations, f"page-{number}")
    seen, token = [], ""
    while True:
        page = await conversations.ListConversations(
            pb.ListConversationsRequest(page_size=2, page_token=token)
        )
        seen.extend(c.conversation_id for c in page.conversations)
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 3


async def test_a_deleted_conversation_is_gone(conversations):
    conversation = await new_conversation(conversations)
    await conversations.DeleteConversation(
        pb.DeleteConversationRequest(conversation_id=conversation.conversation_id)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await conversations.GetConversation(
            pb.GetConversationRequest(conversation_id=conversation.conversation_id)
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("conversation_id", ["nope", '{"$ne": null}', "0" * 26, "../../etc"])
async def test_unknown_and_malformed_ids_are_not_found(conversations, completions, conversation_id):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await conversations.GetConversation(
            pb.GetConversationRequest(conversation_id=conversation_id)
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await completions.Complete(completion_pb.CompleteRequest(
            message="hi", model=LOCAL_MODEL, conversation_id=conversation_id
        ))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_fields", "expected"),
    [
        ({"role": "robot", "content": "x"}, "`role` is 'robot'"),
        ({"role": "user", "content": "  "}, "`content` is empty"),
        ({"role": "user", "content": "x" * (1024 * 1024 + 1)}, "content"),
    ],
)
async def test_bad_messages_are_refused_with_the_reason(conversations, request_fields, expected):
    conversation = await new_conversation(conversations)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await conversations.AppendMessage(pb.AppendMessageRequest(
            conversation_id=conversation.conversation_id, **request_fields
        ))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in caught.value.details()


async def test_every_completion_is_recorded_as_usage(server, completions):
    running, _ = server
    usage = running.server.app.store.usage
    today = datetime.now(UTC).date()
    owner = await user_id_of(running.address)
    before = await usage.total(owner, first_day=today, last_day=today)
    response = await completions.Complete(
        completion_pb.CompleteRequest(message="Hi", model=LOCAL_MODEL, max_tokens=4), timeout=120
    )
    for _ in range(100):  # usage is written in the background, just after the answer
        after = await usage.total(owner, first_day=today, last_day=today)
        if after.requests > before.requests:
            break
        await asyncio.sleep(0.05)
    assert after.requests == before.requests + 1
    assert after.completion_tokens - before.completion_tokens == response.usage.completion_tokens
