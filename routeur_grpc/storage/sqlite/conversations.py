"""Conversations and their messages, in SQLite."""

from __future__ import annotations

import sqlite3

from routeur_grpc.domain.records import (
    MAX_MESSAGE_CONTENT_BYTES,
    MAX_SEARCH_TEXT_CHARS,
    MAX_TITLE_CHARS,
    MESSAGE_ROLES,
    Conversation,
    Message,
)
from routeur_grpc.domain.repositories import Page
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.ids import (
    IdGenerator,
    check_id,
    from_millis,
    not_found,
    to_millis,
    utc_now,
)
from routeur_grpc.storage.paging import build_page, id_page, seq_page
from routeur_grpc.storage.sqlite.database import SqliteDatabase

_CONVERSATION_COLUMNS = "conversation_id, owner_id, title, create_time, update_time, message_count"
_MESSAGE_COLUMNS = "message_id, conversation_id, role, content, model, create_time, seq"


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        conversation_id=row["conversation_id"],
        owner_id=row["owner_id"],
        title=row["title"],
        create_time=from_millis(row["create_time"]),
        update_time=from_millis(row["update_time"]),
        message_count=row["message_count"],
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        message_id=row["message_id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        content=row["content"],
        model=row["model"],
        create_time=from_millis(row["create_time"]),
        seq=row["seq"],
    )


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere (with `ESCAPE '\\'`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqliteConversationRepository:
    """`ConversationRepository` over the `conversations` and `messages` tables."""

    def __init__(self, db: SqliteDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def create(self, owner_id: str, *, title: str = "") -> Conversation:
        owner_id = check.owner_id(owner_id)
        title = check.text("title", title, max_chars=MAX_TITLE_CHARS)
        now = utc_now()
        conversation = Conversation(self._ids.new_id(now), owner_id, title, now, now, 0)
        async with self._db.write() as tx:
            await tx.execute(
                f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, 0)",
                (conversation.conversation_id, owner_id, title, to_millis(now), to_millis(now)),
            )
        return conversation

    async def get(self, owner_id: str, conversation_id: str) -> Conversation:
        owner_id = check.owner_id(owner_id)
        conversation_id = check_id("conversation", conversation_id)
        row = await self._db.fetchone(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations"
            " WHERE conversation_id = ? AND owner_id = ?",
            (conversation_id, owner_id),
        )
        if row is None:
            raise not_found("conversation", conversation_id)
        return _conversation(row)

    async def list(
        self, owner_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Conversation]:
        owner_id = check.owner_id(owner_id)
        query = id_page(("conversations.list", owner_id), page_size, page_token)
        after = "" if query.after is None else "AND conversation_id < ?"
        params = () if query.after is None else (query.after,)
        rows = await self._db.fetchall(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE owner_id = ? {after}"
            " ORDER BY conversation_id DESC LIMIT ?",
            (owner_id, *params, query.fetch),
        )
        return build_page(query, [_conversation(r) for r in rows], lambda c: c.conversation_id)

    async def search(
        self, owner_id: str, text: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Conversation]:
        owner_id = check.owner_id(owner_id)
        text = check.text("text", text, max_chars=MAX_SEARCH_TEXT_CHARS, required=True)
        query = id_page(("conversations.search", owner_id, text), page_size, page_token)
        if text.isascii():
            # LIKE runs in C and folds ASCII case, which is all an ASCII needle needs.
            matches = "{column} LIKE ? ESCAPE '\\'"
            needle = like_pattern(text)
        else:
            # LIKE would not fold "É" to "é": use a Python function that folds all scripts.
            matches = "routeur_icontains({column}, ?)"
            needle = text
        after = "" if query.after is None else "AND c.conversation_id < ?"
        params = () if query.after is None else (query.after,)
        # Scoped by owner through conversations_by_owner, then each conversation's messages
        # through the messages primary key; no text index needed.
        sql = (
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations AS c"
            f" WHERE c.owner_id = ? {after} AND ({matches.format(column='c.title')}"
            " OR EXISTS (SELECT 1 FROM messages AS m"
            "  WHERE m.conversation_id = c.conversation_id"
            f"  AND {matches.format(column='m.content')}))"
            " ORDER BY c.conversation_id DESC LIMIT ?"
        )
        rows = await self._db.fetchall(sql, (owner_id, *params, needle, needle, query.fetch))
        return build_page(query, [_conversation(r) for r in rows], lambda c: c.conversation_id)

    async def update_title(self, owner_id: str, conversation_id: str, title: str) -> Conversation:
        owner_id = check.owner_id(owner_id)
        conversation_id = check_id("conversation", conversation_id)
        title = check.text("title", title, max_chars=MAX_TITLE_CHARS)
        async with self._db.write() as tx:
            row = await tx.fetchone(
                "UPDATE conversations SET title = ? WHERE conversation_id = ? AND owner_id = ?"
                f" RETURNING {_CONVERSATION_COLUMNS}",
                (title, conversation_id, owner_id),
            )
        if row is None:
            raise not_found("conversation", conversation_id)
        return _conversation(row)

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
        message_id = self._ids.new_id(now)
        async with self._db.write() as tx:
            # One transaction: the counter moves and the message lands together, or neither.
            # The write lock (and BEGIN IMMEDIATE across processes) orders concurrent appends.
            row = await tx.fetchone(
                "UPDATE conversations SET message_count = message_count + 1,"
                " update_time = MAX(update_time, ?)"
                " WHERE conversation_id = ? AND owner_id = ? RETURNING message_count",
                (to_millis(now), conversation_id, owner_id),
            )
            if row is None:
                raise not_found("conversation", conversation_id)
            seq = int(row[0])
            await tx.execute(
                f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (message_id, conversation_id, role, content, model, to_millis(now), seq),
            )
        return Message(message_id, conversation_id, role, content, model, now, seq)  # type: ignore[arg-type]

    async def list_messages(
        self, owner_id: str, conversation_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Message]:
        conversation = await self.get(owner_id, conversation_id)
        query = seq_page(
            ("messages.list", conversation.owner_id, conversation.conversation_id),
            page_size,
            page_token,
        )
        rows = await self._db.fetchall(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (conversation.conversation_id, query.after or 0, query.fetch),
        )
        return build_page(query, [_message(r) for r in rows], lambda m: m.seq)

    async def recent_messages(
        self, owner_id: str, conversation_id: str, *, limit: int
    ) -> list[Message]:
        conversation = await self.get(owner_id, conversation_id)
        rows = await self._db.fetchall(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?"
            " ORDER BY seq DESC LIMIT ?",
            (conversation.conversation_id, check.recent_limit(limit)),
        )
        return [_message(r) for r in reversed(rows)]

    async def delete(self, owner_id: str, conversation_id: str) -> None:
        owner_id = check.owner_id(owner_id)
        conversation_id = check_id("conversation", conversation_id)
        async with self._db.write() as tx:
            # Its messages go with it (ON DELETE CASCADE).
            deleted = await tx.execute(
                "DELETE FROM conversations WHERE conversation_id = ? AND owner_id = ?",
                (conversation_id, owner_id),
            )
        if not deleted:
            raise not_found("conversation", conversation_id)
