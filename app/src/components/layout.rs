//! Page frame: header with navigation and language switch, main, footer.

use super::language::LanguageSwitch;
use crate::api::auth::{get_me, SignOut};
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use portal_core::domain::account::Me;

/// Who is reading, refreshed on every navigation: one request shared by
/// the session links and the vehicle navigation.
#[derive(Clone, Copy)]
pub struct CurrentReader(pub Resource<Result<Option<Me>, ServerFnError>>);

impl CurrentReader {
    /// Whether the reader came through a grant's link (no account pages).
    pub async fn is_recipient(self) -> bool {
        matches!(self.0.await, Ok(Some(me)) if me.shared.is_some())
    }
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    provide_context(CurrentReader(Resource::new(
        move || (location.pathname.get(), location.search.get()),
        |_| get_me(),
    )));
    // Effects run only in the browser: the marker tells tests (and CSS) that
    // the page is interactive.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <div class="page" data-hydrated=move || hydrated.get().to_string()>
            <a class="skip-link" href="#main">{t!(i18n, skip_to_content)}</a>
            <header class="site-header">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    {t!(i18n, app_name)}
                </A>
                <nav aria-label=move || t_string!(i18n, nav_main) class="site-nav">
                    <A href="/">{t!(i18n, nav_home)}</A>
                </nav>
                <SessionNav />
                <LanguageSwitch />
            </header>
            <main id="main" class="site-main">
                <ErrorBoundary fallback=|_errors| view! { <ErrorNotice /> }>{children()}</ErrorBoundary>
            </main>
            <footer class="site-footer">
                <p>{t!(i18n, footer_note)}</p>
                <p class="footer-links">
                    <A href="/verify">{t!(i18n, nav_verify)}</A>
                    " · "
                    <A href="/transparency">{t!(i18n, nav_log)}</A>
                </p>
            </footer>
        </div>
    }
}

/// What a reader sees when part of a page failed; the cause is logged on the server.
#[component]
fn ErrorNotice() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="notice notice-error" role="alert">
            <h1>{t!(i18n, error_title)}</h1>
            <p>{t!(i18n, error_body)}</p>
        </section>
    }
}

/// Sign in, or the account link and sign out, refreshed on every navigation.
#[component]
fn SessionNav() -> impl IntoView {
    let i18n = use_i18n();
    let me = expect_context::<CurrentReader>().0;
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    // A recipient (a grant's link): their vehicle, no account pages.
                    Ok(Some(me)) if me.shared.is_some() => {
                        let vin = me.shared.map(|g| g.vin).unwrap_or_default();
                        view! {
                            <div class="session-nav" data-testid="shared-nav">
                                <A href=format!("/vehicles/{vin}")>{t!(i18n, shared_with_you)}</A>
                                <form method="post" action=SignOut::url() class="inline-form">
                                    <button type="submit" data-testid="sign-out">{t!(i18n, sign_out)}</button>
                                </form>
                            </div>
                        }
                        .into_any()
                    }
                    Ok(Some(me)) => view! {
                        <div class="session-nav">
                            {me.role.is_staff().then(|| view! { <A href="/staff" attr:data-testid="nav-staff">{t!(i18n, nav_staff)}</A> })}
                            <A href="/account">{t!(i18n, nav_account)}</A>
                            // A plain POST and a full page load: every view starts signed out.
                            <form method="post" action=SignOut::url() class="inline-form">
                                <button type="submit" data-testid="sign-out">{t!(i18n, sign_out)}</button>
                            </form>
                        </div>
                    }
                    .into_any(),
                    _ => view! {
                        <div class="session-nav">
                            <A href="/signin" attr:data-testid="nav-sign-in">{t!(i18n, nav_sign_in)}</A>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The page's `<title>`. On the server it is computed once, as the page
/// renders: the head is written after the body, and by then the page's
/// reactive owner may be gone under load (a closure read that late panicked
/// in the load test). In the browser it follows the language switch.
#[component]
pub fn PageTitle(text: impl Fn() -> String + Send + Sync + 'static) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let text = {
        let once = text();
        move || once.clone()
    };
    view! { <leptos_meta::Title text /> }
}
