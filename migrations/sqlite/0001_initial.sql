-- Initial schema (SQLite). Times are INTEGER microseconds since the Unix epoch, UTC.
-- Enum and boolean CHECKs are written as OR-ed comparisons, not IN lists: on
-- this hot insert path an IN list costs about twice as much per row.
-- Every vehicle-data table carries vehicle_id first, so each key and index
-- starts with the vehicle and scans stay within one vehicle's time range.

CREATE TABLE vehicles (
    id          INTEGER PRIMARY KEY,
    vin         TEXT NOT NULL UNIQUE CHECK (length(vin) = 17),
    model       TEXT,
    model_year  INTEGER,
    market      TEXT,
    timezone    TEXT NOT NULL,
    edr_ecu     TEXT,
    extra       TEXT,
    created_us  INTEGER NOT NULL
);

CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    account        TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role = 'owner' OR role = 'support' OR role = 'admin'),
    created_us     INTEGER NOT NULL
);

-- A vehicle's owners over time; an owner sees only data recorded inside their period.
CREATE TABLE ownership_periods (
    id          INTEGER PRIMARY KEY,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicles(id),
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    from_us     INTEGER NOT NULL,
    to_us       INTEGER,
    CHECK (to_us IS NULL OR to_us > from_us)
);
CREATE INDEX ownership_by_vehicle ON ownership_periods(vehicle_id, from_us);
CREATE INDEX ownership_by_account ON ownership_periods(account_id);

CREATE TABLE samples (
    vehicle_id          INTEGER NOT NULL REFERENCES vehicles(id),
    t_us                INTEGER NOT NULL,
    speed_kmh           REAL,
    accel_pedal_pct     REAL,
    brake_pedal         INTEGER CHECK (brake_pedal = 0 OR brake_pedal = 1),
    brake_pressure_bar  REAL,
    steering_angle_deg  REAL,
    long_accel_mps2     REAL,
    lat_accel_mps2      REAL,
    yaw_rate_dps        REAL,
    gear                TEXT CHECK (gear = 'P' OR gear = 'R' OR gear = 'N' OR gear = 'D'),
    abs_active          INTEGER CHECK (abs_active = 0 OR abs_active = 1),
    esc_active          INTEGER CHECK (esc_active = 0 OR esc_active = 1),
    aeb_state           TEXT CHECK (aeb_state = 'off' OR aeb_state = 'standby' OR aeb_state = 'warning' OR aeb_state = 'braking'),
    fcw                 INTEGER CHECK (fcw = 0 OR fcw = 1),
    adas_state          TEXT CHECK (adas_state = 'off' OR adas_state = 'available' OR adas_state = 'active'),
    motor_torque_nm     REAL,
    odometer_km         REAL,
    soc_pct             REAL,
    belt_driver         INTEGER CHECK (belt_driver = 0 OR belt_driver = 1),
    lat                 REAL,
    lon                 REAL,
    heading_deg         REAL,
    extra               TEXT,
    PRIMARY KEY (vehicle_id, t_us)
) WITHOUT ROWID;

CREATE TABLE events (
    vehicle_id         INTEGER NOT NULL REFERENCES vehicles(id),
    event_id           TEXT NOT NULL,
    t_us               INTEGER NOT NULL,
    event_type         TEXT NOT NULL,
    severity           TEXT NOT NULL CHECK (severity = 'info' OR severity = 'warning' OR severity = 'critical'),
    trigger_metric     TEXT,
    trigger_value      REAL,
    trigger_threshold  REAL,
    note               TEXT,
    extra              TEXT,
    digest             TEXT NOT NULL,
    PRIMARY KEY (vehicle_id, event_id)
);
CREATE INDEX events_by_time ON events(vehicle_id, t_us);

-- Event data recorder (crash) records, one per crash event.
CREATE TABLE edr_records (
    vehicle_id               INTEGER NOT NULL REFERENCES vehicles(id),
    event_id                 TEXT NOT NULL,
    t0_us                    INTEGER NOT NULL,
    standard                 TEXT,
    trigger_kind             TEXT,
    locked                   INTEGER NOT NULL CHECK (locked = 0 OR locked = 1),
    complete                 INTEGER NOT NULL CHECK (complete = 0 OR complete = 1),
    ignition_cycle_crash     INTEGER,
    ignition_cycle_download  INTEGER,
    max_delta_v_long_kmh     REAL,
    time_max_delta_v_ms      REAL,
    max_delta_v_lat_kmh      REAL,
    belt_driver              TEXT CHECK (belt_driver = 'buckled' OR belt_driver = 'unbuckled' OR belt_driver = 'unknown'),
    pre_crash_rate_hz        REAL NOT NULL,
    delta_v_rate_hz          REAL NOT NULL,
    extra                    TEXT,
    digest                   TEXT NOT NULL,
    PRIMARY KEY (vehicle_id, event_id)
);
CREATE INDEX edr_by_time ON edr_records(vehicle_id, t0_us);

CREATE TABLE edr_airbags (
    vehicle_id  INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    position    TEXT NOT NULL,
    deploy_ms   REAL NOT NULL,
    PRIMARY KEY (vehicle_id, event_id, position),
    FOREIGN KEY (vehicle_id, event_id) REFERENCES edr_records(vehicle_id, event_id)
);

CREATE TABLE edr_pre_crash (
    vehicle_id          INTEGER NOT NULL,
    event_id            TEXT NOT NULL,
    t_ms                INTEGER NOT NULL,
    speed_kmh           REAL,
    accel_pedal_pct     REAL,
    brake_pedal         INTEGER CHECK (brake_pedal = 0 OR brake_pedal = 1),
    brake_pressure_bar  REAL,
    steering_angle_deg  REAL,
    abs_active          INTEGER CHECK (abs_active = 0 OR abs_active = 1),
    esc_active          INTEGER CHECK (esc_active = 0 OR esc_active = 1),
    aeb_state           TEXT CHECK (aeb_state = 'off' OR aeb_state = 'standby' OR aeb_state = 'warning' OR aeb_state = 'braking'),
    engine_rpm          REAL,
    PRIMARY KEY (vehicle_id, event_id, t_ms),
    FOREIGN KEY (vehicle_id, event_id) REFERENCES edr_records(vehicle_id, event_id)
) WITHOUT ROWID;

CREATE TABLE edr_delta_v (
    vehicle_id  INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    t_ms        INTEGER NOT NULL,
    long_kmh    REAL,
    lat_kmh     REAL,
    PRIMARY KEY (vehicle_id, event_id, t_ms),
    FOREIGN KEY (vehicle_id, event_id) REFERENCES edr_records(vehicle_id, event_id)
) WITHOUT ROWID;

-- Append-only audit log; each entry carries the hash of the one before (a hash chain).
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at_us      INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    vin        TEXT,
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_by_vin ON audit_log(vin, seq);
