use crate::api::auth::SignUp;
use crate::components::forms::{Field, QueryError};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SignUp>::new();
    view! {
        <PageTitle text=move || t_string!(i18n, sign_up_title).to_string() />
        <section class="form-page">
            <h1>{t!(i18n, sign_up_title)}</h1>
            <p>{t!(i18n, sign_up_lead)}</p>
            <QueryError />
            <ActionForm action attr:class="form" attr:data-testid="sign-up-form">
                <Field label=Signal::derive(move || t_string!(i18n, field_account).to_string()) name="account" autocomplete="username" />
                <Field label=Signal::derive(move || t_string!(i18n, field_password).to_string()) name="password" kind="password" autocomplete="new-password" />
                <Field label=Signal::derive(move || t_string!(i18n, field_vin).to_string()) name="vin" />
                <Field label=Signal::derive(move || t_string!(i18n, field_claim_code).to_string()) name="claim_code" />
                <button type="submit" class="primary">{t!(i18n, sign_up_submit)}</button>
            </ActionForm>
            <p>{t!(i18n, have_account)} " " <A href="/signin">{t!(i18n, nav_sign_in)}</A></p>
        </section>
    }
}
