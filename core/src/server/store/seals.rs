//! Sealed logs (format 1.1): the vehicles' certified keys and the seals
//! they made, with the lines each covers. Written by the import (through
//! `ImportTx`), read for overviews and bundles.

use super::{StoreError, VehicleId};
use crate::domain::sealed::SealLine;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub type SealId = i64;

/// How many records of each class a seal covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoveredCounts {
    pub samples: u64,
    pub positions: u64,
    pub events: u64,
    pub edr: u64,
}

impl CoveredCounts {
    pub fn plus(self, other: CoveredCounts) -> CoveredCounts {
        CoveredCounts {
            samples: self.samples + other.samples,
            positions: self.positions + other.positions,
            events: self.events + other.events,
            edr: self.edr + other.edr,
        }
    }
}

/// A verified seal, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewSeal<'a> {
    pub line: &'a SealLine,
    /// The earliest and latest record time among the covered lines (µs).
    pub t_min: i64,
    pub t_max: i64,
    pub counts: CoveredCounts,
    /// The covered lines, each followed by `\n`, deflate-compressed.
    pub covered: &'a [u8],
}

/// A seal as held: its id and its fields as the car wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSeal {
    pub id: SealId,
    pub line: SealLine,
}

pub use crate::domain::sealed::MissingBatch;

/// A held seal with the lines it covers (each followed by `\n`, deflated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSeal {
    pub line: SealLine,
    pub covered: Vec<u8>,
}

/// The record classes a seal covers that are shown record by record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedClass {
    Samples,
    Events,
    CrashRecords,
}

impl SealedClass {
    /// Each record of the class in `[$2, $3]` that a seal covers, with the
    /// seal's key: the same SQL in both dialects.
    pub(crate) fn sql(self) -> &'static str {
        match self {
            SealedClass::Samples => {
                "SELECT r.t AS t, '' AS event_id, se.key_id FROM samples r \
                 JOIN seals se ON se.vehicle_id = r.vehicle_id AND se.id = r.seal_id \
                 WHERE r.vehicle_id = $1 AND r.t >= $2 AND r.t <= $3"
            }
            SealedClass::Events => {
                "SELECT r.t AS t, r.event_id, se.key_id FROM events r \
                 JOIN seals se ON se.vehicle_id = r.vehicle_id AND se.id = r.seal_id \
                 WHERE r.vehicle_id = $1 AND r.t >= $2 AND r.t <= $3"
            }
            SealedClass::CrashRecords => {
                "SELECT r.t0 AS t, r.event_id, se.key_id FROM edr_records r \
                 JOIN seals se ON se.vehicle_id = r.vehicle_id AND se.id = r.seal_id \
                 WHERE r.vehicle_id = $1 AND r.t0 >= $2 AND r.t0 <= $3"
            }
        }
    }
}

/// Decodes a row of [`SealedClass::sql`].
pub(crate) fn sealed_record_key(
    row: &impl crate::server::store::decode::StoredRow,
) -> Result<SealedRecordKey, StoreError> {
    Ok(SealedRecordKey {
        t_us: row.time("t")?,
        event_id: row.text("event_id")?,
        key: row.text("key_id")?,
    })
}

/// A sealed record: its time (samples) or event id (events, crash records), and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecordKey {
    pub t_us: i64,
    pub event_id: String,
    pub key: String,
}

