//! The document shell and the router.

use crate::components::layout::Layout;
use crate::i18n::I18nContextProvider;
use crate::pages::{
    access::AccessPage,
    account::AccountPage,
    api_reference::ApiReferencePage,
    case::{CaseEventPage, CasePage},
    dictionary::DictionaryPage,
    drives::DrivesPage,
    event::EventPage,
    events::EventsPage,
    export::ExportPage,
    export_job::ExportJobPage,
    home::HomePage,
    live::LivePage,
    not_found::NotFoundPage,
    privacy::PrivacyZonesPage,
    sharing::SharingPage,
    sign_in::SignInPage,
    sign_up::SignUpPage,
    staff::StaffPage,
    telemetry::TelemetryPage,
    transparency::TransparencyPage,
    vehicle::VehiclePage,
    verify::VerifyPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use leptos_router::SsrMode;

/// The HTML document rendered on the server around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's CSP names the nonce Leptos gives the hydration script.
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(value) =
            axum::http::HeaderValue::from_str(&portal_core::server::csp::page_policy(&nonce))
        {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Cookies the browser sets are `Secure` when the page came over HTTPS (the
/// server adds `Secure` to its own cookies when deployed so).
fn served_over_https() -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().location().protocol().is_ok_and(|p| p == "https:")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // One year, in milliseconds: the language choice is remembered.
    let cookie_options = leptos_use::UseCookieOptions::default()
        .max_age(365 * 24 * 3600 * 1000_i64)
        .path("/")
        .same_site(leptos_use::SameSite::Lax)
        .secure(served_over_https());
    view! {
        <Stylesheet id="leptos" href="/pkg/portal.css" />
        <I18nContextProvider cookie_options>
            <Title formatter=|page: String| {
                if page.is_empty() { "Vehicle Data Portal".to_string() } else { page }
            } />
            <Router>
                <Layout>
                    <Routes fallback=NotFoundPage>
                        // Async: the whole page, header included, arrives rendered,
                        // so it reads the same with JavaScript off.
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                        <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async />
                        <Route path=path!("/signup") view=SignUpPage ssr=SsrMode::Async />
                        <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                        <Route path=path!("/account/privacy-zones") view=PrivacyZonesPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin") view=VehiclePage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/drives") view=DrivesPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/telemetry") view=TelemetryPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/events") view=EventsPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/events/:id") view=EventPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/export") view=ExportPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/exports/:id") view=ExportJobPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/access") view=AccessPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/sharing") view=SharingPage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/live") view=LivePage ssr=SsrMode::Async />
                        <Route path=path!("/vehicles/:vin/dictionary") view=DictionaryPage ssr=SsrMode::Async />
                        <Route path=path!("/staff") view=StaffPage ssr=SsrMode::Async />
                        <Route path=path!("/staff/api") view=ApiReferencePage ssr=SsrMode::Async />
                        <Route path=path!("/staff/cases/:case_no") view=CasePage ssr=SsrMode::Async />
                        <Route path=path!("/staff/cases/:case_no/events/:id") view=CaseEventPage ssr=SsrMode::Async />
                        <Route path=path!("/verify") view=VerifyPage ssr=SsrMode::Async />
                        <Route path=path!("/transparency") view=TransparencyPage ssr=SsrMode::Async />
                    </Routes>
                </Layout>
            </Router>
        </I18nContextProvider>
    }
}
