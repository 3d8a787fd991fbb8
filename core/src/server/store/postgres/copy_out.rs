//! Sample pages read by `COPY (SELECT …) TO STDOUT (FORMAT binary)` and
//! decoded here: for long exports this is about twice as fast as decoding
//! rows through the query protocol, and it is what PostgreSQL's own fastest
//! extract (`COPY … TO STDOUT`) does.
//!
//! `COPY` takes no bind parameters, so the statement carries its values as
//! literals; every one is a number, a time or one of our own enum names,
//! never text from a request.

use super::samples::SAMPLE_COLUMNS;
use super::time::Ts;
use crate::domain::log_format::{AdasState, AebState, Gear, SampleChannels};
use crate::domain::records::Sample;
use crate::server::store::rows::parse_wire;
use crate::server::store::sql::{self, Part, Query, SqlValue};
use crate::server::store::{PageRequest, SampleFilter, StoreError, TimeRange, VehicleId};
use futures::TryStreamExt;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::PgPool;

/// A timestamptz literal; open ends are the infinities.
fn time_literal(us: i64) -> String {
    match Ts(us).to_pg() {
        i64::MAX => "'infinity'::timestamptz".to_string(),
        i64::MIN => "'-infinity'::timestamptz".to_string(),
        _ => match chrono::DateTime::from_timestamp_micros(us) {
            Some(t) => format!(
                "'{}'::timestamptz",
                t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            ),
            None => "'infinity'::timestamptz".to_string(),
        },
    }
}

fn float_literal(v: f64) -> String {
    if v.is_nan() {
        "'NaN'::float8".to_string()
    } else if v.is_infinite() {
        format!("'{}Infinity'::float8", if v < 0.0 { "-" } else { "" })
    } else {
        format!("{v:?}::float8")
    }
}

/// A shared query with its values written as literals (COPY takes no bind
/// parameters). Every value is a number, a boolean, a time or one of the
/// enums' own names, so nothing from a request reaches the SQL as text.
fn with_literals(query: Query) -> String {
    let mut sql = String::new();
    for part in query.0 {
        match part {
            Part::Sql(text) => sql.push_str(&text),
            Part::Value(value) => sql.push_str(&literal(value)),
        }
    }
    sql
}

fn literal(value: SqlValue) -> String {
    match value {
        SqlValue::Int(v) => v.to_string(),
        SqlValue::Time(v) => time_literal(v),
        SqlValue::Real(v) => float_literal(v),
        SqlValue::Bool(v) => v.to_string(),
        SqlValue::Name(v) => format!("'{v}'"),
        SqlValue::Names(names) => format!(
            " IN ({})",
            names
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        // Not used by sample reads; quoted all the same.
        SqlValue::Text(v) => format!("'{}'", v.replace('\'', "''")),
    }
}

fn page_sql(
    vehicle: VehicleId,
    ranges: &[TimeRange],
    filter: &SampleFilter,
    page: PageRequest,
) -> String {
    let order = if page.descending { "DESC" } else { "ASC" };
    format!(
        "COPY (SELECT {SAMPLE_COLUMNS} FROM samples{} ORDER BY t {order} LIMIT {}) TO STDOUT (FORMAT binary)",
        with_literals(sql::sample_where(vehicle, ranges, filter)),
        page.limit
    )
}

/// Reads one page of samples (ranges already narrowed to the cursor).
pub(super) async fn sample_page(
    pool: &PgPool,
    vehicle: VehicleId,
    ranges: &[TimeRange],
    filter: &SampleFilter,
    page: PageRequest,
) -> Result<Vec<Sample>, StoreError> {
    let sql = page_sql(vehicle, ranges, filter, page);
    let mut stream = pool.copy_out_raw(&sql).await?;
    let mut data = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        data.extend_from_slice(&chunk);
    }
    decode(&data).map_err(|e| StoreError::Corrupt(format!("COPY output: {e}")))
}

