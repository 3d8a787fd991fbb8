-- Tokens for POST /api/v1/ingest (the data center's pipeline). Only the
-- SHA-256 of a token is kept; a revoked token stays, with when it ended.
-- At most one live token per name.
CREATE TABLE ingest_tokens (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    token_sha256  TEXT NOT NULL UNIQUE,
    created_us    INTEGER NOT NULL,
    revoked_us    INTEGER
);
CREATE UNIQUE INDEX ingest_tokens_one_live ON ingest_tokens(name) WHERE revoked_us IS NULL;
