//! JSON replies. axum's `Json` writes serde's many small pieces (quotes,
//! keys, commas) one by one through a `BytesMut` that starts at 128 bytes:
//! on a page of a hundred events that was a fifth of the request's time.
//! Here the reply is written into a plain buffer sized for a page at once.
//! Request bodies are read by `error::ApiJson`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A reply serialized as `application/json`.
pub struct Json<T>(pub T);

/// Most replies fit; larger ones grow the buffer a few times.
const START_CAPACITY: usize = 16 * 1024;

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(START_CAPACITY);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "a reply could not be serialized");
                super::error::error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged",
                )
            }
        }
    }
}
