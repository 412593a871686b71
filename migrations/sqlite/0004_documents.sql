-- Documents (plain text, Markdown, HTML, PDF) uploaded into a collection. Their text is split
-- into passages; each passage is an item of kind 'passage' that points back to its document.
-- Deleting a document deletes its passages; so does deleting its collection.
CREATE TABLE documents (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    collection   TEXT    NOT NULL REFERENCES collections (name) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    file_name    TEXT    NOT NULL,
    mime         TEXT    NOT NULL,
    bytes        INTEGER NOT NULL,
    content_hash TEXT    NOT NULL,
    passages     INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending',
    created_at   INTEGER NOT NULL,
    UNIQUE (collection, content_hash)
);
CREATE INDEX documents_state ON documents (state);

ALTER TABLE items ADD COLUMN document_id TEXT;
ALTER TABLE items ADD COLUMN document_title TEXT;
ALTER TABLE items ADD COLUMN position INTEGER;
CREATE INDEX items_document ON items (document_id);
