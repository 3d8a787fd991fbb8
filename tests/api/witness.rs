//! Witnesses as their operators run them: `portal witness` against a
//! running portal cosigns checkpoints as the log grows, the portal serves
//! them with the checkpoint, a rewritten log is refused loudly, and the
//! portal takes only valid cosignatures by the witnesses it expects.

use crate::helpers::*;
use crate::log::{append, json, text};
use portal_core::domain::transparency::LogOverview;
use portal_core::server::tlog::cosign::cosign;
use portal_core::server::tlog::note::{NoteVerifier, SignedNote};
use portal_core::server::tlog::witness::Witnessed;

/// A witness's key file and state directory, as its operator keeps them.
pub(crate) struct WitnessHome {
    dir: tempfile::TempDir,
}

impl WitnessHome {
    pub(crate) fn new() -> WitnessHome {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("witness.key"), TEST_WITNESS_SEED).unwrap();
        WitnessHome { dir }
    }

    fn state(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }

    /// `portal witness --once` against `app`: exit code, stdout, stderr.
    pub(crate) async fn visit(&self, app: &TestApp) -> (i32, String, String) {
        let key = self.dir.path().join("witness.key");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_portal"));
        command
            .args([
                "witness",
                "--log",
                &app.url(""),
                "--name",
                TEST_WITNESS,
                "--once",
            ])
            .arg("--key")
            .arg(&key)
            .arg("--state")
            .arg(self.state())
            .env("PORTAL_LOG", "error")
            .env_remove("DATABASE_URL");
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    fn witnessed(&self) -> Witnessed {
        serde_json::from_slice(&std::fs::read(self.state().join("witnessed.json")).unwrap())
            .unwrap()
    }
}

/// The checkpoint note as served, its log signature checked.
async fn served_note(app: &TestApp, query: &str) -> SignedNote {
    let (status, note) = text(app, &format!("/log/checkpoint{query}")).await;
    assert_eq!(status, 200, "{note}");
    let note = SignedNote::parse(&note).unwrap();
    let key = app.portal.log.as_ref().unwrap().verifier();
    note.verify(key).unwrap();
    note
}

#[tokio::test]
async fn a_witness_cosigns_the_growing_log_and_the_portal_serves_its_cosignatures() {
    let app = TestApp::spawn().await;
    let home = WitnessHome::new();
    let (code, out, err) = home.visit(&app).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no checkpoint yet"), "{out}");
    assert!(
        out.contains("trusting the log key portal.test/log+"),
        "{out}"
    );
    assert!(
        out.contains(&format!("--witness {TEST_WITNESS}=")),
        "it says how to configure the portal: {out}"
    );

    append(&app, 0..5).await;
    app.portal.sequence_log().await.unwrap();
    let (code, out, err) = home.visit(&app).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("trusting"), "the key was kept: {out}");
    assert!(
        out.contains("cosigned portal.test/log at 5 leaves") && out.contains("first checkpoint"),
        "{out}"
    );
    let note = served_note(&app, "").await;
    assert_eq!(note.signatures.len(), 2, "the log's and the witness's");
    assert!(test_witness()
        .verify(&note.text, &note.signatures[1])
        .is_ok());
    let overview: LogOverview = json(&app, "/log/overview").await;
    assert_eq!((overview.size, overview.pending), (5, 0));
    assert_eq!(overview.checkpoint.as_ref().unwrap().size, 5);
    assert_eq!(overview.witnesses.len(), 1);
    let status = &overview.witnesses[0];
    assert_eq!(status.name, TEST_WITNESS);
    assert_eq!(status.last.as_ref().unwrap().size, 5);
    assert!(!status.late);

    // The log grows: the witness checks the consistency proof and cosigns again.
    append(&app, 5..12).await;
    app.portal.sequence_log().await.unwrap();
    let (code, out, err) = home.visit(&app).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("at 12 leaves") && out.contains("consistent with the 5 cosigned before"),
        "{out}"
    );
    assert_eq!(home.witnessed().size, 12);
    // Older checkpoints keep their cosignatures; a size never signed is 404.
    assert_eq!(served_note(&app, "?size=5").await.signatures.len(), 2);
    assert_eq!(text(&app, "/log/checkpoint?size=6").await.0, 404);
    // Nothing new: the same tree is cosigned again, at a later time.
    let (code, out, err) = home.visit(&app).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("the same tree as cosigned before"), "{out}");
    let overview: LogOverview = json(&app, "/log/overview").await;
    assert_eq!(overview.witnesses[0].last.as_ref().unwrap().size, 12);
}

