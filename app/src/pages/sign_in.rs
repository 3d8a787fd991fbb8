use crate::api::auth::SignIn;
use crate::components::forms::{Field, QueryError};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let created = move || query.with(|q| q.get("created").is_some());
    view! {
        <PageTitle text=move || t_string!(i18n, sign_in_title).to_string() />
        <section class="form-page">
            <h1>{t!(i18n, sign_in_title)}</h1>
            <p>{t!(i18n, sign_in_lead)}</p>
            <Show when=created>
                <p class="form-notice" role="status">{t!(i18n, created_notice)}</p>
            </Show>
            <QueryError />
            <ActionForm action attr:class="form" attr:data-testid="sign-in-form">
                <Field label=Signal::derive(move || t_string!(i18n, field_account).to_string()) name="account" autocomplete="username" />
                <Field label=Signal::derive(move || t_string!(i18n, field_password).to_string()) name="password" kind="password" autocomplete="current-password" />
                <label class="field">
                    <span>{t!(i18n, field_totp)}</span>
                    <input name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" />
                    <small class="muted">{t!(i18n, field_totp_hint)}</small>
                </label>
                <button type="submit" class="primary">{t!(i18n, sign_in_submit)}</button>
            </ActionForm>
            <p>{t!(i18n, no_account_yet)} " " <A href="/signup">{t!(i18n, sign_up_link)}</A></p>
        </section>
    }
}
