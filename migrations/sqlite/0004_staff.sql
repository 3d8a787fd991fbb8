-- Support console: staff second factor, cases, and the bundles attached to them.

-- Staff sign in with a password and a TOTP code (RFC 6238). The secret is
-- base32; the last step used guards against a code being replayed.
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER;

-- A case ties staff access to one vehicle, one owner and a stated purpose.
-- Staff read only inside an open case, and only the data it covers:
-- [from_us, to_us) within the periods of the case's owner.
CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    case_no           TEXT NOT NULL UNIQUE,
    vehicle_id        INTEGER NOT NULL REFERENCES vehicles(id),
    owner_account_id  INTEGER REFERENCES accounts(id),
    subject           TEXT NOT NULL,
    purpose           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status = 'open' OR status = 'waiting' OR status = 'closed'),
    from_us           INTEGER NOT NULL,
    to_us             INTEGER NOT NULL,
    created_by        INTEGER NOT NULL REFERENCES accounts(id),
    created_us        INTEGER NOT NULL,
    CHECK (to_us > from_us)
);
CREATE INDEX cases_by_vehicle ON cases(vehicle_id, id);
CREATE INDEX cases_by_owner ON cases(owner_account_id, id);

-- Evidence bundles exported to a case, kept with it (in the database, so any
-- portal server can hand them out) for the recipient named.
CREATE TABLE case_exports (
    bundle_id        TEXT PRIMARY KEY,
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    manifest_sha256  TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    legal_basis      TEXT NOT NULL,
    created_by       INTEGER NOT NULL REFERENCES accounts(id),
    created_us       INTEGER NOT NULL,
    size             INTEGER NOT NULL,
    bundle           BLOB NOT NULL
);
CREATE INDEX case_exports_by_case ON case_exports(case_id, created_us);
