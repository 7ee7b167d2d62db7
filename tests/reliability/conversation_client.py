"""A small conversation client for the fault tests: append, remember what was
acknowledged, and check that all of it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from routeur.v1 import conversation_service_pb2 as pb
from routeur.v1 import conversation_service_pb2_grpc as pb_grpc


@dataclass
class ConversationWriter:
    """Appends to one conversation and records every acknowledged message's content."""

    channel: grpc.aio.Channel
    conversation_id: str = ""
    acknowledged: list[str] = field(default_factory=list)

    @property
    def stub(self) -> pb_grpc.ConversationServiceStub:
        return pb_grpc.ConversationServiceStub(self.channel)

    async def create(self, title: str = "fault test") -> str:
        reply = await self.stub.CreateConversation(
            pb.CreateConversationRequest(title=title), timeout=30
        )
        self.conversation_id = reply.conversation.conversation_id
        return self.conversation_id

    async def append(self, content: str, *, timeout_s: float = 30.0) -> None:
        """Append; raises AioRpcError when refused, records the content when acknowledged."""
        await self.stub.AppendMessage(
            pb.AppendMessageRequest(
                conversation_id=self.conversation_id, role="user", content=content
            ),
            timeout=timeout_s,
        )
        self.acknowledged.append(content)

    async def stored(self) -> list[str]:
        contents: list[str] = []
        token = ""
        while True:
            reply = await self.stub.ListMessages(
                pb.ListMessagesRequest(
                    conversation_id=self.conversation_id, page_size=100, page_token=token
                ),
                timeout=30,
            )
            contents.extend(message.content for message in reply.messages)
            token = reply.next_page_token
            if not token:
                return contents

    async def missing(self) -> list[str]:
        """Acknowledged messages that the store does not hold."""
        stored = set(await self.stored())
        return [content for content in self.acknowledged if content not in stored]
