//! Background export jobs as the store keeps them: the per-account limit,
//! progress, the file in parts, how a job ends and when it is deleted.

use crate::common::*;
use portal_core::domain::account::Role;
use portal_core::server::store::{ExportJobEnd, NewExportJob, Store};

const SECOND: i64 = 1_000_000;

fn job(id: &str, account: i64, at_us: i64) -> NewExportJob {
    NewExportJob {
        id: id.into(),
        account,
        vin: VIN.into(),
        format: portal_core::domain::export::ExportFormat::Csv,
        rows_expected: 1000,
        bytes_expected: 90_000,
        at_us,
    }
}

async fn account(store: &dyn Store, name: &str) -> i64 {
    store
        .create_account(name, "hash", Role::Owner)
        .await
        .unwrap()
        .expect("a new account")
}

#[tokio::test]
async fn an_account_runs_two_jobs_at_once_and_a_silent_one_does_not_count() {
    let t = test_store().await;
    let store = &*t.store;
    let (owner, other) = (
        account(store, "a@example.com").await,
        account(store, "b@example.com").await,
    );
    let now = 1_000 * SECOND;
    let alive_since = now - 30 * SECOND;
    assert!(store
        .create_export_job(&job("j1", owner, now), 2, alive_since)
        .await
        .unwrap());
    assert!(store
        .create_export_job(&job("j2", owner, now), 2, alive_since)
        .await
        .unwrap());
    assert!(
        !store
            .create_export_job(&job("j3", owner, now), 2, alive_since)
            .await
            .unwrap(),
        "a third running job is refused"
    );
    assert_eq!(
        store.export_job("j3").await.unwrap(),
        None,
        "and not stored"
    );
    assert!(
        store
            .create_export_job(&job("k1", other, now), 2, alive_since)
            .await
            .unwrap(),
        "the limit is per account"
    );

    // j1's server stops: a minute later only j2 still counts.
    store
        .export_job_progress("j2", 10, 900, now + 60 * SECOND)
        .await
        .unwrap();
    let later = now + 61 * SECOND;
    assert!(store
        .create_export_job(&job("j3", owner, later), 2, later - 30 * SECOND)
        .await
        .unwrap());
    // Ended jobs never count.
    store
        .end_export_job("j2", &ExportJobEnd::Failed, later)
        .await
        .unwrap();
    store
        .end_export_job("j3", &ExportJobEnd::Failed, later)
        .await
        .unwrap();
    assert!(store
        .create_export_job(&job("j4", owner, later), 2, later - 30 * SECOND)
        .await
        .unwrap());
    assert!(store
        .create_export_job(&job("j5", owner, later), 2, later - 30 * SECOND)
        .await
        .unwrap());
}

#[tokio::test]
async fn a_job_keeps_its_progress_its_file_in_parts_and_is_deleted_when_it_expires() {
    let t = test_store().await;
    let store = &*t.store;
    let owner = account(store, "a@example.com").await;
    let now = 1_000 * SECOND;
    assert!(store
        .create_export_job(&job("j1", owner, now), 2, now)
        .await
        .unwrap());
    let started = store.export_job("j1").await.unwrap().expect("stored");
    assert_eq!(
        (
            started.state.as_str(),
            started.account,
            started.rows_written,
            started.updated_us
        ),
        ("running", owner, 0, now)
    );

    store
        .export_job_progress("j1", 400, 36_000, now + SECOND)
        .await
        .unwrap();
    let running = store.export_job("j1").await.unwrap().unwrap();
    assert_eq!((running.rows_written, running.bytes_written), (400, 36_000));
    assert_eq!(running.updated_us, now + SECOND);

    // Any bytes, 0x00 and invalid UTF-8 included, come back as they went in.
    let parts: Vec<Vec<u8>> = vec![
        (0..=255u8).cycle().take(70_000).collect(),
        vec![0xff, 0, 0xfe],
    ];
    for (seq, part) in parts.iter().enumerate() {
        store
            .put_export_job_part("j1", seq as u32, part)
            .await
            .unwrap();
    }
    let end = ExportJobEnd::Ready {
        filename: format!("{VIN}.csv"),
        size: 70_003,
        rows: 1000,
        bytes: 90_000,
    };
    store
        .end_export_job("j1", &end, now + 2 * SECOND)
        .await
        .unwrap();
    let ready = store.export_job("j1").await.unwrap().unwrap();
    assert_eq!(ready.state.as_str(), "ready");
    assert_eq!(
        ready.filename.as_deref(),
        Some(format!("{VIN}.csv").as_str())
    );
    assert_eq!(
        (ready.size, ready.rows_written, ready.bytes_written),
        (Some(70_003), 1000, 90_000)
    );
    // A late heartbeat does not undo the end.
    store
        .export_job_progress("j1", 5, 5, now + 3 * SECOND)
        .await
        .unwrap();
    assert_eq!(store.export_job("j1").await.unwrap().unwrap(), ready);
    for (seq, part) in parts.iter().enumerate() {
        assert_eq!(
            store
                .export_job_part("j1", seq as u32)
                .await
                .unwrap()
                .as_ref(),
            Some(part)
        );
    }
    assert_eq!(store.export_job_part("j1", 2).await.unwrap(), None);

    // Nothing older than the cut-off: nothing goes.
    assert_eq!(store.expire_export_jobs(now + 2 * SECOND).await.unwrap(), 0);
    assert_eq!(
        store
            .expire_export_jobs(now + 2 * SECOND + 1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.export_job("j1").await.unwrap(), None);
    assert_eq!(
        store.export_job_part("j1", 0).await.unwrap(),
        None,
        "its file goes too"
    );
}

#[tokio::test]
async fn a_failed_job_keeps_no_part_of_its_file() {
    let t = test_store().await;
    let store = &*t.store;
    let owner = account(store, "a@example.com").await;
    assert!(store
        .create_export_job(&job("j1", owner, SECOND), 2, 0)
        .await
        .unwrap());
    store
        .put_export_job_part("j1", 0, b"half a file")
        .await
        .unwrap();
    store
        .end_export_job("j1", &ExportJobEnd::Failed, 2 * SECOND)
        .await
        .unwrap();
    let failed = store.export_job("j1").await.unwrap().unwrap();
    assert_eq!((failed.state.as_str(), failed.size), ("failed", None));
    assert_eq!(store.export_job_part("j1", 0).await.unwrap(), None);
}
