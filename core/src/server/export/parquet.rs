//! Parquet for analysts: one typed column per exported channel (numbers as
//! DOUBLE, on/off as BOOLEAN, codes as UTF-8 strings; absent values null),
//! `t` as UTC microseconds (`TIMESTAMP(MICROS, true)`), the vehicle's zone,
//! the units and the location level in the file's key-value metadata.
//! Streamed: rows are gathered into row groups of at most `ROW_GROUP_ROWS`,
//! each written out and handed on before the next, so memory stays flat
//! whatever the export's size. Pages are Snappy-compressed.

use super::channels::{reader, ChannelReader, ChannelValue, Shared};
use super::{for_each_sample, Plan, Sink};
use crate::domain::log_format::SampleChannels;
use crate::server::error::ServiceError;
use crate::server::store::Store;
use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::parser::parse_message_type;
use std::sync::Arc;

/// Rows per row group: a reader skips whole groups by their statistics,
/// and the writer holds one group's values at a time (21 channels: a few MB).
pub(crate) const ROW_GROUP_ROWS: usize = 65_536;

/// What a Parquet export held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParquetStats {
    pub rows: u64,
    pub row_groups: u64,
}

fn failed(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("writing Parquet: {e}"))
}

/// One row group's values of one column, with its definition levels
/// (1: a value, 0: null).
enum Values {
    Number(Vec<f64>),
    Flag(Vec<bool>),
    Code(Vec<ByteArray>),
}

struct Column {
    read: ChannelReader,
    values: Values,
    defined: Vec<i16>,
}

impl Column {
    fn new(name: &str) -> (Column, &'static str) {
        let read = reader(name);
        let (values, physical) = match read(&SampleChannels::default(), &no_positions()) {
            ChannelValue::Number(_) => (Values::Number(Vec::new()), "DOUBLE"),
            ChannelValue::Flag(_) => (Values::Flag(Vec::new()), "BOOLEAN"),
            ChannelValue::Code(_) => (Values::Code(Vec::new()), "BYTE_ARRAY"),
        };
        let column = Column {
            read,
            values,
            defined: Vec::with_capacity(ROW_GROUP_ROWS),
        };
        (column, physical)
    }

    fn push(&mut self, value: ChannelValue) {
        let present = match (&mut self.values, value) {
            (Values::Number(v), ChannelValue::Number(Some(x))) => {
                v.push(x);
                1
            }
            (Values::Flag(v), ChannelValue::Flag(Some(x))) => {
                v.push(x);
                1
            }
            (Values::Code(v), ChannelValue::Code(Some(x))) => {
                v.push(ByteArray::from(x));
                1
            }
            _ => 0,
        };
        self.defined.push(present);
    }

    /// Writes the group's values into the column's chunk, and forgets them.
    fn write(&mut self, mut out: SerializedColumnWriter<'_>) -> Result<(), ServiceError> {
        let levels = Some(self.defined.as_slice());
        match &mut self.values {
            Values::Number(v) => {
                out.typed::<DoubleType>()
                    .write_batch(v, levels, None)
                    .map_err(failed)?;
                v.clear();
            }
            Values::Flag(v) => {
                out.typed::<BoolType>()
                    .write_batch(v, levels, None)
                    .map_err(failed)?;
                v.clear();
            }
            Values::Code(v) => {
                out.typed::<ByteArrayType>()
                    .write_batch(v, levels, None)
                    .map_err(failed)?;
                v.clear();
            }
        }
        self.defined.clear();
        out.close().map_err(failed)
    }
}

/// A view that shows nothing (only to learn a channel's kind).
fn no_positions() -> crate::server::privacy::PositionView {
    crate::server::privacy::PositionView {
        level: crate::domain::export::LocationRedaction::None,
        zones: Vec::new(),
    }
}

/// Writes `times` and `columns` as one row group.
fn write_group(
    writer: &mut SerializedFileWriter<Shared>,
    times: &mut Vec<i64>,
    columns: &mut [Column],
) -> Result<(), ServiceError> {
    let mut group = writer.next_row_group().map_err(failed)?;
    let mut t = group
        .next_column()
        .map_err(failed)?
        .ok_or_else(|| failed("no column for t"))?;
    t.typed::<Int64Type>()
        .write_batch(times, None, None)
        .map_err(failed)?;
    t.close().map_err(failed)?;
    times.clear();
    for column in columns {
        let out = group
            .next_column()
            .map_err(failed)?
            .ok_or_else(|| failed("fewer columns than the schema"))?;
        column.write(out)?;
    }
    group.close().map_err(failed)?;
    writer.flush().map_err(failed)
}

pub(crate) async fn write(
    store: Arc<dyn Store>,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<ParquetStats, ServiceError> {
    let vehicle = &plan.access.vehicle.vehicle;
    let chosen = super::csv::columns(plan);
    let mut schema =
        String::from("message vehicle_samples {\n  REQUIRED INT64 t (TIMESTAMP(MICROS,true));\n");
    let mut columns = Vec::with_capacity(chosen.len());
    for (name, _) in &chosen {
        let (column, physical) = Column::new(name);
        let logical = if physical == "BYTE_ARRAY" {
            " (STRING)"
        } else {
            ""
        };
        schema.push_str(&format!("  OPTIONAL {physical} {name}{logical};\n"));
        columns.push(column);
    }
    schema.push('}');
    let schema = Arc::new(parse_message_type(&schema).map_err(failed)?);
    let units: serde_json::Map<String, serde_json::Value> = chosen
        .iter()
        .filter(|(_, unit)| !unit.is_empty())
        .map(|(name, unit)| (name.to_string(), unit.to_string().into()))
        .collect();
    let metadata = [
        ("vin", vehicle.vin.to_string()),
        ("vehicle_timezone", vehicle.timezone.clone()),
        (
            "t",
            "UTC microseconds; local time is t in vehicle_timezone".into(),
        ),
        ("units", serde_json::Value::Object(units).to_string()),
        ("location_redaction", plan.positions.level.as_str().into()),
        (
            "privacy_zones_applied",
            plan.positions.zones_applied().to_string(),
        ),
    ];
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("Vehicle data portal {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(
            metadata
                .into_iter()
                .map(|(k, v)| KeyValue::new(k.to_string(), v))
                .collect(),
        ))
        .build();
    let written = Shared::default();
    let mut writer =
        SerializedFileWriter::new(written.clone(), schema, Arc::new(properties)).map_err(failed)?;
    let mut times: Vec<i64> = Vec::with_capacity(ROW_GROUP_ROWS);
    let mut stats = ParquetStats::default();
    stats.rows = for_each_sample(&store, plan, sink, |s, out| {
        times.push(s.t_us);
        for column in columns.iter_mut() {
            column.push((column.read)(&s.channels, &plan.positions));
        }
        if times.len() == ROW_GROUP_ROWS {
            write_group(&mut writer, &mut times, &mut columns)?;
            stats.row_groups += 1;
            written.drain_into(out);
        }
        Ok(())
    })
    .await?;
    if !times.is_empty() {
        write_group(&mut writer, &mut times, &mut columns)?;
        stats.row_groups += 1;
    }
    writer.close().map_err(failed)?;
    written.drain_into(sink.buffer());
    Ok(stats)
}
