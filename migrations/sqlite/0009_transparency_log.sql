-- The audit log becomes the leaves of an append-only Merkle tree (RFC 9162),
-- replacing the hash chain. An entry is appended with its own seq and no
-- link to the one before, so appends never wait on each other; the
-- sequencer later gives it its place in the tree (`leaf`) and signs
-- checkpoints of the tree. The chain's entries become the first leaves, in
-- their order; docs/evidence.md says how a leaf is hashed.
CREATE TABLE audit_log_tree (
    seq      INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    vin      TEXT,
    details  TEXT NOT NULL,
    -- 16 random bytes (hex) in the leaf: its hash, which is public, cannot
    -- be confirmed by guessing the entry's content.
    nonce    TEXT NOT NULL,
    leaf     INTEGER UNIQUE
);
INSERT INTO audit_log_tree (seq, at, actor, action, vin, details, nonce)
    SELECT seq, at, actor, action, vin, details, lower(hex(randomblob(16)))
    FROM audit_log ORDER BY seq;
DROP TABLE audit_log;
ALTER TABLE audit_log_tree RENAME TO audit_log;
CREATE INDEX audit_by_vin ON audit_log(vin, seq);
CREATE INDEX audit_unsequenced ON audit_log(seq) WHERE leaf IS NULL;

-- The hash of every complete subtree: level 0 holds the leaves' hashes,
-- level L index I the subtree over leaves [I·2^L, (I+1)·2^L). Any proof
-- reads O(log n) of them.
CREATE TABLE tlog_nodes (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hash   BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- The tree's size: one row, which the sequencer locks.
CREATE TABLE tlog_state (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    size  INTEGER NOT NULL
);
INSERT INTO tlog_state (id, size) VALUES (1, 0);

-- Every checkpoint signed (C2SP tlog-checkpoint signed notes), by size.
CREATE TABLE tlog_checkpoints (
    size       INTEGER PRIMARY KEY,
    root       BLOB NOT NULL,
    note       TEXT NOT NULL,
    signed_at  INTEGER NOT NULL
);