/// Reads of what the vehicles sealed.
#[async_trait]
pub trait SealStore: Send + Sync {
    /// Gaps in every key's `seq`, oldest first.
    async fn missing_batches(&self, vehicle: VehicleId) -> Result<Vec<MissingBatch>, StoreError>;
    /// The records of `class` in `[from, to]` that a seal covers, with its key.
    async fn sealed_records(
        &self,
        vehicle: VehicleId,
        class: SealedClass,
        from: i64,
        to: i64,
    ) -> Result<Vec<SealedRecordKey>, StoreError>;
    /// Per class, the lines covered by the seals whose lines reach into
    /// `[from, to)` (a seal reaches from its earliest to its latest line).
    /// With `from > to`: the seals that span the gap `[to, from)`.
    async fn seal_lines(
        &self,
        vehicle: VehicleId,
        from: i64,
        to: i64,
    ) -> Result<CoveredCounts, StoreError>;
    /// How many of the vehicle's positions in `[from, to)` a seal covers.
    async fn sealed_position_count(
        &self,
        vehicle: VehicleId,
        from: i64,
        to: i64,
    ) -> Result<u64, StoreError>;
    /// How many of the vehicle's samples in `[from, to]` a seal covers.
    async fn sealed_sample_count(
        &self,
        vehicle: VehicleId,
        from: i64,
        to: i64,
    ) -> Result<u64, StoreError>;
    /// The vehicle's keys as held.
    async fn vehicle_keys(&self, vehicle: VehicleId) -> Result<Vec<VehicleKey>, StoreError>;
    /// Seals whose covered records reach into `[from, to]`, by key and seq,
    /// after `after` (key, seq): a page of at most `limit`.
    async fn seal_page(
        &self,
        vehicle: VehicleId,
        span: (i64, i64),
        after: Option<(String, u64)>,
        limit: u32,
    ) -> Result<Vec<StoredSeal>, StoreError>;
}

/// The SQL that finds gaps, the same in both dialects: each seal with the
/// seq and `last_t` of the one before it of the same key.
pub(crate) const MISSING_BATCHES_SQL: &str =
    "SELECT key_id, seq, first_t, prev_seq, prev_last_t FROM ( \
       SELECT key_id, seq, first_t, \
              lag(seq) OVER (PARTITION BY key_id ORDER BY seq) AS prev_seq, \
              lag(last_t) OVER (PARTITION BY key_id ORDER BY seq) AS prev_last_t \
       FROM seals WHERE vehicle_id = $1) gaps \
     WHERE seq > coalesce(prev_seq, 0) + 1 ORDER BY key_id, seq";

/// A row of [`MISSING_BATCHES_SQL`] as a gap.
pub(crate) fn missing_batch(
    key: String,
    seq: i64,
    first_t: String,
    prev_seq: Option<i64>,
    prev_last_t: Option<String>,
) -> MissingBatch {
    MissingBatch {
        key,
        from_seq: prev_seq.unwrap_or(0) as u64 + 1,
        to_seq: seq as u64 - 1,
        after: prev_last_t,
        before: first_t,
    }
}

// The SQL both backends run (SQLite reads `$N` as the N-th parameter too).

pub(crate) const VEHICLE_KEYS_SQL: &str =
    "SELECT key_id, public, not_before, ca, cert FROM vehicle_keys WHERE vehicle_id = $1 ORDER BY key_id";

pub(crate) const HELD_KEY_SQL: &str =
    "SELECT key_id, public, not_before, ca, cert FROM vehicle_keys WHERE vehicle_id = $1 AND key_id = $2";

pub(crate) const INSERT_KEY_SQL: &str =
    "INSERT INTO vehicle_keys (vehicle_id, key_id, public, not_before, ca, cert) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const SEAL_PAGE_SQL: &str =
    "SELECT key_id, seq, count, first_t, last_t, prev, root, sig, covered \
     FROM seals WHERE vehicle_id = $1 AND t_min <= $3 AND t_max >= $2 \
     AND (key_id > $4 OR (key_id = $4 AND seq > $5)) ORDER BY key_id, seq LIMIT $6";

pub(crate) const SEALED_SAMPLE_COUNT_SQL: &str =
    "SELECT count(seal_id) FROM samples WHERE vehicle_id = $1 AND t >= $2 AND t <= $3";

/// The lines of each class that the seals reaching into `[$2, $3)` cover,
/// wherever those lines' own times fall.
pub(crate) const SEAL_LINES_SQL: &str =
    "SELECT CAST(coalesce(sum(samples), 0) AS BIGINT) AS samples, \
     CAST(coalesce(sum(positions), 0) AS BIGINT) AS positions, \
     CAST(coalesce(sum(events), 0) AS BIGINT) AS events, \
     CAST(coalesce(sum(edr), 0) AS BIGINT) AS edr \
     FROM seals WHERE vehicle_id = $1 AND t_min < $3 AND t_max >= $2";

pub(crate) const SEALED_POSITION_COUNT_SQL: &str =
    "SELECT count(seal_id) FROM positions WHERE vehicle_id = $1 AND t >= $2 AND t < $3";

pub(crate) const MAX_SEQ_SQL: &str =
    "SELECT max(seq) FROM seals WHERE vehicle_id = $1 AND key_id = $2";

