//! The one responder for every file the portal hands out (exports, a
//! background export's file, a case's bundle): its type, a download name,
//! its length when known, and never a cached copy.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use portal_core::server::export::Export;

pub struct Download(pub Export);

impl IntoResponse for Download {
    fn into_response(self) -> Response {
        let Download(export) = self;
        let disposition = format!("attachment; filename=\"{}\"", export.filename);
        let mut response = (
            [
                (header::CONTENT_TYPE, export.content_type.to_string()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            axum::body::Body::from_stream(export.body),
        )
            .into_response();
        if let Some(length) = export.length {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, length.into());
        }
        response
    }
}