#[tokio::test]
async fn a_witness_refuses_a_rewritten_log_says_so_and_keeps_the_evidence() {
    let app = TestApp::spawn().await;
    let home = WitnessHome::new();
    append(&app, 0..6).await;
    app.portal.sequence_log().await.unwrap();
    let (code, out, err) = home.visit(&app).await;
    assert_eq!(code, 0, "{out}{err}");
    let cosigned = home.witnessed();

    // Whoever runs the database edits an entry and rebuilds the whole tree,
    // signing new checkpoints with the log's own key: alone it looks whole.
    rewrite_log(&app).await;
    append(&app, 6..9).await;
    app.portal.sequence_log().await.unwrap();
    assert_eq!(served_note(&app, "").await.signatures.len(), 1);

    let (code, out, err) = home.visit(&app).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("ALERT") && err.contains("INCONSISTENT"),
        "{err}"
    );
    assert!(
        err.contains("size 6 with root"),
        "names what it cosigned: {err}"
    );
    assert_eq!(home.witnessed(), cosigned, "nothing new remembered");
    assert_eq!(
        served_note(&app, "").await.signatures.len(),
        1,
        "nothing cosigned"
    );
    let evidence: Vec<_> = std::fs::read_dir(home.state())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("conflict-"))
        .collect();
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    let kept = std::fs::read_to_string(home.state().join(&evidence[0])).unwrap();
    assert!(kept.contains(&cosigned.note), "{kept}");
    assert!(kept.contains("portal.test/log\n9\n"), "{kept}");
}

/// POSTs a note to `/log/cosignatures`: status and error code.
async fn post_note(app: &TestApp, note: &str) -> (u16, String) {
    let res = app
        .client
        .post(app.url("/log/cosignatures"))
        .body(note.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, code)
}

