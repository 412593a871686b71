-- pyxa metadata schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql.
-- Timestamps are seconds since the Unix epoch, JSON is TEXT, vectors are little-endian f32 BLOBs.
-- Only INTEGER, TEXT and BLOB column types: the sqlx Any driver supports nothing else.

CREATE TABLE collections (
    name        TEXT    NOT NULL PRIMARY KEY,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE items (
    -- insertion order: "newest first" without relying on same-second timestamps
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    collection   TEXT    NOT NULL REFERENCES collections (name) ON DELETE CASCADE,
    label        TEXT,
    text         TEXT,
    kind         TEXT    NOT NULL,
    metadata     TEXT    NOT NULL DEFAULT '{}',
    content_hash TEXT    NOT NULL,
    blob_hash    TEXT,
    tenant       TEXT,
    state        TEXT    NOT NULL DEFAULT 'pending',
    image_vector BLOB,
    text_vector  BLOB,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (collection, content_hash)
);
CREATE INDEX items_collection_state ON items (collection, state);
CREATE INDEX items_collection_label ON items (collection, label);
CREATE INDEX items_state ON items (state);

CREATE TABLE blobs (
    hash       TEXT    NOT NULL PRIMARY KEY,
    mime       TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- Conversations, answers and feedback are history: they outlive the collection they were about,
-- so `collection` is a plain column, not a foreign key.
CREATE TABLE conversations (
    id         TEXT    NOT NULL PRIMARY KEY,
    title      TEXT    NOT NULL,
    collection TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE answers (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id),
    collection      TEXT    NOT NULL,
    prompt          TEXT    NOT NULL,
    answer          TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    mode            TEXT    NOT NULL,
    image_hash      TEXT,
    -- the photo's embedding, so a follow-up about the same photo needs no re-upload
    image_vector    BLOB,
    candidates      TEXT    NOT NULL DEFAULT '[]',
    citations       TEXT    NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL
);
CREATE INDEX answers_conversation ON answers (conversation_id, seq);

CREATE TABLE feedback (
    id         TEXT    NOT NULL PRIMARY KEY,
    answer_id  TEXT    NOT NULL REFERENCES answers (id),
    -- 1 / 0 / NULL (no verdict)
    correct    INTEGER,
    label      TEXT,
    item_id    TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX feedback_answer ON feedback (answer_id);
