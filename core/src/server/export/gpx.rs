//! GPX 1.1 (<https://www.topografix.com/GPX/1/1/>): one track per drive
//! (samples split where the car recorded nothing for more than `GAP_US`,
//! as the drives list splits them), its points the positions the reader
//! may see. A run of positions hidden by a privacy zone (or never
//! recorded) ends a track segment: the track resumes in a new one, so no
//! line is drawn through the hidden stretch. Streamed like CSV.

use super::{for_each_sample, Plan, Sink};
use crate::domain::time::format_utc;
use crate::server::error::ServiceError;
use crate::server::localtime::format_local_rfc3339;
use crate::server::store::Store;
use std::fmt::Write as _;
use std::sync::Arc;

/// What a GPX export held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GpxStats {
    pub tracks: u64,
    pub points: u64,
}

/// Where the writer is: outside a track, inside a track between segments,
/// or inside a segment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    Track,
    Segment,
}

/// Text as XML character data or an attribute value.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn close(out: &mut Vec<u8>, open: &mut Open, to: Open) {
    if *open == Open::Segment && to != Open::Segment {
        out.extend_from_slice(b"</trkseg>\n");
        *open = Open::Track;
    }
    if *open == Open::Track && to == Open::Nothing {
        out.extend_from_slice(b"</trk>\n");
        *open = Open::Nothing;
    }
}

pub(crate) async fn write(
    store: Arc<dyn Store>,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<GpxStats, ServiceError> {
    let vehicle = &plan.access.vehicle.vehicle;
    let vin = vehicle.vin.to_string();
    let zone = vehicle.timezone.clone();
    let mut head = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    head.push_str(
        "<gpx version=\"1.1\" creator=\"Vehicle data portal\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\">\n",
    );
    let zones = plan.positions.zones_applied();
    let _ = writeln!(
        head,
        "<metadata><name>{}</name><desc>{}</desc><time>{}</time></metadata>",
        escape(&vin),
        // Shown by GPS apps: in both languages, as every word a user reads.
        escape(&format!(
            "位置：{level}{zh_zones}。时间为 UTC；车辆时区为 {zone}。 / \
             Positions: {level}{en_zones}. Times in UTC; the vehicle's zone is {zone}.",
            level = plan.positions.level.as_str(),
            zh_zones = if zones {
                "；已应用隐私区域"
            } else {
                ""
            },
            en_zones = if zones { "; privacy zones applied" } else { "" },
        )),
        format_utc(super::super::now_us()),
    );
    sink.buffer().extend_from_slice(head.as_bytes());
    let mut stats = GpxStats::default();
    let mut open = Open::Nothing;
    let mut previous: Option<i64> = None;
    let mut line = String::with_capacity(128);
    for_each_sample(&store, plan, sink, |s, out| {
        if previous.is_some_and(|p| s.t_us - p > super::GAP_US) {
            close(out, &mut open, Open::Nothing);
        }
        previous = Some(s.t_us);
        let (Some(lat), Some(lon)) = plan.positions.show(s.channels.lat, s.channels.lon) else {
            close(out, &mut open, Open::Track);
            return Ok(());
        };
        line.clear();
        if open == Open::Nothing {
            stats.tracks += 1;
            let _ = writeln!(
                line,
                "<trk><name>{} {}</name><type>drive</type>",
                escape(&vin),
                escape(&format_local_rfc3339(s.t_us, &zone))
            );
            open = Open::Track;
        }
        if open == Open::Track {
            line.push_str("<trkseg>\n");
            open = Open::Segment;
        }
        let _ = writeln!(
            line,
            "<trkpt lat=\"{lat}\" lon=\"{lon}\"><time>{}</time></trkpt>",
            format_utc(s.t_us)
        );
        out.extend_from_slice(line.as_bytes());
        stats.points += 1;
        Ok(())
    })
    .await?;
    let out = sink.buffer();
    close(out, &mut open, Open::Nothing);
    out.extend_from_slice(b"</gpx>\n");
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_goes_only_as_far_as_asked() {
        let mut out = Vec::new();
        let mut open = Open::Segment;
        close(&mut out, &mut open, Open::Track);
        assert_eq!(out, b"</trkseg>\n");
        close(&mut out, &mut open, Open::Nothing);
        assert_eq!(out, b"</trkseg>\n</trk>\n");
        close(&mut out, &mut open, Open::Nothing);
        assert_eq!(out, b"</trkseg>\n</trk>\n", "nothing left to close");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