#[tokio::test]
async fn the_portal_takes_only_valid_cosignatures_by_witnesses_it_expects() {
    use ed25519_dalek::SigningKey;
    let app = TestApp::spawn().await;
    append(&app, 0..3).await;
    app.portal.sequence_log().await.unwrap();
    let signed = served_note(&app, "").await;
    let witness = SigningKey::from_bytes(&TEST_WITNESS_SEED);
    let now = chrono::Utc::now().timestamp() as u64;
    let with = |text: &str, line: portal_core::server::tlog::note::NoteSignature| {
        let mut note = signed.clone();
        note.text = text.to_string();
        note.signatures.push(line);
        note.encode()
    };
    let other_text = signed.text.replacen("\n3\n", "\n4\n", 1);
    let other_root = {
        let mut lines: Vec<&str> = signed.text.lines().collect();
        lines[2] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        format!("{}\n", lines.join("\n"))
    };
    let mut flipped = cosign(&signed.text, TEST_WITNESS, &witness, now);
    flipped.signature[20] ^= 1;
    let stranger = SigningKey::from_bytes(&[7; 32]);
    for (note, code) in [
        ("not a note".to_string(), "not_a_cosigned_checkpoint"),
        (
            with(
                &signed.text,
                cosign(&signed.text, "stranger.test/w", &stranger, now),
            ),
            "unknown_witness",
        ),
        (
            with(
                &signed.text,
                cosign(&signed.text, TEST_WITNESS, &stranger, now),
            ),
            "unknown_witness",
        ),
        (
            with(
                &other_text,
                cosign(&other_text, TEST_WITNESS, &witness, now),
            ),
            "unknown_checkpoint",
        ),
        (
            with(
                &other_root,
                cosign(&other_root, TEST_WITNESS, &witness, now),
            ),
            "checkpoint_mismatch",
        ),
        (with(&signed.text, flipped), "bad_cosignature"),
        (
            with(
                &signed.text,
                cosign(&signed.text, TEST_WITNESS, &witness, now + 3600),
            ),
            "cosignature_in_future",
        ),
    ] {
        assert_eq!(
            post_note(&app, &note).await,
            (422, code.to_string()),
            "{note}"
        );
    }
    assert_eq!(served_note(&app, "").await.signatures.len(), 1);
    let overview: LogOverview = json(&app, "/log/overview").await;
    assert_eq!(overview.witnesses[0].last, None);
    assert!(!overview.witnesses[0].late, "the checkpoint is seconds old");

    // An hour on, the witness that never cosigned is late, on the page too
    // (in both languages).
    app.sql(
        "UPDATE tlog_checkpoints SET signed_at = signed_at - 3600000000",
        "UPDATE tlog_checkpoints SET signed_at = signed_at - interval '1 hour'",
    )
    .await;
    let overview: LogOverview = json(&app, "/log/overview").await;
    assert!(overview.witnesses[0].late);
    for (lang, late) in [("en", "Late"), ("zh-CN", "逾期")] {
        let page = page_in(&app.client, &app, "/transparency", lang).await;
        assert!(
            page.contains(&format!("data-witness=\"{TEST_WITNESS}\"")),
            "{page}"
        );
        assert!(page.contains("data-late=\"true\""), "{page}");
        assert!(page.contains(late), "{lang}: {page}");
    }

    let valid = with(
        &signed.text,
        cosign(&signed.text, TEST_WITNESS, &witness, now),
    );
    assert_eq!(post_note(&app, &valid).await, (200, String::new()));
    let served = served_note(&app, "").await;
    assert_eq!(served.signatures.len(), 2);
    let overview: LogOverview = json(&app, "/log/overview").await;
    assert!(!overview.witnesses[0].late, "it cosigned the newest");
    // An older cosignature of the same checkpoint does not replace a newer one.
    let older = with(
        &signed.text,
        cosign(&signed.text, TEST_WITNESS, &witness, now - 60),
    );
    assert_eq!(post_note(&app, &older).await.0, 200);
    assert_eq!(served_note(&app, "").await, served);
    // The portal's log key never changed hands: the served note says whose it is.
    let key: NoteVerifier = NoteVerifier::parse(&text(&app, "/log/key").await.1).unwrap();
    served.verify(&key).unwrap();
}

/// The whole tree rebuilt from edited entries, checkpoints re-signed with
/// the log's own key: what whoever runs the database can do.
async fn rewrite_log(app: &TestApp) {
    let rewrite = "BEGIN; UPDATE audit_log SET details = '{}' WHERE leaf = 1; \
                   UPDATE audit_log SET leaf = NULL; DELETE FROM tlog_cosignatures; \
                   DELETE FROM tlog_nodes; DELETE FROM tlog_checkpoints; \
                   UPDATE tlog_state SET size = 0; COMMIT;";
    app.rewrite_log_tables(rewrite, rewrite).await;
    app.portal.sequence_log().await.unwrap();
}

