-- How fast this PostgreSQL server stores samples on one connection, with no
-- client at all: server-side COPY of 1 M pre-encoded binary rows from a
-- local file into tables like `samples`. Any import, the portal's included,
-- is bounded by the first figure (BENCHMARKS.md, "The server's own bound").
--
--   createdb -h 127.0.0.1 -U postgres copy_bound
--   psql -h 127.0.0.1 -U postgres -d copy_bound -f benches/postgres/copy_bound.sql
--   dropdb -h 127.0.0.1 -U postgres copy_bound
--
-- Needs a superuser (COPY to and from a server file); writes /tmp/copy_bound_*.bin.
\set ON_ERROR_STOP on
\timing on
CREATE TABLE src AS
SELECT 1::bigint AS vehicle_id,
       timestamptz '2026-01-01' + i * interval '100 milliseconds' AS t,
       random() * 120 AS speed_kmh, random() * 100 AS accel_pedal_pct, i % 7 = 0 AS brake_pedal,
       random() * 50 AS brake_pressure_bar, random() * 90 AS steering_angle_deg,
       random() AS long_accel_mps2, random() AS lat_accel_mps2, random() AS yaw_rate_dps,
       'D'::text AS gear, false AS abs_active, false AS esc_active, 'standby'::text AS aeb_state,
       false AS fcw, 'available'::text AS adas_state, random() * 300 AS motor_torque_nm,
       10000 + i * 0.001::float8 AS odometer_km, 80 - i * 0.00001::float8 AS soc_pct,
       true AS belt_driver, 31 + random() AS lat, 121 + random() AS lon,
       random() * 360 AS heading_deg, NULL::text AS extra
FROM generate_series(1, 1000000) AS i;
COPY src TO '/tmp/copy_bound_wide.bin' (FORMAT binary);
COPY (SELECT vehicle_id, t FROM src) TO '/tmp/copy_bound_key.bin' (FORMAT binary);

-- As `samples`: its key and its checks.
CREATE TABLE keyed (LIKE src, PRIMARY KEY (vehicle_id, t),
    CHECK (gear IN ('P', 'R', 'N', 'D')),
    CHECK (aeb_state IN ('off', 'standby', 'warning', 'braking')),
    CHECK (adas_state IN ('off', 'available', 'active')));
CREATE TABLE keyed_unlogged (LIKE keyed INCLUDING ALL);
ALTER TABLE keyed_unlogged SET UNLOGGED;
CREATE TABLE no_key (LIKE src);
CREATE TABLE key_only (vehicle_id bigint, t timestamptz, PRIMARY KEY (vehicle_id, t));

\echo '== keyed, as samples (three times)'
CHECKPOINT;
COPY keyed FROM '/tmp/copy_bound_wide.bin' (FORMAT binary);
TRUNCATE keyed; CHECKPOINT;
COPY keyed FROM '/tmp/copy_bound_wide.bin' (FORMAT binary);
TRUNCATE keyed; CHECKPOINT;
COPY keyed FROM '/tmp/copy_bound_wide.bin' (FORMAT binary);
\echo '== keyed, unlogged (no WAL)'
CHECKPOINT;
COPY keyed_unlogged FROM '/tmp/copy_bound_wide.bin' (FORMAT binary);
\echo '== no key'
CHECKPOINT;
COPY no_key FROM '/tmp/copy_bound_wide.bin' (FORMAT binary);
\echo '== the key alone (two columns)'
CHECKPOINT;
COPY key_only FROM '/tmp/copy_bound_key.bin' (FORMAT binary);
TRUNCATE key_only; CHECKPOINT;
COPY key_only FROM '/tmp/copy_bound_key.bin' (FORMAT binary);
