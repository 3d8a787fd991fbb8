//! The portal served in-process on a loopback port, for the API and load
//! tests and the benchmarks (included by each with `#[path]`; it is not part
//! of the shipped binary).

use leptos::prelude::LeptosOptions;
use portal::http::sessions::Sessions;
use portal::http::{router, AppState};
use portal_core::server::Portal;

/// Serves `portal` on a free loopback port in the background (tests and
/// benchmarks); returns the address. Plain http unless `secure`.
pub async fn serve_loopback(
    portal: Portal,
    pool: &portal_core::server::store::Pool,
    secure: bool,
) -> std::io::Result<std::net::SocketAddr> {
    let sessions = Sessions::open(pool, portal.store.clone())
        .await
        .map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let leptos_options = LeptosOptions::builder()
        .output_name("portal")
        .site_addr(addr)
        .build();
    let app = router(
        AppState {
            leptos_options,
            portal,
        },
        sessions,
        secure,
    );
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!(error = %e, "loopback server stopped");
        }
    });
    Ok(addr)
}
