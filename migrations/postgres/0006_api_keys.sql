-- API keys: only the SHA-256 of a key is kept (the key is shown once, when created); scopes and
-- collections are JSON arrays (collections NULL: every collection). A revoked key keeps its row
-- (revoked_at set) so that logs naming its id stay explainable.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    collections TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
