"""Conversations and their messages, in MongoDB.

A message's `seq` is allocated by `$inc` on its conversation's `last_seq`, read back with
`ReturnDocument.AFTER`: one atomic document update, so concurrent appends (from any number of
instances) each get their own seq, in order. `message_count` moves with it; it is given back
if the message then cannot be written, while `last_seq` is not (a seq is never reused, so a
failed append can leave a gap, never a duplicate).
"""

from __future__ import annotations

import builtins

from pymongo import ASCENDING, DESCENDING, ReturnDocument

from routeur_grpc.domain.records import (
    MAX_MESSAGE_CONTENT_BYTES,
    MAX_SEARCH_TEXT_CHARS,
    MAX_TITLE_CHARS,
    MESSAGE_ROLES,
    Conversation,
    Message,
)
from routeur_grpc.domain.repositories import Page
from routeur_grpc.errors import RouteurError
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.ids import IdGenerator, check_id, not_found, utc_now
from routeur_grpc.storage.mongodb.database import Document, MongoDatabase
from routeur_grpc.storage.mongodb.errors import mongo_errors
from routeur_grpc.storage.paging import build_page, id_page, seq_page

_CONVERSATION_FIELDS = {"last_seq": 0}  # internal: never leaves this module


def _conversation(doc: Document) -> Conversation:
    return Conversation(
        conversation_id=doc["_id"],
        owner_id=doc["owner_id"],
        title=doc["title"],
        create_time=doc["create_time"],
        update_time=doc["update_time"],
        message_count=doc["message_count"],
    )


def _message(doc: Document) -> Message:
    return Message(
        message_id=doc["_id"],
        conversation_id=doc["conversation_id"],
        role=doc["role"],
        content=doc["content"],
        model=doc["model"],
        create_time=doc["create_time"],
        seq=doc["seq"],
    )


def literal_regex(text: str) -> str:
    """A regular expression matching `text` literally. Every ASCII character that is not a
    letter, a digit or `_` is escaped: a backslash before such a character is a literal in
    both PCRE (mongod) and Python's `re` (SecantusDB), whatever the character means."""
    return "".join(
        "\\" + char if char.isascii() and not (char.isalnum() or char == "_") else char
        for char in text
    )


