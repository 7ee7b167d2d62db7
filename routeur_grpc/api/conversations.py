"""ConversationService servicer: protobuf in, domain call, protobuf out."""

from __future__ import annotations

import grpc
from routeur.v1 import conversation_service_pb2 as pb
from routeur.v1 import conversation_service_pb2_grpc as pb_grpc

from routeur_grpc.api.caller import caller_of
from routeur_grpc.api.timestamps import timestamp
from routeur_grpc.domain.records import Conversation, Message
from routeur_grpc.services.conversations import ConversationService


class ConversationServicer(pb_grpc.ConversationServiceServicer):
    def __init__(self, conversations: ConversationService) -> None:
        self._conversations = conversations

    async def CreateConversation(
        self, request: pb.CreateConversationRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateConversationResponse:
        conversation = await self._conversations.create(caller_of(context).owner_id, request.title)
        return pb.CreateConversationResponse(conversation=conversation_message(conversation))

    async def GetConversation(
        self, request: pb.GetConversationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConversationResponse:
        conversation, messages = await self._conversations.get(
            caller_of(context).owner_id, request.conversation_id, request.max_messages
        )
        return pb.GetConversationResponse(
            conversation=conversation_message(conversation, messages)
        )

    async def ListConversations(
        self, request: pb.ListConversationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListConversationsResponse:
        page = await self._conversations.list(
            caller_of(context).owner_id, request.page_size, request.page_token
        )
        return pb.ListConversationsResponse(
            conversations=[conversation_message(c) for c in page.items],
            next_page_token=page.next_page_token,
        )

    async def ListMessages(
        self, request: pb.ListMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMessagesResponse:
        page = await self._conversations.list_messages(
            caller_of(context).owner_id, request.conversation_id, request.page_size, request.page_token
        )
        return pb.ListMessagesResponse(
            messages=[message_message(m) for m in page.items],
            next_page_token=page.next_page_token,
        )

    async def AppendMessage(
        self, request: pb.AppendMessageRequest, context: grpc.aio.ServicerContext
    ) -> pb.AppendMessageResponse:
        message = await self._conversations.append(
            caller_of(context).owner_id, request.conversation_id, request.role, request.content
        )
        return pb.AppendMessageResponse(message=message_message(message))

    async def SearchConversations(
        self, request: pb.SearchConversationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchConversationsResponse:
        page = await self._conversations.search(
            caller_of(context).owner_id, request.query, request.page_size, request.page_token
        )
        return pb.SearchConversationsResponse(
            conversations=[conversation_message(c) for c in page.items],
            next_page_token=page.next_page_token,
        )

    async def DeleteConversation(
        self, request: pb.DeleteConversationRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteConversationResponse:
        await self._conversations.delete(caller_of(context).owner_id, request.conversation_id)
        return pb.DeleteConversationResponse()


def conversation_message(
    conversation: Conversation, messages: list[Message] | None = None
) -> pb.Conversation:
    return pb.Conversation(
        conversation_id=conversation.conversation_id,
        title=conversation.title,
        message_count=conversation.message_count,
        messages=[message_message(m) for m in messages or ()],
        created_at=timestamp(conversation.create_time),
        updated_at=timestamp(conversation.update_time),
    )


def message_message(message: Message) -> pb.Message:
    return pb.Message(
        message_id=message.message_id,
        role=message.role,
        content=message.content,
        model=message.model,
        created_at=timestamp(message.create_time),
    )
