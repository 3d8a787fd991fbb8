//! The dispute report inside every bundle and on its own: it parses, reads
//! in Chinese and English, names the VIN, the bundle and its files' hashes,
//! lists the events, draws crash records, and renders to non-blank pages.

use crate::browse::{fixture, VIN};
use crate::helpers::*;
use serde_json::Value;
use std::io::Read;
use std::process::Command;

async fn download(c: &reqwest::Client, app: &TestApp, query: &str) -> (String, Vec<u8>) {
    let res = c
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{query}");
    let kind = res.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    (kind, res.bytes().await.unwrap().to_vec())
}

fn member(zip: &[u8], name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut out = Vec::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The PDF's text, as poppler's pdftotext reads it.
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Renders page `page` to a grey image (pdftoppm) and returns the share of
/// dark pixels.
fn ink_on_page(pdf: &[u8], page: u32) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let prefix = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args([
            "-gray",
            "-r",
            "40",
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
            "-singlefile",
        ])
        .arg(&path)
        .arg(&prefix)
        .status()
        .expect("pdftoppm (apt-get install poppler-utils)");
    assert!(status.success());
    let image = std::fs::read(dir.path().join("page.pgm")).unwrap();
    // Binary PGM: "P5", width, height, max value, then one byte per pixel.
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 {
        while image[i].is_ascii_whitespace() {
            i += 1;
        }
        while !image[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    let pixels = &image[i + 1..];
    pixels.iter().filter(|p| **p < 128).count() as f64 / pixels.len() as f64
}

#[tokio::test]
async fn every_bundle_carries_a_bilingual_report_covered_by_the_signature() {
    let (app, c) = fixture().await;
    let (_, zip) = download(&c, &app, "format=bundle").await;
    let manifest: Value = serde_json::from_slice(&member(&zip, "manifest.json")).unwrap();
    let pdf = member(&zip, "report.pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let listed = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "report.pdf")
        .expect("the report is listed in the manifest");
    use sha2::Digest;
    assert_eq!(listed["sha256"], hex::encode(sha2::Sha256::digest(&pdf)));

    let text = pdf_text(&pdf);
    for expected in [
        VIN,
        manifest["bundle_id"].as_str().unwrap(),
        manifest["files"][0]["sha256"].as_str().unwrap(),
        manifest["signature"]["public_key_fingerprint"]
            .as_str()
            .unwrap(),
        "车辆数据报告",
        "Vehicle data report",
        "如何验证",
        "行 / rows",
        "急刹车 / Hard braking",
        "ev-brake",
        "碰撞 / Collision",
        "驾驶员正面气囊 / Driver front",
        "制动压力",
        "GB 39732-2020",
        "数据局限",
        "Data limitations",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // The data speaks the reader's words, never the format's machine names.
    for machine in [
        "hard_brake",
        "driver_front",
        "speed_kmh",
        "brake_pressure_bar",
    ] {
        assert!(
            !text.contains(machine),
            "{machine:?} in the report:\n{text}"
        );
    }
    // Every page carries the bundle id and its number.
    let pages = text
        .matches(manifest["bundle_id"].as_str().unwrap())
        .count();
    assert!(pages >= 3, "{pages} pages name the bundle");
    assert!(ink_on_page(&pdf, 1) > 0.005, "the cover is not blank");
    assert!(ink_on_page(&pdf, 2) > 0.002, "page 2 is not blank");
}

#[tokio::test]
async fn a_range_without_crash_records_has_a_report_too_and_it_downloads_alone() {
    let (app, c) = fixture().await;
    // Drive 1 only: a hard brake, no crash.
    let query = "format=pdf&from=2021-02-21T10:02:30%2B08:00&to=2021-02-21T10:10:00%2B08:00";
    let (kind, pdf) = download(&c, &app, query).await;
    assert_eq!(kind, "application/pdf");
    let text = pdf_text(&pdf);
    assert!(text.contains("ev-brake") && text.contains(VIN), "{text}");
    assert!(
        !text.contains("GB 39732-2020"),
        "no crash record in this range"
    );
    assert!(ink_on_page(&pdf, 1) > 0.005);
    // Recorded like any other disclosure.
    let (_, log) = get_json(&c, &app, &format!("/api/v1/vehicles/{VIN}/access-log")).await;
    assert_eq!(log["items"][0]["format"], "pdf");
}