/// A cursor over binary COPY data.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.data.len() < n {
            return Err("truncated".into());
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// The next field's bytes, `None` for NULL.
    fn field(&mut self) -> Result<Option<&'a [u8]>, String> {
        match self.i32()? {
            -1 => Ok(None),
            n if n >= 0 => Ok(Some(self.take(n as usize)?)),
            n => Err(format!("field length {n}")),
        }
    }

    fn int8(&mut self) -> Result<Option<i64>, String> {
        self.field()?
            .map(|b| {
                b.try_into()
                    .map(i64::from_be_bytes)
                    .map_err(|_| "int8 size".to_string())
            })
            .transpose()
    }

    fn float8(&mut self) -> Result<Option<f64>, String> {
        self.field()?
            .map(|b| {
                b.try_into()
                    .map(f64::from_be_bytes)
                    .map_err(|_| "float8 size".to_string())
            })
            .transpose()
    }

    fn bool(&mut self) -> Result<Option<bool>, String> {
        Ok(self.field()?.map(|b| b.first() == Some(&1)))
    }

    fn text(&mut self) -> Result<Option<String>, String> {
        self.field()?
            .map(|b| String::from_utf8(b.to_vec()).map_err(|e| e.to_string()))
            .transpose()
    }
}

fn wire<T>(
    v: Option<String>,
    parse: fn(&str) -> Option<T>,
    column: &str,
) -> Result<Option<T>, String> {
    parse_wire(v, parse, column).map_err(|e| e.to_string())
}

/// Decodes rows of `SAMPLE_COLUMNS`, in order.
fn decode(data: &[u8]) -> Result<Vec<Sample>, String> {
    let mut r = Reader { data };
    if r.take(11)? != b"PGCOPY\n\xff\r\n\0" {
        return Err("not binary COPY data".into());
    }
    r.i32()?; // flags
    let extension = r.i32()?;
    r.take(extension.max(0) as usize)?;
    let mut samples = Vec::new();
    loop {
        match r.i16()? {
            -1 => return Ok(samples),
            24 => {}
            n => return Err(format!("{n} fields in a row, expected 24")),
        }
        r.int8()?; // vehicle_id
        let t_us = Ts::from_pg(r.int8()?.ok_or("t is NULL")?).0;
        let channels = SampleChannels {
            speed_kmh: r.float8()?,
            accel_pedal_pct: r.float8()?,
            brake_pedal: r.bool()?,
            brake_pressure_bar: r.float8()?,
            steering_angle_deg: r.float8()?,
            long_accel_mps2: r.float8()?,
            lat_accel_mps2: r.float8()?,
            yaw_rate_dps: r.float8()?,
            gear: wire(r.text()?, Gear::parse, "gear")?,
            abs_active: r.bool()?,
            esc_active: r.bool()?,
            aeb_state: wire(r.text()?, AebState::parse, "aeb_state")?,
            fcw: r.bool()?,
            adas_state: wire(r.text()?, AdasState::parse, "adas_state")?,
            motor_torque_nm: r.float8()?,
            odometer_km: r.float8()?,
            soc_pct: r.float8()?,
            belt_driver: r.bool()?,
            lat: r.float8()?,
            lon: r.float8()?,
            heading_deg: r.float8()?,
        };
        let extra = r.text()?;
        samples.push(Sample {
            t_us,
            channels,
            extra,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_numbers_times_and_infinities() {
        assert_eq!(time_literal(i64::MAX), "'infinity'::timestamptz");
        assert_eq!(time_literal(i64::MIN), "'-infinity'::timestamptz");
        assert_eq!(
            time_literal(1_613_873_700_123_456),
            "'2021-02-21T02:15:00.123456Z'::timestamptz"
        );
        assert_eq!(float_literal(100.0), "100.0::float8");
        assert_eq!(float_literal(1e-7), "1e-7::float8");
        assert_eq!(float_literal(f64::NEG_INFINITY), "'-Infinity'::float8");
        assert_eq!(float_literal(f64::NAN), "'NaN'::float8");
    }
}
