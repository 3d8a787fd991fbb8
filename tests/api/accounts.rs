//! Accounts, sessions and the authorization gate over real HTTP.

use crate::helpers::*;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

const VIN_A: &str = "LRW3E7EK9NC000017";
const VIN_B: &str = "1M8GDM9AXKP042788";

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("portal_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn sign_up_sign_in_me_and_sign_out() {
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN_A, &[0, 1, 2]).await;
    let code = claim_code(&app, VIN_A, None).await;
    let owner = TestApp::new_client();
    sign_up_and_in(&app, &owner, " Owner@Example.com ", VIN_A, &code).await;

    let me: Value = owner
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"], "owner@example.com");
    assert_eq!(me["role"], "owner");
    assert_eq!(me["vehicles"][0]["vin"], VIN_A);

    let overview: Value = owner
        .get(app.url(&format!("/api/v1/vehicles/{VIN_A}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overview["telemetry"]["count"], 3);

    let res = owner
        .delete(app.url("/api/v1/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = owner.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn a_claim_code_is_single_use_and_bad_input_is_a_clear_4xx() {
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN_A, &[0]).await;
    let code = claim_code(&app, VIN_A, None).await;
    let c = TestApp::new_client();
    let post = |body: Value| c.post(app.url("/api/v1/accounts")).json(&body).send();

    let res = post(
        json!({"account": "a@example.com", "password": "short", "vin": VIN_A, "claim_code": code}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "password_too_short"
    );
    let res = post(json!({"account": "a@example.com", "password": "password123", "vin": VIN_A, "claim_code": code})).await.unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "password_common"
    );
    let res = post(json!({"account": "not an account", "password": PASSWORD, "vin": VIN_A, "claim_code": code})).await.unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_account"
    );
    let res = post(json!({"account": "a@example.com", "password": PASSWORD, "vin": VIN_A, "claim_code": "AAAA-BBBB-CCCC"})).await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "sign_up_refused"
    );
    let res = c
        .post(app.url("/api/v1/accounts"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_json"
    );

    let res = post(json!({"account": "a@example.com", "password": PASSWORD, "vin": VIN_A, "claim_code": code.to_lowercase()})).await.unwrap();
    assert_eq!(res.status(), 201, "codes are typed forgivingly");
    let res = post(
        json!({"account": "b@example.com", "password": PASSWORD, "vin": VIN_A, "claim_code": code}),
    )
    .await
    .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "sign_up_refused",
        "used once only"
    );
    // A failed sign-up leaves no account behind.
    let res = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"account": "b@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// Two owners, two vehicles, one vehicle transferred: nobody sees what is not theirs.
#[tokio::test]
async fn authorization_matrix() {
    let app = TestApp::spawn().await;
    // VIN_A: samples at +0..+9 s and +100..+109 s; sold at +50 s.
    let secs: Vec<u32> = (0..10).chain(100..110).collect();
    import_vehicle(&app, VIN_A, &secs).await;
    import_vehicle(&app, VIN_B, &[0, 1]).await;
    let first = TestApp::new_client();
    let second = TestApp::new_client();
    let other = TestApp::new_client();
    let anonymous = TestApp::new_client();

    let code = claim_code(&app, VIN_A, None).await;
    sign_up_and_in(&app, &first, "first@example.com", VIN_A, &code).await;
    let sale_us =
        portal_core::domain::time::parse_rfc3339_micros("2021-02-21T10:15:50+08:00").unwrap();
    let portal = portal_core::server::Portal::new(app.store.clone());
    let vin_a = portal_core::domain::Vin::parse(VIN_A).unwrap();
    portal.transfer(&vin_a, sale_us).await.unwrap();
    let code = claim_code(&app, VIN_A, None).await;
    sign_up_and_in(&app, &second, "second@example.com", VIN_A, &code).await;
    let code = claim_code(&app, VIN_B, None).await;
    sign_up_and_in(&app, &other, "other@example.com", VIN_B, &code).await;

    let count = |client: &reqwest::Client, vin: &str| {
        let url = app.url(&format!("/api/v1/vehicles/{vin}"));
        let client = client.clone();
        async move {
            let res = client.get(url).send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (status, body["telemetry"]["count"].as_u64())
        }
    };
    // Each owner sees exactly their own period.
    assert_eq!(count(&first, VIN_A).await, (StatusCode::OK, Some(10)));
    assert_eq!(count(&second, VIN_A).await, (StatusCode::OK, Some(10)));
    assert_eq!(count(&other, VIN_B).await, (StatusCode::OK, Some(2)));
    // Foreign VINs answer like VINs that do not exist.
    let (status, _) = count(&other, VIN_A).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = count(&first, VIN_B).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = count(&first, "LDPA1B2C2RS000100").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = count(&first, "not-a-vin").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let foreign = first
        .get(app.url(&format!("/api/v1/vehicles/{VIN_B}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let missing = first
        .get(app.url("/api/v1/vehicles/LDPA1B2C2RS000100"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(foreign, missing, "identical replies");
    // Signed out: 401 everywhere.
    for path in [
        "/api/v1/me",
        "/api/v1/vehicles",
        &format!("/api/v1/vehicles/{VIN_A}"),
    ] {
        assert_eq!(
            anonymous.get(app.url(path)).send().await.unwrap().status(),
            401,
            "{path}"
        );
    }
    // The vehicle lists show each owner only their own period.
    let list: Value = first
        .get(app.url("/api/v1/vehicles"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(
        list["items"][0]["to"].is_string(),
        "the first owner's period is closed"
    );
    let list: Value = other
        .get(app.url("/api/v1/vehicles"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["vin"], VIN_B);

    // A grant principal: the first owner (period closed by the sale) shares
    // a window over all time; the recipient sees exactly the first owner's
    // 10 samples, and nothing of another vehicle.
    let expires = (chrono::Utc::now() + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let (status, issued) = post_json(
        &first,
        &app,
        &format!("/api/v1/vehicles/{VIN_A}/grants"),
        json!({"recipient": "r", "kind": "other", "purpose": "p", "classes": ["telemetry"],
            "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "expires": expires}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let recipient = reqwest::Client::builder()
        .default_headers(
            [(
                header::AUTHORIZATION,
                format!("Bearer {}", issued["token"].as_str().unwrap())
                    .parse()
                    .unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    assert_eq!(count(&recipient, VIN_A).await, (StatusCode::OK, Some(10)));
    let (status, _) = count(&recipient, VIN_B).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The second owner's grants never reach the first owner's period.
    let (status, issued) = post_json(
        &second,
        &app,
        &format!("/api/v1/vehicles/{VIN_A}/grants"),
        json!({"recipient": "r2", "kind": "other", "purpose": "p", "classes": ["telemetry"],
            "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "expires": expires}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let theirs = issued["token"].as_str().unwrap().to_string();
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/vehicles/{VIN_A}/samples?limit=1000")))
        .bearer_auth(&theirs)
        .send()
        .await
        .unwrap();
    let page: Value = res.json().await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 10, "the second owner's 10 samples only");
    assert!(items
        .iter()
        .all(|s| s["t"].as_str().unwrap() >= "2021-02-21T02:15:50"));
    // Neither owner's grants are the other's to list or revoke.
    let (status, list) = get_json(&second, &app, &format!("/api/v1/vehicles/{VIN_A}/grants")).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let res = second
        .delete(app.url(&format!(
            "/api/v1/vehicles/{VIN_A}/grants/{}",
            list["items"][0]["id"].as_i64().unwrap() - 1
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "the first owner's grant");

    // The gate itself, for a foreign time range of one's own vehicle.
    use portal_core::server::authz::{AccountPrincipal, Principal, Reading};
    let who = Principal::Account(AccountPrincipal {
        account_id: app
            .store
            .account_by_name("second@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        account: "second@example.com".into(),
        role: portal_core::domain::account::Role::Owner,
        session_epoch: 0,
        case: None,
    });
    let before_sale = portal_core::server::store::TimeRange {
        from_us: 0,
        to_us: sale_us,
    };
    let refused = portal
        .authorize(Some(&who), VIN_A, Reading::Telemetry, before_sale)
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 404);
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_dies_at_sign_out() {
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN_A, &[0]).await;
    let code = claim_code(&app, VIN_A, None).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let res = c.post(app.url("/api/v1/accounts"))
        .json(&json!({"account": "o@example.com", "password": PASSWORD, "vin": VIN_A, "claim_code": code}))
        .send().await.unwrap();
    assert_eq!(res.status(), 201);

    let res = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"account": "o@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let raw = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(raw.contains("HttpOnly"), "{raw}");
    assert!(raw.contains("SameSite=Lax"), "{raw}");
    assert!(raw.contains("Path=/"), "{raw}");
    assert!(raw.contains("Max-Age="), "inactivity expiry: {raw}");
    let first = session_cookie(&res).expect("session cookie");

    // Signing in again from the same session gives a new id (no fixation).
    let res = c
        .post(app.url("/api/v1/session"))
        .header(header::COOKIE, &first)
        .json(&json!({"account": "o@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let second = session_cookie(&res).expect("new session cookie");
    assert_ne!(first, second);
    assert_eq!(
        c.get(app.url("/api/v1/me"))
            .header(header::COOKIE, &first)
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "old id is gone"
    );
    assert_eq!(
        c.get(app.url("/api/v1/me"))
            .header(header::COOKIE, &second)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let res = c
        .delete(app.url("/api/v1/session"))
        .header(header::COOKIE, &second)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        c.get(app.url("/api/v1/me"))
            .header(header::COOKIE, &second)
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "replayed cookie fails"
    );
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN_A, &[0]).await;
    let code = claim_code(&app, VIN_A, None).await;
    let laptop = TestApp::new_client();
    let phone = TestApp::new_client();
    sign_up_and_in(&app, &laptop, "o@example.com", VIN_A, &code).await;
    sign_in(&app, &phone, "o@example.com", PASSWORD).await;

    let res = laptop
        .post(app.url("/api/v1/me/password"))
        .json(&json!({"current": "wrong-password-x", "new": "another-long-pass-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = laptop
        .post(app.url("/api/v1/me/password"))
        .json(&json!({"current": PASSWORD, "new": "another-long-pass-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        laptop
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "this session stays"
    );
    assert_eq!(
        phone
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "the other one ended"
    );
    sign_in(&app, &phone, "o@example.com", "another-long-pass-2").await;
}

#[tokio::test]
async fn unknown_account_and_wrong_password_answer_identically_and_throttling_recovers() {
    // Default 15-minute window, so slow password hashing on a busy machine
    // cannot let a failure slip out of it; time passing is simulated below.
    let app = TestApp::spawn_with(|store| {
        let mut portal = portal_core::server::Portal::new(store);
        portal.throttle.per_account = 3;
        portal
    })
    .await;
    let window_us = portal_core::server::throttle::ThrottlePolicy::default()
        .window
        .as_micros() as i64;
    import_vehicle(&app, VIN_A, &[0]).await;
    let code = claim_code(&app, VIN_A, None).await;
    let c = TestApp::new_client();
    sign_up_and_in(&app, &c, "o@example.com", VIN_A, &code).await;

    let attempt = |account: &'static str, password: &'static str| {
        let c = c.clone();
        let url = app.url("/api/v1/session");
        async move {
            c.post(url)
                .json(&json!({"account": account, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let unknown = attempt("nobody@example.com", "whatever-password").await;
    let wrong = attempt("o@example.com", "whatever-password").await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());

    attempt("o@example.com", "whatever-password").await;
    attempt("o@example.com", "whatever-password").await;
    let throttled = attempt("o@example.com", PASSWORD).await;
    assert_eq!(throttled.status(), 429, "even the right password waits");
    let retry: u64 = throttled.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");

    // The window passes: every recorded failure becomes older than it.
    let secs = (window_us + 1_000_000) / 1_000_000;
    app.sql(
        &format!("UPDATE sign_in_failures SET at = at - {}", secs * 1_000_000),
        &format!("UPDATE sign_in_failures SET at = at - interval '{secs} seconds'"),
    )
    .await;
    assert_eq!(
        attempt("o@example.com", PASSWORD).await.status(),
        204,
        "recovers after the window"
    );
}

#[tokio::test]
async fn cross_site_mutations_are_refused() {
    let app = TestApp::spawn().await;
    let c = TestApp::new_client();
    let res = c
        .post(app.url("/api/v1/session"))
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"account": "o@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "cross_site_request"
    );
    let res = c
        .post(app.url("/api/set_locale"))
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("locale", "en"), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "server functions too");
    let res = c
        .post(app.url("/api/set_locale"))
        .header(header::ORIGIN, format!("http://{}", app.addr))
        .header(header::ACCEPT, "text/html")
        .form(&[("locale", "en"), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "same origin passes");
}

#[tokio::test]
async fn security_headers_and_body_limit() {
    let app = TestApp::spawn().await;
    let res = app.get("/").await;
    let h = res.headers().clone();
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("nonce in CSP");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the CSP nonce"
    );

    let api = app.get("/api/v1/me").await;
    assert!(api.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));

    let big = vec![b'x'; portal::http::BODY_LIMIT + 1];
    let res = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn served_for_https_the_cookie_is_host_prefixed_and_secure_with_hsts() {
    let app = TestApp::spawn_secure().await;
    import_vehicle(&app, VIN_A, &[0]).await;
    let code = claim_code(&app, VIN_A, None).await;
    let c = TestApp::new_client();
    let res = c.post(app.url("/api/v1/accounts"))
        .json(&json!({"account": "o@example.com", "password": PASSWORD, "vin": VIN_A, "claim_code": code}))
        .send().await.unwrap();
    assert_eq!(res.status(), 201);
    let res = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"account": "o@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers()[header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("__Host-portal_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain="), "{cookie}");
}

#[tokio::test]
async fn server_functions_answer_signed_out_callers_with_nothing() {
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN_A, &[0]).await;
    let c = TestApp::new_client();
    let res = c
        .post(app.url("/api/me"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "null");
    // Mutating server functions redirect a signed-out caller to sign in and change nothing.
    let res = c
        .post(app.url("/api/bind_vehicle"))
        .header(header::ACCEPT, "text/html")
        .form(&[("vin", VIN_A), ("claim_code", "AAAA-BBBB-CCCC")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[header::LOCATION], "/signin");
    assert!(app.store.ownership_of_vehicle(1).await.unwrap().is_empty());
}

#[tokio::test]
async fn expired_sessions_are_purged() {
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::{ExpiredDeletion, SessionStore};
    let db = portal_core::server::store::scratch::ScratchDatabase::create()
        .await
        .unwrap();
    let (store, pool) = portal_core::server::store::open(&db.url).await.unwrap();
    let sessions = portal::http::sessions::Sessions::open(&pool, store)
        .await
        .unwrap();
    let mut expired = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
    };
    let mut live = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(30),
    };
    sessions.create(&mut expired).await.unwrap();
    sessions.create(&mut live).await.unwrap();
    // Until it is purged, an expired record is no session.
    assert!(sessions.load(&expired.id).await.unwrap().is_none());
    let loaded = sessions
        .load(&live.id)
        .await
        .unwrap()
        .expect("the live session");
    assert_eq!(loaded.expiry_date, live.expiry_date);
    sessions.delete_expired().await.unwrap();
    let left: i64 = match &pool {
        portal_core::server::store::Pool::Sqlite(p) => {
            sqlx::query_scalar("SELECT count(*) FROM tower_sessions")
                .fetch_one(p)
                .await
        }
        portal_core::server::store::Pool::Postgres(p) => {
            sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session")
                .fetch_one(p)
                .await
        }
    }
    .unwrap();
    assert_eq!(left, 1, "only the live session remains");
    assert!(sessions.load(&live.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_even_when_active() {
    // Generous margins: a busy machine may take a second or more per request.
    let lifetime = std::time::Duration::from_secs(5);
    let app = TestApp::spawn_with(|store| {
        let mut portal = portal_core::server::Portal::new(store);
        portal.session_lifetime = lifetime;
        portal
    })
    .await;
    import_vehicle(&app, VIN_A, &[0]).await;
    let code = claim_code(&app, VIN_A, None).await;
    let c = TestApp::new_client();
    sign_up_and_in(&app, &c, "o@example.com", VIN_A, &code).await;
    // The session started before this instant, so it has ended by `ended`.
    let ended = tokio::time::Instant::now() + lifetime + std::time::Duration::from_millis(500);
    for _ in 0..2 {
        assert_eq!(
            c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
            200,
            "active"
        );
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    }
    tokio::time::sleep_until(ended).await;
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        401,
        "ended after the lifetime"
    );
}