pub(crate) const HELD_SEAL_SQL: &str =
    "SELECT id, key_id, seq, count, first_t, last_t, prev, root, sig \
     FROM seals WHERE vehicle_id = $1 AND key_id = $2 AND seq = $3";

/// The head of a many-row insert of seals (the values follow).
pub(crate) const INSERT_SEALS_SQL: &str =
    "INSERT INTO seals (vehicle_id, key_id, seq, count, first_t, last_t, prev, root, sig, \
     t_min, t_max, samples, positions, events, edr, covered) ";

/// A position is the location of the sample at the same instant.
pub(crate) const LOCATE_SAMPLES_SQL: &str =
    "UPDATE samples SET lat = p.lat, lon = p.lon, heading_deg = p.heading_deg \
     FROM positions p WHERE samples.vehicle_id = $1 AND p.vehicle_id = $1 AND p.t = samples.t \
     AND p.t BETWEEN $2 AND $3 AND samples.lat IS NULL";

pub(crate) const HELD_POSITION_SQL: &str =
    "SELECT lat, lon, heading_deg, nonce FROM positions WHERE vehicle_id = $1 AND t = $2";

pub(crate) const INSERT_POSITION_SQL: &str =
    "INSERT INTO positions (vehicle_id, t, lat, lon, heading_deg, nonce, seal_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (vehicle_id, t) DO NOTHING";

use super::decode::StoredRow;
use crate::domain::records::Position;
use crate::domain::sealed::VehicleKey;

pub(crate) fn vehicle_key(row: &impl StoredRow) -> Result<VehicleKey, StoreError> {
    Ok(VehicleKey {
        id: row.text("key_id")?,
        public: row.text("public")?,
        not_before: row.text("not_before")?,
        ca: row.text("ca")?,
        cert: row.text("cert")?,
    })
}

pub(crate) fn held_seal(row: &impl StoredRow, vin: &str) -> Result<HeldSeal, StoreError> {
    Ok(HeldSeal {
        id: row.int("id")?,
        line: seal_line(row, vin)?,
    })
}

/// A seal's fields as the car wrote them (`vin` is not stored per seal).
pub(crate) fn seal_line(row: &impl StoredRow, vin: &str) -> Result<SealLine, StoreError> {
    Ok(SealLine {
        kind: "seal".into(),
        vin: vin.into(),
        key: row.text("key_id")?,
        seq: row.int("seq")? as u64,
        count: row.int("count")? as u64,
        first_t: row.text("first_t")?,
        last_t: row.text("last_t")?,
        prev: row.text("prev")?,
        root: row.text("root")?,
        sig: row.text("sig")?,
    })
}

/// A held key with the same id and other content is a conflict.
pub(crate) fn key_outcome(
    held: Option<VehicleKey>,
    new: &VehicleKey,
) -> Option<super::WriteOutcome> {
    held.map(|held| {
        if held == *new {
            super::WriteOutcome::Duplicate
        } else {
            super::WriteOutcome::Conflict {
                differences: format!(
                    "key {} is held with another public key or certificate",
                    new.id
                ),
            }
        }
    })
}

/// A held position at the same instant: a duplicate, or a conflict naming what differs.
pub(crate) fn position_outcome(
    row: &impl StoredRow,
    new: &Position,
) -> Result<super::WriteOutcome, StoreError> {
    let held = (
        row.real("lat")?,
        row.real("lon")?,
        row.opt_real("heading_deg")?,
        row.text("nonce")?,
    );
    Ok(
        if held == (new.lat, new.lon, new.heading_deg, new.nonce.clone()) {
            super::WriteOutcome::Duplicate
        } else {
            super::WriteOutcome::Conflict {
                differences: "a position is held at this instant with other values".into(),
            }
        },
    )
}

