-- Background exports (app/src/server/export/jobs.rs). Held in the database,
-- not in the process that runs them, so any portal server reports a job's
-- progress and hands out its file. A job and its file are deleted an hour
-- after its last sign of life (its end, or its server's last heartbeat).
CREATE TABLE export_jobs (
    id              text PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts(id),
    vin             text NOT NULL,
    format          text NOT NULL,
    state           text NOT NULL CHECK (state IN ('running', 'ready', 'failed')),
    rows_expected   bigint NOT NULL,
    bytes_expected  bigint NOT NULL,
    rows_written    bigint NOT NULL DEFAULT 0,
    bytes_written   bigint NOT NULL DEFAULT 0,
    filename        text,
    size            bigint,
    started_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX export_jobs_by_account ON export_jobs(account_id, state);
CREATE INDEX export_jobs_by_update ON export_jobs(updated_at);

-- A finished job's file, in parts of at most 1 MiB (stored out of line by
-- TOAST, uncompressed: CSV compresses, but a bundle is already deflated).
CREATE TABLE export_job_parts (
    job_id  text NOT NULL REFERENCES export_jobs(id) ON DELETE CASCADE,
    seq     integer NOT NULL,
    data    bytea NOT NULL,
    PRIMARY KEY (job_id, seq)
);
ALTER TABLE export_job_parts ALTER COLUMN data SET STORAGE EXTERNAL;
