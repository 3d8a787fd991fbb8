//! Request safety: same-origin mutations and strict response headers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Refuses cross-site mutations (server functions included), and cross-site
/// data downloads: a download is a disclosure recorded in the owner's name,
/// so another site may not start one with the owner's cookies. Browsers send
/// `Sec-Fetch-Site` and `Origin`; scripts that send neither carry no
/// browser cookies, so they are no CSRF vector.
pub async fn same_origin_mutations(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !is_same_origin(&request) {
        return super::error::error_response(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "cross-site requests may not change anything",
        );
    }
    if safe && is_data_download(request.uri().path()) && !is_same_origin(&request) {
        return super::error::error_response(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "exports are downloaded from the portal's own pages, not from another site",
        );
    }
    next.run(request).await
}

/// Addresses that hand out a vehicle's data as a file.
fn is_data_download(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return false;
    };
    (rest.starts_with("vehicles/") && rest.ends_with("/export"))
        || (rest.starts_with("exports/") && rest.ends_with("/file"))
        || (rest.starts_with("staff/cases/") && rest.contains("/exports/"))
}

fn is_same_origin(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or("");
            let host = host.to_str().unwrap_or("");
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        }
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Headers on every response. Pages carry their own CSP with the hydration
/// script's nonce (set by the shell); everything else gets a locked-down one.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let hsts = request.extensions().get::<Hsts>().is_some();
    let static_asset = is_static_asset(request.uri().path());
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    // Pages and replies may be personal: no cache keeps them (the browser's
    // back button included). Only the build's own assets may be cached.
    if !static_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if hsts {
        secure_every_cookie(h);
    }
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("geolocation=(), camera=(), microphone=()"),
    );
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// The build's scripts, styles and icons: the same for everyone.
fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.ico"
}

/// Behind HTTPS every cookie is `Secure`, deletions included: browsers
/// ignore a `__Host-` cookie (and its deletion) without it.
fn secure_every_cookie(headers: &mut axum::http::HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let text = cookie.to_str().unwrap_or_default();
        let has_secure = text
            .split(';')
            .any(|attr| attr.trim().eq_ignore_ascii_case("secure"));
        let value = if has_secure || text.is_empty() {
            cookie
        } else {
            HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
        };
        headers.append(header::SET_COOKIE, value);
    }
}

/// Marks requests served for HTTPS (secure cookies on): they get HSTS.
#[derive(Clone, Copy)]
pub struct Hsts;
