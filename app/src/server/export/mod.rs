//! Exports: CSV and NDJSON streamed from the store page by page. Memory stays
//! bounded whatever the size, and the database connection is released between
//! pages, so a slow client holds back nobody. Every export is recorded (the
//! audit chain) as a disclosure before its first byte leaves.

mod csv;
mod ndjson;

use super::authz::{Access, Principal};
use super::error::ServiceError;
use super::events::EventQuery;
use super::query;
use super::store::{SampleFilter, Store};
use super::telemetry::SampleQuery;
use super::Portal;
use crate::domain::export::{ExportFormat, ExportQuery, LocationRedaction};
use crate::domain::time::format_utc;
use futures::stream::BoxStream;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Rows read from the store per query.
const PAGE: u32 = 5_000;
/// Bytes handed to the client at a time.
const CHUNK: usize = 64 * 1024;

/// A started export: what to call it and the bytes as they come.
pub struct Export {
    pub content_type: &'static str,
    pub filename: String,
    pub body: BoxStream<'static, Result<Vec<u8>, ServiceError>>,
}

/// What one export writes, checked before the first byte.
pub(crate) struct Plan {
    pub access: Access,
    pub filter: SampleFilter,
    pub fields: Option<Vec<String>>,
    pub events: super::store::EventFilter,
    pub location: LocationRedaction,
}

/// Buffers output and hands it on in chunks; waits while the client is slow.
pub(crate) struct Sink {
    tx: mpsc::Sender<Result<Vec<u8>, ServiceError>>,
    buffer: Vec<u8>,
}

impl Sink {
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buffer
    }

    /// Sends the buffer once it is a chunk's worth (or `force`).
    pub async fn flush(&mut self, force: bool) -> Result<(), ServiceError> {
        if self.buffer.is_empty() || (!force && self.buffer.len() < CHUNK) {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK * 2));
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| ServiceError::Internal("the client went away".into()))
    }
}

/// Rounds a coordinate as `coarse` redaction does (0.01°, about 1 km).
pub(crate) fn redact(location: LocationRedaction, v: Option<f64>) -> Option<f64> {
    match location {
        LocationRedaction::None => None,
        LocationRedaction::Coarse => v.map(|v| (v * 100.0).round() / 100.0),
        LocationRedaction::Full => v,
    }
}

impl Portal {
    /// `GET /api/v1/vehicles/{vin}/export`.
    pub async fn export(
        &self,
        who: Option<&Principal>,
        vin: &str,
        q: &ExportQuery,
    ) -> Result<Export, ServiceError> {
        let format = query::one(
            "format",
            q.format.as_deref(),
            ExportFormat::parse,
            "csv, ndjson or bundle",
        )?
        .ok_or_else(|| query::bad("format", "format is required: csv, ndjson or bundle".into()))?;
        if format == ExportFormat::Bundle {
            return Err(query::bad(
                "format",
                "evidence bundles are not available yet; use csv or ndjson".into(),
            ));
        }
        let location = query::one(
            "location",
            q.location.as_deref(),
            LocationRedaction::parse,
            "none, coarse or full",
        )?
        .unwrap_or(LocationRedaction::None);
        let samples = SampleQuery {
            min_speed_kmh: q.min_speed_kmh,
            max_speed_kmh: q.max_speed_kmh,
            brake_pedal: q.brake_pedal,
            abs_active: q.abs_active,
            aeb_state: q.aeb_state.clone(),
            gear: q.gear.clone(),
            fields: q.fields.clone(),
            ..SampleQuery::default()
        }
        .parse()?;
        let events = EventQuery {
            event_type: q.event_type.clone(),
            group: q.group.clone(),
            severity: q.severity.clone(),
            ..EventQuery::default()
        }
        .filter()?;
        let who_id = who.map(|w| w.account_id);
        let access = self
            .authorize_range(who, vin, q.from.as_deref(), q.to.as_deref())
            .await?;
        let (first, last) = (
            access.ranges[0].from_us,
            access.ranges[access.ranges.len() - 1].to_us,
        );
        let vin = access.vehicle.vehicle.vin.to_string();
        self.audit(
            format!("account:{}", who_id.unwrap_or_default()),
            "export",
            Some(&vin),
            serde_json::json!({
                "format": format.as_str(),
                "location": location.as_str(),
                "from": (first != i64::MIN).then(|| format_utc(first)),
                "to": (last != i64::MAX).then(|| format_utc(last)),
                "query": q,
            }),
        )
        .await?;
        let plan = Plan {
            access,
            filter: samples.filter,
            fields: samples.fields,
            events,
            location,
        };
        let (content_type, extension) = match format {
            ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
            _ => ("application/x-ndjson", "ndjson"),
        };
        let (tx, rx) = mpsc::channel(4);
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut sink = Sink {
                tx,
                buffer: Vec::with_capacity(CHUNK * 2),
            };
            let written = match format {
                ExportFormat::Csv => csv::write(store, &plan, &mut sink).await,
                _ => ndjson::write(store, &plan, &mut sink).await,
            };
            let result = match written {
                Ok(()) => sink.flush(true).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "export stopped");
                // The client sees a broken download, never a short file that looks whole.
                let _ = sink.tx.send(Err(e)).await;
            }
        });
        let body = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        Ok(Export {
            content_type,
            filename: format!("{vin}.{extension}"),
            body: Box::pin(body),
        })
    }
}

/// Calls `each` for every sample of the plan, page by page in time order.
pub(crate) async fn for_each_sample<F>(
    store: &Arc<dyn Store>,
    plan: &Plan,
    sink: &mut Sink,
    mut each: F,
) -> Result<(), ServiceError>
where
    F: FnMut(&crate::domain::records::Sample, &mut Vec<u8>) -> Result<(), ServiceError>,
{
    let mut after = None;
    loop {
        let rows = store
            .sample_page(
                plan.access.vehicle.id,
                &plan.access.ranges,
                &plan.filter,
                super::store::PageRequest {
                    descending: false,
                    after_us: after,
                    limit: PAGE,
                },
            )
            .await?;
        for s in &rows {
            each(s, sink.buffer())?;
        }
        sink.flush(false).await?;
        if rows.len() < PAGE as usize {
            return Ok(());
        }
        after = rows.last().map(|s| s.t_us);
    }
}
