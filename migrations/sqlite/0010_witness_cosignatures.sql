-- Witnesses' cosignatures (C2SP tlog-cosignature) of the log's checkpoints:
-- the newest one per witness and checkpoint, as received (the line is
-- served with the checkpoint). Times in µs since the epoch.
CREATE TABLE tlog_cosignatures (
    size         INTEGER NOT NULL REFERENCES tlog_checkpoints (size),
    witness      TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    line         TEXT NOT NULL,
    cosigned_at  INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (size, witness, key_id)
);
CREATE INDEX tlog_cosignatures_by_witness ON tlog_cosignatures (witness, key_id, size);
