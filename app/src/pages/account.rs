use crate::api::auth::{get_me, BindVehicle, ChangePassword, SetShowLocation};
use crate::components::forms::{Field, QueryError};
use crate::components::layout::PageTitle;
use crate::components::vehicles::VehicleList;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_query_map};
use portal_core::domain::account::Role;

#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let me = Resource::new(
        move || (location.pathname.get(), location.search.get()),
        |_| get_me(),
    );
    let bind = ServerAction::<BindVehicle>::new();
    let change = ServerAction::<ChangePassword>::new();
    let location = ServerAction::<SetShowLocation>::new();
    let query = use_query_map();
    let done = move || query.with(|q| q.get("done"));
    view! {
        <PageTitle text=move || t_string!(i18n, account_title).to_string() />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    // A recipient (a grant's link) has no account to manage.
                    Ok(Some(me)) if me.shared.is_some() => view! {
                        <section class="notice" role="alert" data-testid="browse-error">
                            <p>{t!(i18n, error_forbidden)}</p>
                        </section>
                    }
                    .into_any(),
                    Ok(Some(me)) => view! {
                        <section class="account">
                            <h1>{t!(i18n, account_title)}</h1>
                            <p>{t!(i18n, account_signed_in_as)} " " <strong data-testid="account-name">{me.account.clone()}</strong></p>
                            {move || match done().as_deref() {
                                Some("vehicle") => view! { <p class="form-notice" role="status">{t!(i18n, vehicle_added)}</p> }.into_any(),
                                Some("password") => view! { <p class="form-notice" role="status">{t!(i18n, password_changed)}</p> }.into_any(),
                                Some("location") => view! { <p class="form-notice" role="status">{t!(i18n, location_saved)}</p> }.into_any(),
                                _ => ().into_any(),
                            }}
                            <QueryError />
                            <h2>{t!(i18n, your_vehicles)}</h2>
                            <VehicleList vehicles=me.vehicles.clone() />
                            <div class="form-columns">
                                <ActionForm action=bind attr:class="form card">
                                    <h2>{t!(i18n, add_vehicle_title)}</h2>
                                    <Field label=Signal::derive(move || t_string!(i18n, field_vin).to_string()) name="vin" />
                                    <Field label=Signal::derive(move || t_string!(i18n, field_claim_code).to_string()) name="claim_code" />
                                    <button type="submit">{t!(i18n, add_vehicle_submit)}</button>
                                </ActionForm>
                                <ActionForm action=change attr:class="form card">
                                    <h2>{t!(i18n, change_password_title)}</h2>
                                    <Field label=Signal::derive(move || t_string!(i18n, field_current_password).to_string()) name="current" kind="password" autocomplete="current-password" />
                                    <Field label=Signal::derive(move || t_string!(i18n, field_new_password).to_string()) name="new" kind="password" autocomplete="new-password" />
                                    <button type="submit">{t!(i18n, change_password_submit)}</button>
                                </ActionForm>
                            </div>
                            <ActionForm action=location attr:class="form card" attr:id="location" attr:data-testid="location-form">
                                <h2>{t!(i18n, location_title)}</h2>
                                <p class="muted">{t!(i18n, location_lead)}</p>
                                <label class="check">
                                    <input type="checkbox" name="show" value="on" checked=me.show_location />
                                    " " {t!(i18n, location_show)}
                                </label>
                                <button type="submit">{t!(i18n, save)}</button>
                            </ActionForm>
                            {(me.role == Role::Owner).then(|| view! {
                                <div class="card">
                                    <h2>{t!(i18n, privacy_title)}</h2>
                                    <p class="muted">{t!(i18n, privacy_account_lead)}</p>
                                    <p><A href="/account/privacy-zones" attr:data-testid="privacy-zones-link">{t!(i18n, privacy_manage)}</A></p>
                                </div>
                            })}
                        </section>
                    }
                    .into_any(),
                    _ => view! {
                        <section class="notice">
                            <p>{t!(i18n, sign_in_required)}</p>
                            <p><A href="/signin">{t!(i18n, nav_sign_in)}</A></p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
