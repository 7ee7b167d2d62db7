"""Saved conversations: the rules around the conversation repository.

A completion that names a conversation reads its recent messages as history, and appends
the new message (before asking the model, so it is never lost) and the answer.
"""

from __future__ import annotations

from routeur_grpc.domain.completion import ROLES, ChatMessage
from routeur_grpc.domain.records import Conversation, Message
from routeur_grpc.domain.repositories import ConversationRepository, Page
from routeur_grpc.errors import InvalidArgument

DEFAULT_RECENT_MESSAGES = 100
MAX_RECENT_MESSAGES = 1000
HISTORY_MESSAGES = 200  # turns of a stored conversation sent to the model, most recent
TITLE_CHARS = 80


class ConversationService:
    """What callers may do with their saved conversations."""

    def __init__(self, conversations: ConversationRepository) -> None:
        self._conversations = conversations

    async def create(self, owner_id: str, title: str) -> Conversation:
        return await self._conversations.create(owner_id, title=title.strip())

    async def get(
        self, owner_id: str, conversation_id: str, max_messages: int
    ) -> tuple[Conversation, list[Message]]:
        """The conversation and its most recent messages, oldest first."""
        _require(conversation_id, "conversation_id")
        if not 0 <= max_messages <= MAX_RECENT_MESSAGES:
            raise InvalidArgument(
                f"`max_messages` is {max_messages}; it must be between 0 (default) and "
                f"{MAX_RECENT_MESSAGES}."
            )
        conversation = await self._conversations.get(owner_id, conversation_id)
        messages = await self._conversations.recent_messages(
            owner_id, conversation_id, limit=max_messages or DEFAULT_RECENT_MESSAGES
        )
        return conversation, messages

    async def list(self, owner_id: str, page_size: int, page_token: str) -> Page[Conversation]:
        return await self._conversations.list(
            owner_id, page_size=page_size, page_token=page_token
        )

    async def list_messages(
        self, owner_id: str, conversation_id: str, page_size: int, page_token: str
    ) -> Page[Message]:
        _require(conversation_id, "conversation_id")
        return await self._conversations.list_messages(
            owner_id, conversation_id, page_size=page_size, page_token=page_token
        )

    async def append(
        self, owner_id: str, conversation_id: str, role: str, content: str, model: str = ""
    ) -> Message:
        _require(conversation_id, "conversation_id")
        if role not in ROLES:
            raise InvalidArgument(f"`role` is {role!r}; use one of {', '.join(sorted(ROLES))}.")
        if not content.strip():
            raise InvalidArgument("`content` is empty: give the text of the message.")
        message = await self._conversations.append_message(
            owner_id, conversation_id, role=role, content=content, model=model
        )
        if message.seq == 1 and role == "user":
            await self._title_from(owner_id, conversation_id, content)
        return message

    async def search(
        self, owner_id: str, query: str, page_size: int, page_token: str
    ) -> Page[Conversation]:
        if not query.strip():
            raise InvalidArgument("`query` is empty: give the text to look for.")
        return await self._conversations.search(
            owner_id, query, page_size=page_size, page_token=page_token
        )

    async def delete(self, owner_id: str, conversation_id: str) -> None:
        _require(conversation_id, "conversation_id")
        await self._conversations.delete(owner_id, conversation_id)

    async def history(self, owner_id: str, conversation_id: str) -> tuple[ChatMessage, ...]:
        """The recent turns to send to a model before a new message."""
        messages = await self._conversations.recent_messages(
            owner_id, conversation_id, limit=HISTORY_MESSAGES
        )
        return tuple(ChatMessage(m.role, m.content) for m in messages)

    async def _title_from(self, owner_id: str, conversation_id: str, content: str) -> None:
        conversation = await self._conversations.get(owner_id, conversation_id)
        if not conversation.title:
            title = " ".join(content.split())[:TITLE_CHARS]
            await self._conversations.update_title(owner_id, conversation_id, title)


def _require(value: str, field: str) -> None:
    if not value:
        raise InvalidArgument(f"`{field}` is empty.")