/// The writes and reads of this file for one backend: the SQL and row
/// decoders above are shared; a backend brings its connection and database
/// types, its store and how it binds a time (`sqlite/seals.rs`, `postgres/seals.rs`).
macro_rules! backend_seals {
    ($conn:ty, $db:ty, $store:ty, $time:expr) => {
        use sqlx::Row as _;
        use $crate::domain::records::Position;
        use $crate::domain::sealed::VehicleKey;
        use $crate::server::store::seals::{
            HELD_KEY_SQL, HELD_POSITION_SQL, HELD_SEAL_SQL, INSERT_KEY_SQL, INSERT_POSITION_SQL,
            LOCATE_SAMPLES_SQL, MAX_SEQ_SQL, MISSING_BATCHES_SQL, SEALED_POSITION_COUNT_SQL,
            SEALED_SAMPLE_COUNT_SQL, SEAL_LINES_SQL, SEAL_PAGE_SQL, VEHICLE_KEYS_SQL,
        };
        use $crate::server::store::{
            HeldSeal, MissingBatch, SealId, SealStore, SealedClass, SealedRecordKey, StoreError,
            StoredSeal, VehicleId, WriteOutcome,
        };

        pub(in crate::server::store) async fn vehicle_keys(
            conn: &mut $conn,
            vehicle: VehicleId,
        ) -> Result<Vec<VehicleKey>, StoreError> {
            let rows = sqlx::query(VEHICLE_KEYS_SQL)
                .bind(vehicle)
                .fetch_all(conn)
                .await?;
            rows.iter()
                .map($crate::server::store::seals::vehicle_key)
                .collect()
        }

        pub(in crate::server::store) async fn put_vehicle_key(
            conn: &mut $conn,
            vehicle: VehicleId,
            key: &VehicleKey,
        ) -> Result<WriteOutcome, StoreError> {
            let held = sqlx::query(HELD_KEY_SQL)
                .bind(vehicle)
                .bind(&key.id)
                .fetch_optional(&mut *conn)
                .await?;
            let held = held
                .as_ref()
                .map($crate::server::store::seals::vehicle_key)
                .transpose()?;
            if let Some(outcome) = $crate::server::store::seals::key_outcome(held, key) {
                return Ok(outcome);
            }
            sqlx::query(INSERT_KEY_SQL)
                .bind(vehicle)
                .bind(&key.id)
                .bind(&key.public)
                .bind(&key.not_before)
                .bind(&key.ca)
                .bind(&key.cert)
                .execute(conn)
                .await?;
            Ok(WriteOutcome::Inserted)
        }

        pub(in crate::server::store) async fn held_seal(
            conn: &mut $conn,
            vehicle: VehicleId,
            vin: &str,
            key: &str,
            seq: u64,
        ) -> Result<Option<HeldSeal>, StoreError> {
            let row = sqlx::query(HELD_SEAL_SQL)
                .bind(vehicle)
                .bind(key)
                .bind(seq as i64)
                .fetch_optional(conn)
                .await?;
            row.as_ref()
                .map(|r| $crate::server::store::seals::held_seal(r, vin))
                .transpose()
        }

        /// What a position not inserted meets: the same values held, or others.
        pub(in crate::server::store) async fn held_position_outcome(
            conn: &mut $conn,
            vehicle: VehicleId,
            p: &Position,
        ) -> Result<WriteOutcome, StoreError> {
            let held = sqlx::query(HELD_POSITION_SQL)
                .bind(vehicle)
                .bind(($time)(p.t_us))
                .fetch_one(&mut *conn)
                .await?;
            $crate::server::store::seals::position_outcome(&held, p)
        }

        pub(in crate::server::store) async fn put_position(
            conn: &mut $conn,
            vehicle: VehicleId,
            p: &Position,
            seal: Option<SealId>,
        ) -> Result<WriteOutcome, StoreError> {
            let done = sqlx::query(INSERT_POSITION_SQL)
                .bind(vehicle)
                .bind(($time)(p.t_us))
                .bind(p.lat)
                .bind(p.lon)
                .bind(p.heading_deg)
                .bind(&p.nonce)
                .bind(seal)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() == 1 {
                return Ok(WriteOutcome::Inserted);
            }
            held_position_outcome(conn, vehicle, p).await
        }

        pub(in crate::server::store) async fn max_seal_seq(
            conn: &mut $conn,
            vehicle: VehicleId,
            key: &str,
        ) -> Result<u64, StoreError> {
            let max: Option<i64> = sqlx::query_scalar(MAX_SEQ_SQL)
                .bind(vehicle)
                .bind(key)
                .fetch_one(conn)
                .await?;
            Ok(max.unwrap_or(0) as u64)
        }

        pub(in crate::server::store) async fn locate_samples(
            conn: &mut $conn,
            vehicle: VehicleId,
            from: i64,
            to: i64,
        ) -> Result<(), StoreError> {
            sqlx::query(LOCATE_SAMPLES_SQL)
                .bind(vehicle)
                .bind(($time)(from))
                .bind(($time)(to))
                .execute(conn)
                .await?;
            Ok(())
        }

        pub(in crate::server::store) async fn missing_batches<'e, E>(
            executor: E,
            vehicle: VehicleId,
        ) -> Result<Vec<MissingBatch>, StoreError>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let rows = sqlx::query(MISSING_BATCHES_SQL)
                .bind(vehicle)
                .fetch_all(executor)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok($crate::server::store::seals::missing_batch(
                        r.try_get("key_id")?,
                        r.try_get("seq")?,
                        r.try_get("first_t")?,
                        r.try_get("prev_seq")?,
                        r.try_get("prev_last_t")?,
                    ))
                })
                .collect()
        }

        /// A count over one vehicle and a time span (`$1`, `$2`, `$3`).
        async fn count_in<'e, E>(
            executor: E,
            sql: &'static str,
            vehicle: VehicleId,
            from: i64,
            to: i64,
        ) -> Result<u64, StoreError>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let n: i64 = sqlx::query_scalar(sql)
                .bind(vehicle)
                .bind(($time)(from))
                .bind(($time)(to))
                .fetch_one(executor)
                .await?;
            Ok(n.max(0) as u64)
        }

        #[async_trait::async_trait]
        impl SealStore for $store {
            async fn missing_batches(
                &self,
                vehicle: VehicleId,
            ) -> Result<Vec<MissingBatch>, StoreError> {
                missing_batches(&self.pool, vehicle).await
            }

            async fn seal_lines(
                &self,
                vehicle: VehicleId,
                from: i64,
                to: i64,
            ) -> Result<$crate::server::store::CoveredCounts, StoreError> {
                let row = sqlx::query(SEAL_LINES_SQL)
                    .bind(vehicle)
                    .bind(($time)(from))
                    .bind(($time)(to))
                    .fetch_one(&self.pool)
                    .await?;
                let count = |column: &str| -> Result<u64, StoreError> {
                    Ok(row.try_get::<i64, _>(column)?.max(0) as u64)
                };
                Ok($crate::server::store::CoveredCounts {
                    samples: count("samples")?,
                    positions: count("positions")?,
                    events: count("events")?,
                    edr: count("edr")?,
                })
            }

            async fn sealed_position_count(
                &self,
                vehicle: VehicleId,
                from: i64,
                to: i64,
            ) -> Result<u64, StoreError> {
                count_in(&self.pool, SEALED_POSITION_COUNT_SQL, vehicle, from, to).await
            }

            async fn sealed_sample_count(
                &self,
                vehicle: VehicleId,
                from: i64,
                to: i64,
            ) -> Result<u64, StoreError> {
                count_in(&self.pool, SEALED_SAMPLE_COUNT_SQL, vehicle, from, to).await
            }

            async fn sealed_records(
                &self,
                vehicle: VehicleId,
                class: SealedClass,
                from: i64,
                to: i64,
            ) -> Result<Vec<SealedRecordKey>, StoreError> {
                // Each backend reads these its own way (`read_sealed_records`).
                self.read_sealed_records(vehicle, class, from, to).await
            }

            async fn vehicle_keys(
                &self,
                vehicle: VehicleId,
            ) -> Result<Vec<VehicleKey>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                vehicle_keys(&mut conn, vehicle).await
            }

            async fn seal_page(
                &self,
                vehicle: VehicleId,
                (from, to): (i64, i64),
                after: Option<(String, u64)>,
                limit: u32,
            ) -> Result<Vec<StoredSeal>, StoreError> {
                let (after_key, after_seq) = after.unwrap_or_default();
                let rows = sqlx::query(SEAL_PAGE_SQL)
                    .bind(vehicle)
                    .bind(($time)(from))
                    .bind(($time)(to))
                    .bind(after_key)
                    .bind(after_seq as i64)
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(StoredSeal {
                            line: $crate::server::store::seals::seal_line(r, "")?,
                            covered: r.try_get("covered")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use backend_seals;
