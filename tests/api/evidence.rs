//! Evidence bundles: manifest, signature, offline verification, tampering.

use crate::browse::{fixture, VIN};
use crate::helpers::*;
use portal_core::server::signing::PublicKey;
use portal_core::server::verify::verify_bundle;
use serde_json::Value;
use std::io::{Cursor, Read, Write};

pub async fn bundle(c: &reqwest::Client, app: &TestApp, query: &str) -> Vec<u8> {
    let res = c
        .get(app.url(&format!(
            "/api/v1/vehicles/{VIN}/export?format=bundle{query}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    res.bytes().await.unwrap().to_vec()
}

pub fn members(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().to_string(), bytes)
        })
        .collect()
}

pub(crate) fn rezip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

pub(crate) async fn public_key(app: &TestApp) -> PublicKey {
    let text = reqwest::get(app.url("/.well-known/portal-signing-key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    PublicKey::parse(&text).unwrap()
}

fn problems(zip: Vec<u8>, key: &PublicKey) -> Vec<String> {
    let v = verify_bundle(Cursor::new(zip), key);
    assert_eq!(v.valid, v.problems.is_empty());
    v.problems.iter().map(|p| p.short()).collect()
}

#[tokio::test]
async fn a_bundle_states_what_it_holds_and_verifies_offline_with_the_public_key() {
    let (app, c) = fixture().await;
    let zip = bundle(&c, &app, "&location=coarse").await;
    let files = members(&zip);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "samples.csv",
            "data.ndjson",
            "report.pdf",
            "dictionary.json",
            "manifest.json",
            "manifest.sig",
            "log-proof.json"
        ]
    );
    let manifest: Value = serde_json::from_slice(&files[4].1).unwrap();
    assert_eq!(manifest["vin"], VIN);
    assert_eq!(manifest["files"][0]["rows"], 930);
    assert_eq!(manifest["files"][1]["rows"], 1 + 930 + 3 + 1);
    assert_eq!(manifest["location_redaction"], "coarse");
    assert_eq!(manifest["requested_by"]["role"], "owner");
    assert_eq!(manifest["requested_by"]["purpose"], "owner copy");
    assert_eq!(manifest["schema_version"], 1);
    let present = manifest["channels_present"].as_array().unwrap();
    assert!(present.contains(&"speed_kmh".into()) && present.contains(&"abs_active".into()));
    assert!(manifest["channels_absent"]
        .as_array()
        .unwrap()
        .contains(&"accel_pedal_pct".into()));
    // Drive 1 ends at 10:09:59 local, drive 2 starts at 11:00:00.
    assert_eq!(manifest["gaps"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["gaps"][0]["seconds"], 3001);

    let key = public_key(&app).await;
    assert_eq!(
        manifest["signature"]["public_key_fingerprint"],
        key.fingerprint
    );
    assert!(problems(zip.clone(), &key).is_empty(), "untouched: valid");

    // The same answer from the public endpoint, no sign-in needed.
    let res = TestApp::new_client()
        .post(app.url("/api/v1/verify"))
        .body(zip)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        (v["valid"].clone(), v["vin"].clone()),
        (Value::Bool(true), Value::from(VIN))
    );

    // The export is on record with its manifest's hash.
    let entries = app.store.audit_entries(0, 1000).await.unwrap();
    let last = entries.last().unwrap();
    let details: Value = serde_json::from_str(&last.details).unwrap();
    assert_eq!(details["manifest_sha256"], v["manifest_sha256"]);
}

#[tokio::test]
async fn any_changed_byte_missing_or_added_file_or_swapped_signature_fails_and_is_named() {
    let (app, c) = fixture().await;
    let key = public_key(&app).await;
    let files = members(&bundle(&c, &app, "").await);
    for (i, (name, _)) in files.iter().enumerate() {
        let mut changed = files.clone();
        let middle = changed[i].1.len() / 2;
        changed[i].1[middle] ^= 0x01;
        let found = problems(rezip(&changed), &key);
        let expected = match name.as_str() {
            "manifest.json" | "manifest.sig" => "bad_signature".to_string(),
            "log-proof.json" => "log_proof".to_string(),
            other => format!("hash_mismatch:{other}"),
        };
        assert!(found.contains(&expected), "{name}: {found:?}");
    }
    let dropped: Vec<_> = files
        .iter()
        .filter(|(n, _)| n != "samples.csv")
        .cloned()
        .collect();
    assert_eq!(
        problems(rezip(&dropped), &key),
        ["missing_file:samples.csv"]
    );
    let unproven: Vec<_> = files
        .iter()
        .filter(|(n, _)| n != "log-proof.json")
        .cloned()
        .collect();
    assert_eq!(problems(rezip(&unproven), &key), ["log_proof"]);
    let mut added = files.clone();
    added.push(("notes.txt".into(), b"added later".to_vec()));
    assert_eq!(problems(rezip(&added), &key), ["extra_file:notes.txt"]);
    let other = members(&bundle(&c, &app, "&location=full").await);
    let mut swapped = files.clone();
    let sig = |f: &[(String, Vec<u8>)]| f.iter().position(|(n, _)| n == "manifest.sig").unwrap();
    let (mine, theirs) = (sig(&swapped), sig(&other));
    swapped[mine].1 = other[theirs].1.clone();
    assert_eq!(problems(rezip(&swapped), &key), ["bad_signature"]);
    let unsigned: Vec<_> = files
        .iter()
        .filter(|(n, _)| n != "manifest.sig")
        .cloned()
        .collect();
    assert_eq!(problems(rezip(&unsigned), &key), ["missing_signature"]);
    assert_eq!(problems(b"not a zip".to_vec(), &key).len(), 1);

    // The command line says the same, offline, with this installation's key.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.zip");
    std::fs::write(&good, rezip(&files)).unwrap();
    let bad = dir.path().join("bad.zip");
    let mut changed = files.clone();
    changed[1].1[10] ^= 0x01;
    std::fs::write(&bad, rezip(&changed)).unwrap();
    let run = |bundle: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
            .arg("--data-dir")
            .arg(app.data_dir())
            .arg("verify")
            .arg(bundle)
            .output()
            .unwrap()
    };
    let ok = run(&good);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let failed = run(&bad);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stdout).contains("data.ndjson"));
}
