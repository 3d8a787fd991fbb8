-- One vocabulary for both backends: the columns PostgreSQL names `t`,
-- `at`, `created_at`, `from_at`, … had a `_us` suffix here. The values do
-- not change (SQLite keeps times as integer microseconds since the epoch,
-- PostgreSQL as timestamptz); only the names do, so one query text and one
-- row decoder can serve both. RENAME COLUMN also rewrites the indexes,
-- constraints and triggers that name a column.

ALTER TABLE accounts RENAME COLUMN created_us TO created_at;
ALTER TABLE audit_log RENAME COLUMN at_us TO at;
ALTER TABLE case_exports RENAME COLUMN created_us TO created_at;
ALTER TABLE cases RENAME COLUMN from_us TO from_at;
ALTER TABLE cases RENAME COLUMN to_us TO to_at;
ALTER TABLE cases RENAME COLUMN created_us TO created_at;
ALTER TABLE claim_codes RENAME COLUMN since_us TO since_at;
ALTER TABLE claim_codes RENAME COLUMN expires_us TO expires_at;
ALTER TABLE claim_codes RENAME COLUMN created_us TO created_at;
ALTER TABLE claim_codes RENAME COLUMN used_us TO used_at;
ALTER TABLE edr_records RENAME COLUMN t0_us TO t0;
ALTER TABLE events RENAME COLUMN t_us TO t;
ALTER TABLE export_jobs RENAME COLUMN started_us TO started_at;
ALTER TABLE export_jobs RENAME COLUMN updated_us TO updated_at;
ALTER TABLE ingest_tokens RENAME COLUMN created_us TO created_at;
ALTER TABLE ingest_tokens RENAME COLUMN revoked_us TO revoked_at;
ALTER TABLE ownership_periods RENAME COLUMN from_us TO from_at;
ALTER TABLE ownership_periods RENAME COLUMN to_us TO to_at;
ALTER TABLE sample_minutes RENAME COLUMN minute_us TO minute;
ALTER TABLE samples RENAME COLUMN t_us TO t;
ALTER TABLE sign_in_failures RENAME COLUMN at_us TO at;
ALTER TABLE vehicles RENAME COLUMN created_us TO created_at;

-- And PostgreSQL's guard against two open ownership periods of one vehicle
-- (here writes are serialised anyway; the claim redemption both backends
-- share relies on it).
CREATE UNIQUE INDEX ownership_one_open ON ownership_periods(vehicle_id) WHERE to_at IS NULL;
