//! The Content-Security-Policy of rendered pages.

/// Scripts only from this origin or carrying the page's nonce (the hydration
/// script); WebAssembly allowed; no inline scripts, frames or plugins.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}
