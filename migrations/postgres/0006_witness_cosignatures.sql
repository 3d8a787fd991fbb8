-- Witnesses' cosignatures (C2SP tlog-cosignature) of the log's checkpoints:
-- the newest one per witness and checkpoint, as received (the line is
-- served with the checkpoint).
CREATE TABLE tlog_cosignatures (
    size         bigint NOT NULL REFERENCES tlog_checkpoints (size),
    witness      text NOT NULL,
    key_id       text NOT NULL,
    line         text NOT NULL,
    cosigned_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (size, witness, key_id)
);
CREATE INDEX tlog_cosignatures_by_witness ON tlog_cosignatures (witness, key_id, size);
