"""A saved conversation changes only when a turn is complete.

The user's message and the answer are appended together once the answer has finished; a
request refused (unknown or unconfigured model, invalid field), failed (before or after its
first token) or cancelled leaves the conversation exactly as it was.
"""

from __future__ import annotations

import grpc
import pytest
from fakes import Fault
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from routeur.v1 import conversation_service_pb2 as conv_pb
from routeur.v1 import conversation_service_pb2_grpc as conv_grpc

from .conftest import EndToEnd


async def new_conversation(e2e: EndToEnd) -> str:
    stub = conv_grpc.ConversationServiceStub(e2e.channel)
    created = await stub.CreateConversation(conv_pb.CreateConversationRequest(title="t"), timeout=5)
    return created.conversation.conversation_id


async def messages_of(e2e: EndToEnd, conversation_id: str) -> list[tuple[str, str]]:
    stub = conv_grpc.ConversationServiceStub(e2e.channel)
    listing = await stub.ListMessages(
        conv_pb.ListMessagesRequest(conversation_id=conversation_id, page_size=100), timeout=5
    )
    return [(m.role, m.content) for m in listing.messages]


def completions(e2e: EndToEnd) -> pb_grpc.CompletionServiceStub:
    return pb_grpc.CompletionServiceStub(e2e.channel)


@pytest.mark.parametrize(
    ("model", "code"),
    [
        ("no-such-model", grpc.StatusCode.INVALID_ARGUMENT),
        ("local/smollm2-135m-instruct", grpc.StatusCode.FAILED_PRECONDITION),  # not configured
    ],
)
async def test_a_refused_request_changes_nothing(
    e2e: EndToEnd, model: str, code: grpc.StatusCode
) -> None:
    conversation = await new_conversation(e2e)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await completions(e2e).Complete(
            pb.CompleteRequest(message="hello", model=model, conversation_id=conversation),
            timeout=10,
        )
    assert caught.value.code() == code
    assert await messages_of(e2e, conversation) == []


async def test_a_request_failing_upstream_before_its_first_token_changes_nothing(
    e2e: EndToEnd,
) -> None:
    conversation = await new_conversation(e2e)
    e2e.fakes["anthropic"].always(Fault("status", status=500))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await completions(e2e).Complete(
            pb.CompleteRequest(
                message="hello", model="claude-haiku-4-5", conversation_id=conversation
            ),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert await messages_of(e2e, conversation) == []


async def test_an_empty_upstream_answer_is_not_blamed_on_the_caller_and_changes_nothing(
    e2e: EndToEnd,
) -> None:
    conversation = await new_conversation(e2e)
    e2e.fakes["openai"].always(Fault("empty"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await completions(e2e).Complete(
            pb.CompleteRequest(message="hello", model="gpt-4o-mini", conversation_id=conversation),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "empty" in caught.value.details() and "content" not in caught.value.details()
    assert await messages_of(e2e, conversation) == []


async def test_a_stream_failing_after_its_first_token_changes_nothing(e2e: EndToEnd) -> None:
    conversation = await new_conversation(e2e)
    e2e.fakes["mistral"].always(Fault("malformed", after_frames=4))
    chunks = [
        chunk
        async for chunk in completions(e2e).StreamCompletion(
            pb.StreamCompletionRequest(
                message="hello", model="mistral-large-latest", conversation_id=conversation
            ),
            timeout=10,
        )
    ]
    assert chunks[-1].done and chunks[-1].error.code == grpc.StatusCode.UNAVAILABLE.value[0]
    assert await messages_of(e2e, conversation) == []


async def test_a_complete_turn_saves_the_message_and_the_answer_together(e2e: EndToEnd) -> None:
    conversation = await new_conversation(e2e)
    response = await completions(e2e).Complete(
        pb.CompleteRequest(message="hello", model="gpt-4o-mini", conversation_id=conversation),
        timeout=10,
    )
    assert await messages_of(e2e, conversation) == [
        ("user", "hello"),
        ("assistant", response.response),
    ]
