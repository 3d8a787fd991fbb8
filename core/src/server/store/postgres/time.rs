//! `timestamptz` to and from the store's microseconds since the Unix epoch.
//!
//! PostgreSQL keeps a timestamptz as microseconds since 2000-01-01 UTC, with
//! `infinity` and `-infinity` at the ends of the 64-bit range. The store's
//! open ends (`i64::MAX`, `i64::MIN`) map to those, so a period that has not
//! ended reads back exactly as it was written, and no precision is lost.

use crate::server::store::StoreError;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgRow, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Row, Type};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

/// PostgreSQL's first valid timestamp (4714-11-24 BC), in its own epoch.
const PG_MIN: i64 = -211_813_488_000_000_000;

/// One past PostgreSQL's last valid timestamp (294277-01-01), in its own epoch.
const PG_END: i64 = 9_223_371_331_200_000_000;

/// A time as microseconds since the Unix epoch, stored as timestamptz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ts(pub i64);

impl Ts {
    /// The value on the wire: PostgreSQL's epoch, out-of-range times as infinities.
    pub fn to_pg(self) -> i64 {
        match self.0 {
            i64::MAX => i64::MAX,
            i64::MIN => i64::MIN,
            us => match us.checked_sub(PG_EPOCH_US) {
                Some(v) if v >= PG_END => i64::MAX,
                Some(v) if v < PG_MIN => i64::MIN,
                Some(v) => v,
                None => i64::MIN,
            },
        }
    }

    pub fn from_pg(v: i64) -> Ts {
        match v {
            i64::MAX | i64::MIN => Ts(v),
            v => Ts(v.saturating_add(PG_EPOCH_US)),
        }
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> PgTypeInfo {
        // timestamptz's fixed OID: no lookup by name on each bind.
        PgTypeInfo::with_oid(Oid(1184))
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.extend_from_slice(&self.to_pg().to_be_bytes());
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Postgres> for Ts {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let bytes: [u8; 8] = value.as_bytes()?.try_into()?;
                Ok(Ts::from_pg(i64::from_be_bytes(bytes)))
            }
            // Only simple (unprepared) queries answer in text; we prepare ours.
            PgValueFormat::Text => Err("timestamptz in text format is not expected".into()),
        }
    }
}

/// The Unix epoch as a timestamptz: the origin of minute buckets.
pub(super) const EPOCH: &str = "timestamptz '1970-01-01 00:00:00+00'";

pub(super) fn time(row: &PgRow, i: usize) -> Result<i64, StoreError> {
    Ok(row.try_get::<Ts, _>(i)?.0)
}

pub(super) fn opt_time(row: &PgRow, i: usize) -> Result<Option<i64>, StoreError> {
    Ok(row.try_get::<Option<Ts>, _>(i)?.map(|t| t.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_open_ends_become_infinities() {
        for us in [0, 1, -1, 1_613_873_700_123_456, -62_135_596_800_000_000] {
            assert_eq!(Ts::from_pg(Ts(us).to_pg()), Ts(us));
        }
        assert_eq!(Ts(i64::MAX).to_pg(), i64::MAX);
        assert_eq!(Ts(i64::MIN).to_pg(), i64::MIN);
        assert_eq!(Ts::from_pg(i64::MAX), Ts(i64::MAX));
        // 2000-01-01 is PostgreSQL's zero.
        assert_eq!(Ts(PG_EPOCH_US).to_pg(), 0);
    }
}
