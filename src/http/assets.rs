//! The portal's own icon, built into the binary so every deployment serves
//! it (nothing is loaded from elsewhere).

use super::AppState;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const FAVICON: &[u8] = include_bytes!("../../style/favicon.ico");

pub fn routes() -> Router<AppState> {
    Router::new().route("/favicon.ico", get(favicon))
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/x-icon"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        FAVICON,
    )
}
