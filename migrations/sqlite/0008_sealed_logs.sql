-- Sealed logs (interchange format 1.1): the vehicles' certified keys, the
-- seals they made, positions as their own records, and for every record the
-- seal that covers it (NULL: unsealed). docs/evidence.md says what each
-- value means to a verifier.

CREATE TABLE vehicle_keys (
    vehicle_id  INTEGER NOT NULL REFERENCES vehicles(id),
    key_id      TEXT NOT NULL,
    public      TEXT NOT NULL,
    not_before  TEXT NOT NULL,
    ca          TEXT NOT NULL,
    cert        TEXT NOT NULL,
    PRIMARY KEY (vehicle_id, key_id)
);

-- One row per seal as the car wrote it (its fields verbatim), the span of
-- record times it covers, how many records of each class, and the covered
-- lines byte for byte: each line followed by "\n", deflate-compressed.
CREATE TABLE seals (
    id          INTEGER PRIMARY KEY,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicles(id),
    key_id      TEXT NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    count       INTEGER NOT NULL CHECK (count >= 1),
    first_t     TEXT NOT NULL,
    last_t      TEXT NOT NULL,
    prev        TEXT NOT NULL,
    root        TEXT NOT NULL,
    sig         TEXT NOT NULL,
    t_min       INTEGER NOT NULL,
    t_max       INTEGER NOT NULL,
    samples     INTEGER NOT NULL,
    positions   INTEGER NOT NULL,
    events      INTEGER NOT NULL,
    edr         INTEGER NOT NULL,
    covered     BLOB NOT NULL,
    UNIQUE (vehicle_id, key_id, seq),
    FOREIGN KEY (vehicle_id, key_id) REFERENCES vehicle_keys(vehicle_id, key_id)
);
CREATE INDEX seals_by_time ON seals(vehicle_id, t_min);

CREATE TABLE positions (
    vehicle_id   INTEGER NOT NULL REFERENCES vehicles(id),
    t            INTEGER NOT NULL,
    lat          REAL NOT NULL,
    lon          REAL NOT NULL,
    heading_deg  REAL,
    nonce        TEXT NOT NULL,
    seal_id      INTEGER REFERENCES seals(id),
    PRIMARY KEY (vehicle_id, t)
) WITHOUT ROWID;

-- No foreign key on the hot insert path (as in PostgreSQL); the import sets it.
ALTER TABLE samples ADD COLUMN seal_id INTEGER;
ALTER TABLE events ADD COLUMN seal_id INTEGER REFERENCES seals(id);
ALTER TABLE edr_records ADD COLUMN seal_id INTEGER REFERENCES seals(id);
