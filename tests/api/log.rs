//! The transparency log as anyone sees it over HTTP: the signed checkpoint,
//! the log's key, the leaf hashes and both kinds of proof, checked here with
//! the RFC 9162 algorithms; two servers on one database grow one tree.

use crate::helpers::*;
use portal_core::domain::audit::AuditAction;
use portal_core::server::audit::verify_log;
use portal_core::server::seal::merkle::root_of;
use portal_core::server::seal::Hash;
use portal_core::server::store::NewAuditEntry;
use portal_core::server::tlog::note::{Checkpoint, NoteVerifier, SignedNote};
use portal_core::server::tlog::proof::{verify_consistency, verify_inclusion};
use portal_core::server::tlog::{ConsistencyProof, InclusionProof, LeafPage};

fn entry(i: usize) -> NewAuditEntry {
    NewAuditEntry {
        actor: format!("ingest:test-{i}"),
        action: AuditAction::Import,
        vin: None,
        details: serde_json::json!({ "file": i }),
    }
}

pub(crate) async fn append(app: &TestApp, n: std::ops::Range<usize>) {
    for i in n {
        app.store.append_audit(&entry(i)).await.unwrap();
    }
}

pub(crate) fn hash(b64: &str) -> Hash {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
        .try_into()
        .unwrap()
}

pub(crate) async fn text(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.get(path).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The newest checkpoint, its signature checked with the key served.
async fn checkpoint(app: &TestApp) -> Checkpoint {
    let (status, key) = text(app, "/log/key").await;
    assert_eq!(status, 200);
    let key = NoteVerifier::parse(&key).unwrap();
    assert_eq!(key.name, TEST_LOG_ORIGIN);
    let (status, note) = text(app, "/log/checkpoint").await;
    assert_eq!(status, 200, "{note}");
    let note = SignedNote::parse(&note).unwrap();
    note.verify(&key).unwrap();
    Checkpoint::parse(&note.text).unwrap()
}

pub(crate) async fn json<T: serde::de::DeserializeOwned>(app: &TestApp, path: &str) -> T {
    let (status, body) = get_json(&app.client, app, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_value(body).unwrap()
}

#[tokio::test]
async fn anyone_checks_the_checkpoint_every_leaf_and_the_logs_growth() {
    let app = TestApp::spawn().await;
    let (status, body) = text(&app, "/log/checkpoint").await;
    assert_eq!(status, 404, "no checkpoint before the first entry: {body}");

    append(&app, 0..13).await;
    app.portal.sequence_log().await.unwrap();
    let first = checkpoint(&app).await;
    assert_eq!((first.origin.as_str(), first.size), (TEST_LOG_ORIGIN, 13));
    let page: LeafPage = json(&app, "/log/leaves?from=0").await;
    assert_eq!((page.from, page.size, page.hashes.len()), (0, 13, 13));
    let leaves: Vec<Hash> = page.hashes.iter().map(|h| hash(h)).collect();
    assert_eq!(root_of(&leaves), Some(first.root));
    for (index, leaf) in leaves.iter().enumerate() {
        let proof: InclusionProof =
            json(&app, &format!("/log/proof/inclusion?index={index}&size=13")).await;
        let path: Vec<Hash> = proof.hashes.iter().map(|h| hash(h)).collect();
        verify_inclusion(leaf, index as u64, 13, &path, &first.root).unwrap();
    }

    append(&app, 13..40).await;
    app.portal.sequence_log().await.unwrap();
    let second = checkpoint(&app).await;
    assert_eq!(second.size, 40);
    let proof: ConsistencyProof = json(&app, "/log/proof/consistency?old=13&new=40").await;
    let path: Vec<Hash> = proof.hashes.iter().map(|h| hash(h)).collect();
    verify_consistency(13, 40, &first.root, &second.root, &path).unwrap();
    // A forged older root does not fit the same proof.
    assert!(verify_consistency(13, 40, &[0; 32], &second.root, &path).is_err());
    let later: LeafPage = json(&app, "/log/leaves?from=38").await;
    assert_eq!(later.hashes.len(), 2);

    // Sizes the tree has not reached: 422, saying what it has; requests
    // that are not numbers: 400.
    for (path, status_wanted, message) in [
        (
            "/log/proof/inclusion?index=40&size=40",
            422,
            "leaves 0 to 39",
        ),
        (
            "/log/proof/inclusion?index=0&size=41",
            422,
            "the log has 40 leaves",
        ),
        ("/log/proof/consistency?old=0&new=40", 422, "older size"),
        (
            "/log/proof/consistency?old=5&new=400",
            422,
            "the log has 40 leaves",
        ),
        ("/log/proof/inclusion?index=x&size=1", 400, "index"),
        ("/log/proof/consistency?old=1", 400, "new"),
    ] {
        let (status, body) = text(&app, path).await;
        assert_eq!(status, status_wanted, "{path}: {body}");
        assert!(body.contains(message), "{path}: {body}");
    }
}

/// Two servers on one database, appending and sequencing at once (each also
/// runs its own sequencer): one tree, no fork, every entry exactly once.
#[tokio::test]
async fn two_servers_on_one_database_grow_one_tree() {
    let a = TestApp::spawn().await;
    let b = a.another_server().await;
    let writers = [&a, &b].map(|app| {
        let (store, portal) = (app.store.clone(), app.portal.clone());
        async move {
            for i in 0..60 {
                store.append_audit(&entry(i)).await.unwrap();
                if i % 7 == 0 {
                    portal.sequence_log().await.unwrap();
                }
            }
        }
    });
    futures::future::join_all(writers).await;
    a.portal.sequence_log().await.unwrap();
    let report = verify_log(&*a.store, None, a.portal.log.as_ref().map(|k| k.verifier()))
        .await
        .unwrap();
    assert_eq!(
        (report.entries, report.pending, report.broken),
        (120, 0, None)
    );
    assert_eq!(report.checkpoint, Some(120));
    let entries = a.store.audit_entries(0, 1_000).await.unwrap();
    let mut leaves: Vec<i64> = entries.iter().map(|e| e.leaf.unwrap()).collect();
    leaves.sort();
    assert_eq!(leaves, (0..120).collect::<Vec<_>>());
    assert_eq!(checkpoint(&b).await.size, 120);
}
