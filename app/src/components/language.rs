//! Language switch. Without JavaScript it is a form that posts to the
//! `set_locale` server function (which sets the cookie and redirects back);
//! once hydrated the click switches in place.

use crate::api::locale::SetLocale;
use crate::i18n::{t, t_string, use_i18n, Locale};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_i18n::Locale as _;
use leptos_router::hooks::use_location;

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let other = move || match i18n.get_locale() {
        Locale::en => Locale::zh_CN,
        Locale::zh_CN => Locale::en,
    };
    let back = move || {
        let search = location.search.get();
        let path = location.pathname.get();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        i18n.set_locale(other());
    };
    view! {
        <form class="lang-switch" method="post" action=SetLocale::url() on:submit=on_submit>
            <input type="hidden" name="locale" value=move || other().as_str() />
            <input type="hidden" name="back" value=back />
            <button
                type="submit"
                data-testid="language-switch"
                aria-label=move || t_string!(i18n, switch_language_label)
                lang=move || other().as_str()
            >
                {t!(i18n, switch_language)}
            </button>
        </form>
    }
}