#[tokio::test]
async fn an_owner_keeps_a_checkpoint_and_the_access_page_turns_red_if_the_log_is_rewritten() {
    use crate::browse::VIN;
    use app::components::browse::encode_query_value;
    use portal_core::domain::transparency::LogSince;
    let (app, owner) = crate::browse::fixture().await;
    app.portal.sequence_log().await.unwrap();
    let kept = json::<LogSince>(&app, "/log/since").await.now.unwrap();
    let access = format!("/vehicles/{VIN}/access");
    let page = page_in(&owner, &app, &access, "en").await;
    assert!(
        page.contains(&format!("seen_size={}&amp;seen_root=", kept.size))
            || page.contains(&format!("seen_size={}&seen_root=", kept.size)),
        "the link to keep: {page}"
    );
    let link = format!(
        "{access}?seen_size={}&seen_root={}",
        kept.size,
        encode_query_value(&kept.root)
    );
    let api = format!(
        "/log/since?size={}&root={}",
        kept.size,
        encode_query_value(&kept.root)
    );

    // The log grows: the kept checkpoint is still its start.
    append(&app, 0..5).await;
    app.portal.sequence_log().await.unwrap();
    let since: LogSince = json(&app, &api).await;
    let seen = since.seen.unwrap();
    assert!(seen.consistent && !seen.proof.is_empty(), "{seen:?}");
    let page = page_in(&owner, &app, &link, "en").await;
    assert!(page.contains("data-testid=\"log-consistent\""), "{page}");
    assert!(!page.contains("log-rewritten"));

    // Rewritten: red on the page, in both languages, and in the API.
    rewrite_log(&app).await;
    let since: LogSince = json(&app, &api).await;
    let seen = since.seen.unwrap();
    assert!(!seen.consistent, "{seen:?}");
    assert!(seen.reason.unwrap().contains("does not extend"));
    assert_eq!(
        seen.broken,
        Some(portal_core::domain::transparency::SeenBreak::Rewritten)
    );
    for (lang, words) in [
        ("en", "The log was rewritten since the checkpoint you kept."),
        ("zh-CN", "自您保存的检查点以来，日志已被改写。"),
    ] {
        let page = page_in(&owner, &app, &link, lang).await;
        assert!(page.contains("data-testid=\"log-rewritten\""), "{page}");
        assert!(page.contains(words), "{lang}: {page}");
        let why = match lang {
            "en" => "The log no longer starts with the entries it held",
            _ => "日志不再以您保存的检查点时的条目开头",
        };
        assert!(page.contains(why), "the reason, translated: {page}");
    }
    // A checkpoint larger than the log: entries were removed.
    let larger = format!(
        "/log/since?size=1000&root={}",
        encode_query_value(&kept.root)
    );
    let seen = json::<LogSince>(&app, &larger).await.seen.unwrap();
    assert!(!seen.consistent && seen.reason.unwrap().contains("entries were removed"));
    // Half a checkpoint, or a root that is not one: 422.
    for bad in [
        "/log/since?size=3",
        "/log/since?size=3&root=xyz",
        "/log/since?size=0&root=AAAA",
    ] {
        assert_eq!(text(&app, bad).await.0, 422, "{bad}");
    }
}

#[tokio::test]
async fn a_witness_that_is_down_is_shown_late_nothing_is_lost_and_it_catches_up() {
    let app = TestApp::spawn().await;
    let home = WitnessHome::new();
    append(&app, 0..3).await;
    app.portal.sequence_log().await.unwrap();
    assert_eq!(home.visit(&app).await.0, 0);
    // The witness goes down; the portal keeps taking entries and signing.
    append(&app, 3..20).await;
    app.portal.sequence_log().await.unwrap();
    assert_eq!(text(&app, "/log/checkpoint").await.0, 200);
    app.sql(
        "UPDATE tlog_cosignatures SET cosigned_at = cosigned_at - 3600000000",
        "UPDATE tlog_cosignatures SET cosigned_at = cosigned_at - interval '1 hour'",
    )
    .await;
    let overview: LogOverview = json(&app, "/log/overview").await;
    assert_eq!(overview.size, 20);
    assert!(overview.witnesses[0].late, "{overview:?}");
    let page = page_in(&app.client, &app, "/transparency", "en").await;
    assert!(page.contains("data-late=\"true\""), "{page}");
    // Back up: it checks the 17 leaves it missed and cosigns the newest.
    let (code, out, err) = home.visit(&app).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("at 20 leaves") && out.contains("consistent with the 3"),
        "{out}"
    );
    let overview: LogOverview = json(&app, "/log/overview").await;
    assert!(!overview.witnesses[0].late);
    assert_eq!(overview.witnesses[0].last.as_ref().unwrap().size, 20);
}
