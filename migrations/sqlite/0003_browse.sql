-- Per-minute summaries of the charted channels, so a week draws from about
-- 10,000 rows instead of a million. Kept in step with `samples` by every import
-- (same transaction). Minute buckets start at multiples of 60 s UTC.
CREATE TABLE sample_minutes (
    vehicle_id            INTEGER NOT NULL REFERENCES vehicles(id),
    minute_us             INTEGER NOT NULL,
    n                     INTEGER NOT NULL,
    speed_kmh_min         REAL,
    speed_kmh_max         REAL,
    accel_pedal_pct_min   REAL,
    accel_pedal_pct_max   REAL,
    brake_pressure_bar_min REAL,
    brake_pressure_bar_max REAL,
    steering_angle_deg_min REAL,
    steering_angle_deg_max REAL,
    brake_pedal_min       INTEGER,
    brake_pedal_max       INTEGER,
    abs_active_min        INTEGER,
    abs_active_max        INTEGER,
    -- AEB state as its level: off 0, standby 1, warning 2, braking 3.
    aeb_level_min         INTEGER,
    aeb_level_max         INTEGER,
    PRIMARY KEY (vehicle_id, minute_us)
) WITHOUT ROWID;

INSERT INTO sample_minutes
SELECT vehicle_id, (t_us / 60000000) * 60000000, count(*),
       min(speed_kmh), max(speed_kmh), min(accel_pedal_pct), max(accel_pedal_pct),
       min(brake_pressure_bar), max(brake_pressure_bar),
       min(steering_angle_deg), max(steering_angle_deg),
       min(brake_pedal), max(brake_pedal), min(abs_active), max(abs_active),
       min(CASE aeb_state WHEN 'off' THEN 0 WHEN 'standby' THEN 1 WHEN 'warning' THEN 2 WHEN 'braking' THEN 3 END),
       max(CASE aeb_state WHEN 'off' THEN 0 WHEN 'standby' THEN 1 WHEN 'warning' THEN 2 WHEN 'braking' THEN 3 END)
FROM samples GROUP BY vehicle_id, t_us / 60000000;

-- Events are listed by type within a vehicle's time range.
CREATE INDEX events_by_type ON events(vehicle_id, event_type, t_us);
