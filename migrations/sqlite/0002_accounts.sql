-- Owner accounts: claim codes, session invalidation, sign-in throttling.

-- Bumped on a password change: sessions signed in under an older epoch end.
ALTER TABLE accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

-- One-time codes that let a vehicle's next owner bind it. Only a hash is kept.
CREATE TABLE claim_codes (
    id          INTEGER PRIMARY KEY,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicles(id),
    code_hash   TEXT NOT NULL UNIQUE,
    since_us    INTEGER NOT NULL,
    expires_us  INTEGER NOT NULL,
    created_us  INTEGER NOT NULL,
    used_us     INTEGER,
    used_by     INTEGER REFERENCES accounts(id)
);
CREATE INDEX claim_codes_by_vehicle ON claim_codes(vehicle_id);

-- Failed sign-ins per key (`account:…` or `address:…`), for throttling.
-- Kept in the database so every portal server sees the same counts.
CREATE TABLE sign_in_failures (
    key    TEXT NOT NULL,
    at_us  INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures(key, at_us);
