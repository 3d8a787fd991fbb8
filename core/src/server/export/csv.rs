//! CSV: one row per sample, a header with units, the vehicle-local time (with
//! its offset) and UTC, RFC 4180 quoting by the `csv` crate, and text cells
//! that a spreadsheet would run as a formula neutralised.

use super::channels::{reader, ChannelReader, ChannelValue, Shared};
use super::{for_each_sample, Plan, Sink};
use crate::domain::export::LocationRedaction;
use crate::domain::log_format::CHANNELS;
use crate::server::error::ServiceError;
use crate::server::localtime::{zone, TimeWriter};
use crate::server::store::Store;
use std::borrow::Cow;
use std::sync::Arc;

/// The interchange format's location class: all of it is left out with
/// location `none`; `coarse` rounds the coordinates (and keeps the heading,
/// which says nothing of where the vehicle is).
const LOCATION_CLASS: &[&str] = &["lat", "lon", "heading_deg"];

/// A cell that starts like a formula (`= + - @`, tab, CR) and is not a number
/// gets a leading `'`, so a spreadsheet shows it instead of running it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

fn number(out: &mut String, v: Option<f64>) {
    if let Some(v) = v {
        out.push_str(ryu::Buffer::new().format(v));
    }
}

fn flag(out: &mut String, v: Option<bool>) {
    if let Some(v) = v {
        out.push_str(if v { "true" } else { "false" });
    }
}

fn text(out: &mut String, v: Option<&str>) {
    out.push_str(&neutralise(v.unwrap_or_default()));
}

/// Writes one channel's value as a cell into a cleared buffer.
fn cell(out: &mut String, value: ChannelValue) {
    match value {
        ChannelValue::Number(v) => number(out, v),
        ChannelValue::Flag(v) => flag(out, v),
        ChannelValue::Code(v) => text(out, v),
    }
}

/// The columns an export carries: the chosen channels, without the position
/// when the redaction is `none`.
pub(crate) fn columns(plan: &Plan) -> Vec<(&'static str, &'static str)> {
    CHANNELS
        .iter()
        .map(|c| (c.name, c.unit))
        .filter(|(name, _)| {
            plan.fields
                .as_ref()
                .is_none_or(|f| f.iter().any(|x| x == name))
        })
        .filter(|(name, _)| {
            plan.positions.level != LocationRedaction::None || !LOCATION_CLASS.contains(name)
        })
        .collect()
}

/// What a CSV export held, for the manifest.
#[derive(Debug, Clone, Default)]
pub(crate) struct CsvStats {
    pub rows: u64,
    /// The exported columns that hold at least one value.
    pub present: Vec<&'static str>,
    /// The exported columns that never hold a value.
    pub absent: Vec<&'static str>,
    /// Pauses longer than `GAP_US` between consecutive rows: (last before, first after).
    pub gaps: Vec<(i64, i64)>,
}

pub(super) async fn write(
    store: Arc<dyn Store>,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<CsvStats, ServiceError> {
    let columns = columns(plan);
    let zone_name = plan.access.vehicle.vehicle.timezone.clone();
    let written = Shared::default();
    let mut csv = ::csv::Writer::from_writer(written.clone());
    let failed = |e: ::csv::Error| ServiceError::Internal(format!("writing CSV: {e}"));
    let mut header = vec!["t_local".to_string(), "t_utc".to_string()];
    header.extend(columns.iter().map(|(name, unit)| {
        if unit.is_empty() {
            name.to_string()
        } else {
            format!("{name} ({unit})")
        }
    }));
    csv.write_record(&header).map_err(failed)?;
    csv.flush()
        .map_err(|e| ServiceError::Internal(format!("writing CSV: {e}")))?;
    written.drain_into(sink.buffer());
    // One reused buffer per cell: no allocation per row.
    let mut row: Vec<String> = vec![String::new(); columns.len() + 2];
    let mut seen = vec![false; columns.len()];
    let mut gaps = Vec::new();
    let mut previous: Option<i64> = None;
    let mut times = TimeWriter::new(zone(&zone_name));
    let readers: Vec<ChannelReader> = columns.iter().map(|(name, _)| reader(name)).collect();
    let rows = for_each_sample(&store, plan, sink, |s, out| {
        if let Some(p) = previous.filter(|p| s.t_us - p > super::GAP_US) {
            gaps.push((p, s.t_us));
        }
        previous = Some(s.t_us);
        row[0].clear();
        times.write_local(&mut row[0], s.t_us);
        row[1].clear();
        TimeWriter::write_utc(&mut row[1], s.t_us);
        for (i, read) in readers.iter().enumerate() {
            let out = &mut row[i + 2];
            out.clear();
            cell(out, read(&s.channels, &plan.positions));
            seen[i] |= !out.is_empty();
        }
        csv.write_record(&row).map_err(failed)?;
        // Hand the bytes on a chunk at a time, not row by row.
        if written.len() >= 32 * 1024 {
            written.drain_into(out);
        }
        Ok(())
    })
    .await?;
    csv.flush()
        .map_err(|e| ServiceError::Internal(format!("writing CSV: {e}")))?;
    written.drain_into(sink.buffer());
    let (present, absent): (Vec<_>, Vec<_>) =
        columns.iter().zip(&seen).partition(|(_, seen)| **seen);
    Ok(CsvStats {
        rows,
        present: present.into_iter().map(|((name, _), _)| *name).collect(),
        absent: absent.into_iter().map(|((name, _), _)| *name).collect(),
        gaps,
    })
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn cells_are_quoted_as_rfc_4180_says_after_neutralising() {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let cells = ["plain", "a,b", "say \"hi\"", "=1+1", "line\nbreak"];
        w.write_record(cells.iter().map(|c| neutralise(c).into_owned()))
            .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "plain,\"a,b\",\"say \"\"hi\"\"\",'=1+1,\"line\nbreak\"\n"
        );
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("+cmd"), "'+cmd");
        assert_eq!(neutralise("-2.5"), "-2.5");
        assert_eq!(neutralise("118.5"), "118.5");
        assert_eq!(neutralise("off"), "off");
    }
}
