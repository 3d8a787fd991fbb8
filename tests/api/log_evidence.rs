//! Bundles carry their place in the transparency log: the leaves of the
//! imports that supplied their records and of the disclosure itself, proved
//! to a checkpoint that extends one the witness cosigned. Both verifiers
//! check it offline with the witness's key, name what was changed, and
//! tell a bundle made before a rewrite of the log from one made after.

use crate::browse::fixture;
use crate::evidence::{bundle, members, rezip};
use crate::hardening::verify_form_with;
use crate::helpers::*;
use crate::witness::WitnessHome;
use base64::Engine as _;
use portal_core::domain::export::Verification;
use portal_core::server::signing::PublicKey;
use portal_core::server::tlog::cosign::WitnessKey;
use portal_core::server::verify::{verify_bundle_with, LogTrust, Trust};
use serde_json::Value;
use std::io::Cursor;

/// `NAME=KEY` of the test witness, as an examiner is given it.
fn witness_option() -> String {
    let key = test_witness().key;
    format!(
        "{TEST_WITNESS}={}",
        base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
    )
}

/// Our verifier with `witnesses`, and the independent one with the same:
/// they must agree on validity.
pub(crate) fn both_verify(
    zip: &[u8],
    key: &str,
    witnesses: &[WitnessKey],
) -> (Verification, Value) {
    let public = PublicKey::parse(key).unwrap();
    let trust = Trust {
        log: LogTrust {
            log_key: None,
            witnesses,
        },
        ..Trust::default()
    };
    let ours = verify_bundle_with(Cursor::new(zip), &public, &trust);
    let dir = tempfile::tempdir().unwrap();
    let (bundle, key_file) = (dir.path().join("b.zip"), dir.path().join("key.json"));
    std::fs::write(&bundle, zip).unwrap();
    std::fs::write(&key_file, key).unwrap();
    let python = std::env::var("VDP_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = std::process::Command::new(&python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/verifier/vdp_verify.py"
    ))
    .arg(&bundle)
    .arg("--key")
    .arg(&key_file);
    for w in witnesses {
        let b64 = base64::engine::general_purpose::STANDARD.encode(w.key.as_bytes());
        cmd.arg("--witness").arg(format!("{}={b64}", w.name));
    }
    let out = cmd.output().expect("run the independent verifier");
    let theirs: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "independent verifier: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        theirs["valid"], ours.valid,
        "the verifiers disagree: {theirs}"
    );
    (ours, theirs)
}

/// The bundle with its `log-proof.json` changed by `edit`.
fn with_log_proof(zip: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut files = members(zip);
    let member = files
        .iter_mut()
        .find(|(n, _)| n == "log-proof.json")
        .unwrap();
    let mut proof: Value = serde_json::from_slice(&member.1).unwrap();
    edit(&mut proof);
    member.1 = serde_json::to_vec_pretty(&proof).unwrap();
    rezip(&files)
}

fn log_reason(v: &Verification) -> String {
    assert!(!v.valid);
    match &v.problems[..] {
        [portal_core::domain::export::Problem::LogProof { reason }] => reason.clone(),
        other => panic!("one log problem expected: {other:?}"),
    }
}

