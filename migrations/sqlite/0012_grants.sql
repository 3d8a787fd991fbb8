-- Grants: an owner lets a third party of their choice (an insurer, a repair
-- shop, a lawyer, family) read one vehicle's data, within a scope: data
-- classes, a location level, a time window ([from_at, to_at); a continuous
-- grant's to_at is open, i64::MAX) and an expiry. The recipient's token is
-- kept only as a SHA-256. A grant is never deleted: revoked grants stay,
-- with when and why (`owner` or `transfer`), so the owner's access page can
-- name the grant behind every read.
CREATE TABLE grants (
    id                INTEGER PRIMARY KEY,
    vehicle_id        INTEGER NOT NULL REFERENCES vehicles(id),
    owner_account_id  INTEGER NOT NULL REFERENCES accounts(id),
    recipient         TEXT NOT NULL,
    recipient_kind    TEXT NOT NULL CHECK (recipient_kind IN ('insurer', 'repairer', 'lawyer', 'family', 'other')),
    purpose           TEXT NOT NULL,
    classes           TEXT NOT NULL,
    location          TEXT NOT NULL CHECK (location IN ('none', 'coarse', 'full')),
    from_at           INTEGER NOT NULL,
    to_at             INTEGER NOT NULL,
    continuous        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    token_sha256      TEXT NOT NULL UNIQUE,
    created_at        INTEGER NOT NULL,
    revoked_at        INTEGER,
    revoked_reason    TEXT CHECK (revoked_reason IN ('owner', 'transfer')),
    CHECK (to_at > from_at)
);
CREATE INDEX grants_by_vehicle ON grants(vehicle_id, owner_account_id, id);
