//! The server over real HTTP: pages render on the server in the reader's
//! language, unknown paths are 404, the no-JS language switch works.

use crate::helpers::TestApp;
use reqwest::header;

#[tokio::test]
async fn the_home_page_renders_on_the_server() {
    let app = TestApp::spawn().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = res.text().await.unwrap();
    assert!(body.contains("See what your car recorded"));
    assert!(body.contains(r#"<html lang="en""#));
    assert!(
        body.contains("/pkg/portal.js"),
        "hydration script points at the bundle"
    );
    assert!(
        body.contains(r#"data-hydrated="false""#),
        "not interactive until hydrated"
    );
}

#[tokio::test]
async fn accept_language_selects_chinese_and_the_cookie_overrides_it() {
    let app = TestApp::spawn().await;
    let zh = app
        .client
        .get(app.url("/"))
        .header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    let body = zh.text().await.unwrap();
    assert!(body.contains("查看您的车辆记录了什么"));
    assert!(body.contains(r#"lang="zh-CN""#));

    let en = app
        .client
        .get(app.url("/"))
        .header(header::ACCEPT_LANGUAGE, "zh-CN")
        .header(header::COOKIE, "i18n_pref_locale=en")
        .send()
        .await
        .unwrap();
    assert!(en
        .text()
        .await
        .unwrap()
        .contains("See what your car recorded"));
}

#[tokio::test]
async fn unknown_paths_are_404_pages() {
    let app = TestApp::spawn().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn the_plain_form_language_switch_sets_a_cookie_and_redirects_back() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/set_locale"))
        .header(header::ACCEPT, "text/html")
        .form(&[("locale", "zh-CN"), ("back", "/no/such/page?x=1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[header::LOCATION], "/no/such/page?x=1");
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("i18n_pref_locale=zh-CN;"), "{cookie}");
    assert!(cookie.contains("Max-Age=31536000"), "remembered: {cookie}");
}

#[tokio::test]
async fn the_language_switch_refuses_open_redirects_and_unknown_languages() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/set_locale"))
        .header(header::ACCEPT, "text/html")
        .form(&[("locale", "en"), ("back", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[header::LOCATION], "/");

    let res = app
        .client
        .post(app.url("/api/set_locale"))
        .form(&[("locale", "fr"), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error() || res.status().is_server_error());
    assert!(res.headers().get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn health_and_readiness_probes_report_the_database() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    let known = body["migrations"]["known"].as_u64().unwrap();
    assert!(
        known >= 1 && body["migrations"]["applied"] == known,
        "{body}"
    );

    // A migration missing: not ready (503), and it says which part.
    let newest =
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)";
    app.sql(newest, newest).await;
    let pending = app.get("/readyz").await;
    assert_eq!(pending.status(), 503);
    let body: serde_json::Value = pending.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["database"].as_str()),
        (Some("not_ready"), Some("ok"))
    );
    assert_eq!(
        body["migrations"]["applied"].as_u64(),
        Some(known - 1),
        "{body}"
    );

    // The database gone: still alive, not ready.
    app.store.close().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let down = app.get("/readyz").await;
    assert_eq!(down.status(), 503);
    let body: serde_json::Value = down.json().await.unwrap();
    assert_eq!(body["database"], "unreachable", "{body}");
}

/// Another server starting in the same process (a second listener, every
/// test's own server) must not stall pages in flight: Leptos lists the
/// pages by running the app with resource loading switched off for the
/// whole process, and a page that started loading meanwhile never finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_finish_while_other_servers_start_beside_them() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (app, owner) = crate::browse::fixture().await;
    let sessions = portal::http::sessions::Sessions::open(&app.pool, app.store.clone())
        .await
        .expect("sessions");
    let state = portal::http::AppState {
        leptos_options: leptos::prelude::LeptosOptions::builder()
            .output_name("portal")
            .build(),
        portal: app.portal.clone(),
    };
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Handle::current();
    let starting = std::thread::spawn({
        let done = done.clone();
        move || {
            let _in_runtime = runtime.enter();
            let mut routers = 0u32;
            while !done.load(Ordering::Relaxed) {
                drop(portal::http::router(state.clone(), sessions.clone(), false));
                routers += 1;
            }
            routers
        }
    });
    let vin = crate::browse::VIN;
    for n in 0..40 {
        let path = [
            format!("/vehicles/{vin}"),
            format!("/vehicles/{vin}/access"),
        ][n % 2]
            .clone();
        let res = owner
            .get(app.url(&path))
            .timeout(std::time::Duration::from_secs(20))
            .send()
            .await;
        let status = res.as_ref().map(|r| r.status().as_u16());
        assert_eq!(status.ok(), Some(200), "request {n}, {path}: {res:?}");
        assert!(
            res.unwrap().text().await.unwrap().contains("</html>"),
            "{path}"
        );
    }
    done.store(true, Ordering::Relaxed);
    assert!(starting.join().unwrap() > 0, "routers were built meanwhile");
}