#[tokio::test]
async fn a_bundle_proves_its_imports_and_disclosure_to_a_witnessed_log_and_any_change_is_named() {
    let (app, owner) = fixture().await;
    app.portal.sequence_log().await.unwrap();
    let (code, out, err) = WitnessHome::new().visit(&app).await;
    assert_eq!(code, 0, "{out}{err}");
    let zip = bundle(&owner, &app, "").await;
    let key = signing_key(&app).await;
    let witnesses = [test_witness()];

    let (v, theirs) = both_verify(&zip, &key, &witnesses);
    assert!(v.valid, "{:?}", v.problems);
    let log = v.log.clone().unwrap();
    assert!(log.imports >= 1, "{log:?}");
    assert!(log.witnesses_checked);
    let witnessed = log.witnessed.clone().unwrap();
    assert!(
        log.disclosure.unwrap() >= witnessed.size,
        "made after the cosignature"
    );
    assert_eq!(witnessed.imports, log.imports, "the imports came before");
    assert_eq!(witnessed.cosigned_by[0].name, TEST_WITNESS);
    assert_eq!(theirs["log"]["witnessed"]["size"], witnessed.size);
    assert_eq!(
        theirs["log"]["witnessed"]["cosigned_by"][0]["name"],
        TEST_WITNESS
    );
    assert_eq!(theirs["log"]["imports"], log.imports);

    // The /verify page takes the witnesses too, and says who cosigned.
    let target = verify_form_with(&app, zip.clone(), &witness_option()).await;
    assert!(
        target.contains("result=valid")
            && target.contains("&log=")
            && target.contains("&cosigned="),
        "{target}"
    );
    for (lang, words) in [("en", "cosigned by"), ("zh-CN", "联署方")] {
        let page = page_in(&owner, &app, &target, lang).await;
        assert!(
            page.contains(words) && page.contains(TEST_WITNESS),
            "{lang}: {page}"
        );
    }
    let bad = verify_form_with(&app, zip.clone(), "notary.test/w=nonsense").await;
    assert!(bad.ends_with("result=bad_witness"), "{bad}");

    // So does `portal verify`, offline, with the witness on its command line.
    let dir = tempfile::tempdir().unwrap();
    let (file, key_file) = (dir.path().join("b.zip"), dir.path().join("key.json"));
    std::fs::write(&file, &zip).unwrap();
    std::fs::write(&key_file, &key).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("verify")
        .arg(&file)
        .arg("--key")
        .arg(&key_file)
        .args(["--witness", &witness_option()])
        .env("PORTAL_DATA_DIR", dir.path())
        .env("PORTAL_LOG", "error")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "these records were in the log at size {} ({} import leaves), cosigned by {TEST_WITNESS} at ",
            witnessed.size, witnessed.imports
        )),
        "{said}"
    );

    // Without witness keys the log is still checked, the cosignatures not.
    let (v, _) = both_verify(&zip, &key, &[]);
    assert!(v.valid && !v.log.unwrap().witnesses_checked);
    // A witness the log never had: not cosigned by anyone the reader trusts.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let stranger = [WitnessKey::new("stranger.test/w", stranger).unwrap()];
    let (v, _) = both_verify(&zip, &key, &stranger);
    assert!(log_reason(&v).contains("not cosigned by any witness given"));

    // Any change to the proof is found and named, by both verifiers.
    let zero = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
    let index = {
        let proof: Value = serde_json::from_slice(
            &members(&zip)
                .iter()
                .find(|(n, _)| n == "log-proof.json")
                .unwrap()
                .1,
        )
        .unwrap();
        proof["leaves"][0]["index"].clone()
    };
    let flip_last_line = |note: &Value| {
        let note = note.as_str().unwrap();
        let (head, line) = note.trim_end().rsplit_once('\n').unwrap();
        let mut line = line.to_string();
        let at = line.len() - 6;
        let c = if &line[at..at + 1] == "A" { "B" } else { "A" };
        line.replace_range(at..at + 1, c);
        Value::from(format!("{head}\n{line}\n"))
    };
    type Edit<'a> = Box<dyn FnOnce(&mut Value) + 'a>;
    let cases: Vec<(&str, Edit, String)> = vec![
        (
            "a proof hash",
            Box::new(|p: &mut Value| p["leaves"][0]["proof"][0] = zero.clone().into()),
            format!("leaf {index} (import): its inclusion proof fails"),
        ),
        (
            "a leaf",
            Box::new(|p: &mut Value| {
                let leaf = p["leaves"][0]["leaf"]
                    .as_str()
                    .unwrap()
                    .replacen("import", "export", 1);
                p["leaves"][0]["leaf"] = leaf.into();
            }),
            format!("leaf {index} (import) is a `\"export\"` entry"),
        ),
        (
            "the checkpoint",
            Box::new(|p: &mut Value| {
                let note = p["checkpoint"].as_str().unwrap();
                let mut lines: Vec<String> = note.split('\n').map(String::from).collect();
                lines[2] = zero.clone();
                p["checkpoint"] = lines.join("\n").into();
            }),
            "the checkpoint: the signature by `portal.test/log` does not verify".into(),
        ),
        (
            "a cosignature",
            Box::new(move |p: &mut Value| {
                p["witnessed"]["checkpoint"] = flip_last_line(&p["witnessed"]["checkpoint"]);
            }),
            format!("the cosignature by {TEST_WITNESS} does not verify"),
        ),
        (
            "the consistency proof",
            Box::new(|p: &mut Value| {
                p["witnessed"]["consistency"][0] = zero.clone().into();
            }),
            "does not extend the witnessed one".into(),
        ),
    ];
    for (what, edit, says) in cases {
        let changed = with_log_proof(&zip, edit);
        let (v, theirs) = both_verify(&changed, &key, &witnesses);
        let reason = log_reason(&v);
        assert!(reason.contains(&says), "{what}: {reason}");
        assert_eq!(
            theirs["problems"],
            serde_json::json!(["log_proof"]),
            "{what}"
        );
    }
}

#[tokio::test]
async fn after_a_rewrite_the_witness_refuses_and_only_the_bundle_made_before_verifies() {
    let (app, owner) = fixture().await;
    app.portal.sequence_log().await.unwrap();
    let home = WitnessHome::new();
    let (code, out, err) = home.visit(&app).await;
    assert_eq!(code, 0, "{out}{err}");
    let before = bundle(&owner, &app, "").await;
    let key = signing_key(&app).await;
    let witnesses = [test_witness()];
    assert!(both_verify(&before, &key, &witnesses).0.valid);

    // Whoever runs the database changes an imported sample, makes the
    // import's entry fit, and recomputes everything the portal can: the
    // leaves, the tree and checkpoints signed with the portal's own key.
    let rewrite = {
        let sample = "t = (SELECT min(t) FROM samples)";
        format!(
            "BEGIN; UPDATE samples SET speed_kmh = speed_kmh + 10 WHERE {sample}; \
             UPDATE audit_log SET details = replace(details, '\"bytes\"', '\"size\"') \
             WHERE action = 'import'; \
             UPDATE audit_log SET leaf = NULL; DELETE FROM tlog_cosignatures; \
             DELETE FROM tlog_nodes; DELETE FROM tlog_checkpoints; \
             UPDATE tlog_state SET size = 0; COMMIT;"
        )
    };
    app.rewrite_log_tables(&rewrite, &rewrite).await;
    app.portal.sequence_log().await.unwrap();
    let (code, _, err) = home.visit(&app).await;
    assert_eq!(code, 2, "the witness refuses: {err}");
    assert!(err.contains("INCONSISTENT"), "{err}");

    let after = bundle(&owner, &app, "").await;
    let (v, _) = both_verify(&after, &key, &witnesses);
    assert!(
        log_reason(&v).contains("no checkpoint in the bundle is cosigned"),
        "{v:?}"
    );
    // The bundle made before still verifies against the witnessed checkpoint.
    let (v, _) = both_verify(&before, &key, &witnesses);
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(
        v.log.unwrap().witnessed.unwrap().cosigned_by[0].name,
        TEST_WITNESS
    );
}
