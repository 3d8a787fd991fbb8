//! The one mapping from service errors to HTTP: the JSON error shape of the
//! API spec; causes of internal errors go to the log, never to the client.

use super::json::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::FromRequest;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_core::server::error::ServiceError;
use portal_core::server::import::ImportError;
use serde_json::json;

pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e)
    }
}

pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message, "details": []}})),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        }
        let details = match &e {
            ServiceError::Invalid {
                field: Some(field), ..
            } => json!([{"field": field}]),
            _ => json!([]),
        };
        let body =
            json!({"error": {"code": e.code(), "message": e.public_message(), "details": details}});
        let mut response = (status, Json(body)).into_response();
        if let ServiceError::Throttled { retry_after_secs } = e {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// An import that did not happen (`POST /api/v1/ingest`): 422 with every
/// listed error and conflict, 413 when the body outgrew the limit, 400 when
/// it could not be read; nothing was stored in any case.
pub struct ImportFailure(pub ImportError);

impl IntoResponse for ImportFailure {
    fn into_response(self) -> Response {
        match self.0 {
            ImportError::Rejected {
                total,
                errors,
                conflicts,
                ..
            } => {
                let body = json!({"error": {
                    "code": "rejected",
                    "message": format!("rejected with {total} error(s); nothing was stored"),
                    "details": errors,
                    "conflicts": conflicts,
                    "total_errors": total,
                }});
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
            ImportError::Io { error, .. } => {
                if let Some(too_large) = error
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<super::ingest::BodyTooLarge>())
                {
                    return error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        &format!("{too_large}; nothing was stored"),
                    );
                }
                tracing::info!(error = %error, "ingest body could not be read");
                error_response(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    "the body could not be read to its end (broken gzip or connection); nothing was stored",
                )
            }
            ImportError::Store(e) => ApiError(ServiceError::Store(e)).into_response(),
        }
    }
}

/// `Json<T>` whose rejections use the API's error shape (400 / 413 / 415 / 422).
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let status = rejection.status();
                let code = match status {
                    StatusCode::UNPROCESSABLE_ENTITY => "invalid_fields",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "expected_json",
                    StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
                    _ => "invalid_json",
                };
                Err(error_response(status, code, &rejection.body_text()))
            }
        }
    }
}

/// `Query<T>` whose rejections use the API's error shape (400 `invalid_query`).
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                let body = json!({"error": {
                    "code": "invalid_query",
                    "message": format!("{field}: {}", e.inner()),
                    "details": if field == "." { json!([]) } else { json!([{"field": field}]) },
                }});
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            })
    }
}

/// Gives every error the API's JSON shape where the framework answers with
/// plain text or nothing: 405 and 413 anywhere, any other 4xx under `/api/`
/// (pages keep their own 404). A server function whose arguments could not
/// be read is a 400 (the framework says 500).
pub async fn json_error_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let under_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return server_fn_argument_errors(response).await;
    }
    if is_json || !status.is_client_error() {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this address does not take that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            "the request body is larger than this address accepts",
        ),
        StatusCode::NOT_FOUND if under_api => ("not_found", "no such resource"),
        _ if under_api => ("bad_request", "the request could not be read"),
        _ => return response,
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let replaced = error_response(status, code, message);
    for (name, value) in replaced.headers() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, replaced.into_body())
}

/// Leptos marks server-function errors with this header.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

/// A server function's error reply: arguments that could not be read are
/// the caller's fault (400), not the server's.
async fn server_fn_argument_errors(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        tracing::error!("a server function's error reply could not be read");
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; it has been logged",
        );
    };
    let kind = bytes.split(|&b| b == b'|').next().unwrap_or_default();
    if matches!(kind, b"Args" | b"MissingArg" | b"Deserialization") {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
