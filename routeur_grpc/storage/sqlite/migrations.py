"""The SQLite schema, as a list of forward migrations applied at open.

`schema_version` holds one row: the number of migrations applied. At open, inside one
`BEGIN IMMEDIATE` transaction (so two processes opening the same file at once apply each
migration once), the missing migrations run in order. Migrations are never edited once
released: a change to the schema is a new entry at the end of `MIGRATIONS`.

Conventions of the schema: timestamps are INTEGER milliseconds since the epoch (UTC);
booleans are INTEGER 0/1; JSON documents are TEXT; ids are the 26-character strings of
`storage.ids`, which sort by creation time, so "newest first" is `ORDER BY id DESC` and every
list path has an index on (scope, id).
"""

from __future__ import annotations

from typing import Protocol

from routeur_grpc.errors import FailedPrecondition

_V1 = (
    """CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        disabled INTEGER NOT NULL,
        create_time INTEGER NOT NULL,
        update_time INTEGER NOT NULL
    )""",
    """CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        create_time INTEGER NOT NULL,
        last_used_time INTEGER,
        revoked INTEGER NOT NULL
    )""",
    "CREATE INDEX api_keys_by_user ON api_keys (user_id, key_id)",
    """CREATE TABLE conversations (
        conversation_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        title TEXT NOT NULL,
        create_time INTEGER NOT NULL,
        update_time INTEGER NOT NULL,
        message_count INTEGER NOT NULL
    )""",
    "CREATE INDEX conversations_by_owner ON conversations (owner_id, conversation_id)",
    # Keyed by (conversation, seq): appends and listings walk this primary key in order.
    """CREATE TABLE messages (
        conversation_id TEXT NOT NULL
            REFERENCES conversations (conversation_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content TEXT NOT NULL,
        model TEXT NOT NULL,
        create_time INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, seq)
    ) WITHOUT ROWID""",
    """CREATE TABLE analyses (
        analysis_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        text TEXT NOT NULL,
        model TEXT NOT NULL,
        result_json TEXT NOT NULL,
        create_time INTEGER NOT NULL
    )""",
    "CREATE INDEX analyses_by_owner ON analyses (owner_id, analysis_id)",
    """CREATE TABLE jobs (
        job_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        job_type TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        progress_percent INTEGER NOT NULL,
        options_json TEXT NOT NULL,
        audio_path TEXT NOT NULL,
        transcript_text TEXT NOT NULL,
        transcript_language TEXT NOT NULL,
        transcript_duration REAL,
        transcript_model TEXT NOT NULL,
        error TEXT NOT NULL,
        create_time INTEGER NOT NULL,
        update_time INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        attempts INTEGER NOT NULL
    )""",
    "CREATE INDEX jobs_by_owner ON jobs (owner_id, job_id)",
    # claim_next looks for the oldest queued job, and the oldest running one whose lease
    # has expired.
    "CREATE INDEX jobs_by_status ON jobs (status, job_id)",
    """CREATE TABLE providers (
        provider_id TEXT PRIMARY KEY,
        provider_type TEXT NOT NULL,
        name TEXT NOT NULL UNIQUE,
        base_url TEXT NOT NULL,
        api_key_ciphertext TEXT NOT NULL,
        default_model TEXT NOT NULL,
        config_json TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        create_time INTEGER NOT NULL,
        update_time INTEGER NOT NULL
    )""",
    # `day` is the UTC day number (days since 1970-01-01): aggregations group on it.
    """CREATE TABLE usage (
        request_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        model TEXT NOT NULL,
        provider TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost REAL NOT NULL,
        currency TEXT NOT NULL,
        emissions_g REAL,
        latency_s REAL NOT NULL,
        create_time INTEGER NOT NULL,
        day INTEGER NOT NULL
    )""",
    "CREATE INDEX usage_by_owner_day ON usage (owner_id, day)",
    "CREATE INDEX usage_by_day ON usage (day)",
)

# Passwords (an argon2id hash; "" for none), API key expiry, a user's recent requests.
_V2 = (
    "ALTER TABLE users ADD COLUMN password_hash TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE api_keys ADD COLUMN expire_time INTEGER",
    "CREATE INDEX usage_by_owner_time ON usage (owner_id, create_time)",
)

# Project documents. Chunks are searched through an FTS5 table whose rowid is the chunk's
# and whose text is the chunk's terms (`domain.text_search`), so both stores match alike.
_DOCUMENTS = (
    """CREATE TABLE documents (
        document_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        title TEXT NOT NULL,
        filename TEXT NOT NULL,
        char_count INTEGER NOT NULL,
        chunk_count INTEGER NOT NULL,
        create_time INTEGER NOT NULL
    )""",
    "CREATE INDEX documents_by_project ON documents (owner_id, project_id, document_id)",
    """CREATE TABLE document_chunks (
        chunk_id INTEGER PRIMARY KEY,
        document_id TEXT NOT NULL REFERENCES documents (document_id) ON DELETE CASCADE,
        char_offset INTEGER NOT NULL,
        text TEXT NOT NULL
    )""",
    "CREATE INDEX document_chunks_by_document ON document_chunks (document_id, chunk_id)",
    "CREATE VIRTUAL TABLE document_chunks_fts USING fts5(terms, tokenize = 'unicode61')",
)

# Per-user rate limits and budget (NULL: the server's default).
_USER_LIMITS = (
    """CREATE TABLE user_limits (
        user_id TEXT PRIMARY KEY,
        requests_per_minute INTEGER,
        tokens_per_minute INTEGER,
        budget REAL,
        update_time INTEGER NOT NULL
    )""",
)

# The seconds of audio a transcription heard (NULL for other requests).
_AUDIO_SECONDS = ("ALTER TABLE usage ADD COLUMN audio_seconds REAL",)

# MIGRATIONS[n] takes the schema from version n to version n + 1. Never edit one that
# has shipped: add the next.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _V1,
    _V2,
    _DOCUMENTS,
    _USER_LIMITS,
    _AUDIO_SECONDS,
)
SCHEMA_VERSION = len(MIGRATIONS)


class _Transaction(Protocol):
    async def fetchone(self, sql: str, params: tuple[object, ...] = ()) -> object: ...

    async def execute(self, sql: str, params: tuple[object, ...] = ()) -> int: ...


async def migrate(tx: _Transaction) -> int:
    """Applies the missing migrations inside the caller's transaction; returns the version."""
    await tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = await tx.fetchone("SELECT version FROM schema_version")
    if row is None:
        await tx.execute("INSERT INTO schema_version (version) VALUES (0)")
        version = 0
    else:
        version = int(row[0])  # type: ignore[index]
    if version > SCHEMA_VERSION:
        raise FailedPrecondition(
            f"The database has schema version {version}, newer than this Routeur's"
            f" ({SCHEMA_VERSION}): run a newer Routeur, or another data directory."
        )
    for statements in MIGRATIONS[version:]:
        for statement in statements:
            await tx.execute(statement)
    if version != SCHEMA_VERSION:
        await tx.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
    return SCHEMA_VERSION
