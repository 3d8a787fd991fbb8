-- Background exports (app/src/server/export/jobs.rs). Held in the database,
-- not in the process that runs them, so any portal server reports a job's
-- progress and hands out its file. A job and its file are deleted an hour
-- after its last sign of life (its end, or its server's last heartbeat).
CREATE TABLE export_jobs (
    id              TEXT PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    vin             TEXT NOT NULL,
    format          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('running', 'ready', 'failed')),
    rows_expected   INTEGER NOT NULL,
    bytes_expected  INTEGER NOT NULL,
    rows_written    INTEGER NOT NULL DEFAULT 0,
    bytes_written   INTEGER NOT NULL DEFAULT 0,
    filename        TEXT,
    size            INTEGER,
    started_us      INTEGER NOT NULL,
    updated_us      INTEGER NOT NULL
);
CREATE INDEX export_jobs_by_account ON export_jobs(account_id, state);
CREATE INDEX export_jobs_by_update ON export_jobs(updated_us);

-- A finished job's file, in parts of at most 1 MiB.
CREATE TABLE export_job_parts (
    job_id  TEXT NOT NULL REFERENCES export_jobs(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
);