class MongoConversationRepository:
    """`ConversationRepository` over the `conversations` and `messages` collections."""

    def __init__(self, db: MongoDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def create(self, owner_id: str, *, title: str = "") -> Conversation:
        owner_id = check.owner_id(owner_id)
        title = check.text("title", title, max_chars=MAX_TITLE_CHARS)
        now = utc_now()
        conversation = Conversation(self._ids.new_id(now), owner_id, title, now, now, 0)
        with mongo_errors():
            await self._db.conversations.insert_one(
                {
                    "_id": conversation.conversation_id,
                    "owner_id": owner_id,
                    "title": title,
                    "create_time": now,
                    "update_time": now,
                    "message_count": 0,
                    "last_seq": 0,
                }
            )
        return conversation

    async def get(self, owner_id: str, conversation_id: str) -> Conversation:
        owner_id = check.owner_id(owner_id)
        conversation_id = check_id("conversation", conversation_id)
        with mongo_errors():
            doc = await self._db.conversations.find_one(
                {"_id": conversation_id, "owner_id": owner_id}
            )
        if doc is None:
            raise not_found("conversation", conversation_id)
        return _conversation(doc)

    async def list(
        self, owner_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Conversation]:
        owner_id = check.owner_id(owner_id)
        query = id_page(("conversations.list", owner_id), page_size, page_token)
        filter_: Document = {"owner_id": owner_id}
        if query.after is not None:
            filter_["_id"] = {"$lt": query.after}
        return build_page(
            query, await self._find(filter_, query.fetch), lambda c: c.conversation_id
        )

    async def search(
        self, owner_id: str, text: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Conversation]:
        owner_id = check.owner_id(owner_id)
        text = check.text("text", text, max_chars=MAX_SEARCH_TEXT_CHARS, required=True)
        query = id_page(("conversations.search", owner_id, text), page_size, page_token)
        pattern = {"$regex": literal_regex(text), "$options": "i"}
        with mongo_errors():
            # No text index (SecantusDB has none): the owner's messages are scanned through
            # the by_owner index. The ids of the matching conversations are few per owner.
            in_messages = await self._db.messages.distinct(
                "conversation_id", {"owner_id": owner_id, "content": pattern}
            )
        filter_: Document = {
            "owner_id": owner_id,
            "$or": [{"title": pattern}, {"_id": {"$in": in_messages}}],
        }
        if query.after is not None:
            filter_["_id"] = {"$lt": query.after}
        return build_page(
            query, await self._find(filter_, query.fetch), lambda c: c.conversation_id
        )

    async def _find(self, filter_: Document, limit: int) -> builtins.list[Conversation]:
        with mongo_errors():
            cursor = (
                self._db.conversations.find(filter_, projection=_CONVERSATION_FIELDS)
                .sort("_id", DESCENDING)
                .limit(limit)
            )
            return [_conversation(d) for d in await cursor.to_list()]

    async def update_title(self, owner_id: str, conversation_id: str, title: str) -> Conversation:
        owner_id = check.owner_id(owner_id)
        conversation_id = check_id("conversation", conversation_id)
        title = check.text("title", title, max_chars=MAX_TITLE_CHARS)
        with mongo_errors():
            doc = await self._db.conversations.find_one_and_update(
                {"_id": conversation_id, "owner_id": owner_id},
                {"$set": {"title": title}},
                return_document=ReturnDocument.AFTER,
            )
        if doc is None:
            raise not_found("conversation", conversation_id)
        return _conversation(doc)

    async def append_message(
        self,
        owner_id: str,
        conversation_id: str,
        *,
        role: str,
        content: str,
        model: str = "",
    ) -> Message:
        owner_id = check.owner_id(owner_id)
        conversation_id = check_id("conversation", conversation_id)
        role = check.choice("role", role, MESSAGE_ROLES)
        content = check.text("content", content, max_bytes=MAX_MESSAGE_CONTENT_BYTES)
        model = check.name("model", model, required=False)
        now = utc_now()
        message = Message(self._ids.new_id(now), conversation_id, role, content, model, now, 0)  # type: ignore[arg-type]
        with mongo_errors():
            counters = await self._db.conversations.find_one_and_update(
                {"_id": conversation_id, "owner_id": owner_id},
                # $max: appends finishing out of order must not move update_time backwards.
                {"$inc": {"last_seq": 1, "message_count": 1}, "$max": {"update_time": now}},
                projection={"last_seq": 1},
                return_document=ReturnDocument.AFTER,
            )
        if counters is None:
            raise not_found("conversation", conversation_id)
        seq = counters["last_seq"]
        try:
            with mongo_errors():
                await self._db.messages.insert_one(
                    {
                        "_id": message.message_id,
                        "conversation_id": conversation_id,
                        # Copied from the conversation so search can scope messages by owner.
                        "owner_id": owner_id,
                        "seq": seq,
                        "role": role,
                        "content": content,
                        "model": model,
                        "create_time": now,
                    }
                )
        except RouteurError:
            # MongoDB refused the message: give the count back (the seq stays used).
            with mongo_errors():
                await self._db.conversations.update_one(
                    {"_id": conversation_id}, {"$inc": {"message_count": -1}}
                )
            raise
        return Message(message.message_id, conversation_id, message.role, content, model, now, seq)

    async def list_messages(
        self, owner_id: str, conversation_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Message]:
        conversation = await self.get(owner_id, conversation_id)
        query = seq_page(
            ("messages.list", conversation.owner_id, conversation.conversation_id),
            page_size,
            page_token,
        )
        with mongo_errors():
            cursor = (
                self._db.messages.find(
                    {
                        "conversation_id": conversation.conversation_id,
                        "seq": {"$gt": query.after or 0},
                    }
                )
                .sort("seq", ASCENDING)
                .limit(query.fetch)
            )
            docs = await cursor.to_list()
        return build_page(query, [_message(d) for d in docs], lambda m: m.seq)

    async def recent_messages(
        self, owner_id: str, conversation_id: str, *, limit: int
    ) -> list[Message]:
        conversation = await self.get(owner_id, conversation_id)
        with mongo_errors():
            cursor = (
                self._db.messages.find({"conversation_id": conversation.conversation_id})
                .sort("seq", DESCENDING)
                .limit(check.recent_limit(limit))
            )
            docs = await cursor.to_list()
        return [_message(d) for d in reversed(docs)]

    async def delete(self, owner_id: str, conversation_id: str) -> None:
        owner_id = check.owner_id(owner_id)
        conversation_id = check_id("conversation", conversation_id)
        with mongo_errors():
            result = await self._db.conversations.delete_one(
                {"_id": conversation_id, "owner_id": owner_id}
            )
            if result.deleted_count == 0:
                raise not_found("conversation", conversation_id)
            # The conversation first: once it is gone its messages are unreachable, even if
            # deleting them fails half-way.
            await self._db.messages.delete_many({"conversation_id": conversation_id})
