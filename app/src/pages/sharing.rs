//! Sharing: the owner grants a recipient of their choice a scope of this
//! vehicle's data (classes, location, a window, an expiry, a purpose), sees
//! the new link and token once, lists every grant and revokes any of them.

use crate::api::sharing::{take_issued_grant, vehicle_grants, CreateGrant, RevokeGrant};
use crate::components::browse::{readable, BrowseError, VehicleNav};
use crate::components::forms::QueryError;
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use portal_core::domain::export::LocationRedaction;
use portal_core::domain::sharing::{
    DataClass, GrantStatus, GrantSummary, IssuedGrant, RecipientKind, RevokedBecause,
};

/// A recipient kind in the reader's language.
#[component]
pub fn KindLabel(kind: RecipientKind) -> impl IntoView {
    let i18n = use_i18n();
    move || match kind {
        RecipientKind::Insurer => t!(i18n, kind_insurer).into_any(),
        RecipientKind::Repairer => t!(i18n, kind_repairer).into_any(),
        RecipientKind::Lawyer => t!(i18n, kind_lawyer).into_any(),
        RecipientKind::Family => t!(i18n, kind_family).into_any(),
        RecipientKind::Other => t!(i18n, kind_other).into_any(),
    }
}

/// A data class in the reader's language.
#[component]
pub fn ClassLabel(class: DataClass) -> impl IntoView {
    let i18n = use_i18n();
    move || match class {
        DataClass::Telemetry => t!(i18n, class_telemetry).into_any(),
        DataClass::Events => t!(i18n, class_events).into_any(),
        DataClass::Crash => t!(i18n, class_crash_records).into_any(),
    }
}

/// A location level in the reader's language.
#[component]
pub fn LocationLabel(location: LocationRedaction) -> impl IntoView {
    let i18n = use_i18n();
    move || match location {
        LocationRedaction::None => t!(i18n, location_none).into_any(),
        LocationRedaction::Coarse => t!(i18n, location_coarse).into_any(),
        LocationRedaction::Full => t!(i18n, location_full).into_any(),
    }
}

#[component]
pub fn SharingPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let query = use_query_map();
    let changed = move || query.with(|q| (q.get("issued"), q.get("revoked")));
    let grants = Resource::new(
        move || (vin.get(), changed()),
        |(vin, _)| vehicle_grants(vin),
    );
    let issued = Resource::new(changed, |_| take_issued_grant());
    let create = ServerAction::<CreateGrant>::new();
    let revoke = ServerAction::<RevokeGrant>::new();
    view! {
        <PageTitle text=move || t_string!(i18n, sharing_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section class="sharing">
            <h1>{t!(i18n, sharing_title)}</h1>
            <p class="muted">{t!(i18n, sharing_lead)}</p>
            <QueryError />
            {move || query.with(|q| q.get("revoked")).map(|_| view! {
                <p class="form-notice" role="status" data-testid="grant-revoked">{t!(i18n, grant_revoked_notice)}</p>
            })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    issued.await.ok().flatten().map(|issued| view! { <Issued issued /> })
                })}
            </Suspense>
            <h2>{t!(i18n, grants_title)}</h2>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match grants.await {
                        Ok(list) if list.is_empty() => view! { <p class="notice" data-testid="no-grants">{t!(i18n, no_grants)}</p> }.into_any(),
                        Ok(list) => view! { <GrantTable list revoke /> }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
            <h2>{t!(i18n, sharing_new)}</h2>
            <p class="muted">
                {t!(i18n, sharing_zones_note)} " "
                <A href="/account/privacy-zones">{t!(i18n, privacy_manage)}</A>
            </p>
            <NewGrantForm vin=vin.get_untracked() create />
        </section>
    }
}

/// The grant just made: its link and token, this once.
#[component]
fn Issued(issued: IssuedGrant) -> impl IntoView {
    let i18n = use_i18n();
    let (href, link) = (issued.link.clone(), issued.link.clone());
    view! {
        <div class="notice" role="status" data-testid="grant-issued">
            <p><strong>{t!(i18n, grant_issued_title)}</strong> " (" {issued.grant.recipient.clone()} ")"</p>
            <p class="muted">{t!(i18n, grant_issued_once)}</p>
            <dl class="facts">
                <dt>{t!(i18n, grant_link)}</dt>
                <dd><a href=href rel="noreferrer" data-testid="grant-link"><code class="wrap">{link}</code></a></dd>
                <dt>{t!(i18n, grant_token)}</dt>
                <dd><code class="wrap" data-testid="grant-token">{issued.token.clone()}</code></dd>
            </dl>
        </div>
    }
}

#[component]
fn GrantTable(list: Vec<GrantSummary>, revoke: ServerAction<RevokeGrant>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
        <table class="data" data-testid="grants">
            <thead><tr>
                <th scope="col">{t!(i18n, field_recipient)}</th>
                <th scope="col">{t!(i18n, col_purpose)}</th>
                <th scope="col">{t!(i18n, col_scope)}</th>
                <th scope="col">{t!(i18n, col_range)}</th>
                <th scope="col">{t!(i18n, col_expires)}</th>
                <th scope="col">{t!(i18n, col_status)}</th>
                <th scope="col"><span class="visually-hidden">{t!(i18n, grant_revoke)}</span></th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|g| {
                    let window = match g.continuous {
                        true => view! { {t!(i18n, window_continuous)} " (" {readable(&g.created.t_local)} ")" }.into_any(),
                        false => format!(
                            "{} – {}",
                            g.from.as_deref().map(readable).unwrap_or_default(),
                            g.to.as_deref().map(readable).unwrap_or_default()
                        ).into_any(),
                    };
                    let status = match (g.status, g.revoked_because) {
                        (GrantStatus::Active, _) => t!(i18n, grant_active).into_any(),
                        (GrantStatus::Expired, _) => t!(i18n, grant_expired).into_any(),
                        (GrantStatus::Revoked, Some(RevokedBecause::Transfer)) => t!(i18n, grant_transferred).into_any(),
                        (GrantStatus::Revoked, _) => t!(i18n, grant_revoked).into_any(),
                    };
                    let active = g.status == GrantStatus::Active;
                    let (vin, id) = (g.vin.clone(), g.id);
                    view! {
                        <tr data-grant=g.id data-status=g.status.as_str()>
                            <td>{g.recipient.clone()} <br /> <span class="muted"><KindLabel kind=g.kind /></span></td>
                            <td>{g.purpose.clone()}</td>
                            <td>
                                <ul class="plain">
                                    {g.classes.iter().map(|c| view! { <li><ClassLabel class=*c /></li> }).collect_view()}
                                    <li><LocationLabel location=g.location /></li>
                                </ul>
                            </td>
                            <td>{window}</td>
                            <td>{readable(&g.expires.t_local)}</td>
                            <td>{status}</td>
                            <td>{active.then(|| view! {
                                <ActionForm action=revoke attr:class="inline-form">
                                    <input type="hidden" name="vin" value=vin />
                                    <input type="hidden" name="id" value=id />
                                    <button type="submit" data-testid="revoke-grant">{t!(i18n, grant_revoke)}</button>
                                </ActionForm>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

#[component]
fn NewGrantForm(vin: String, create: ServerAction<CreateGrant>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ActionForm action=create attr:class="form form-wide card" attr:data-testid="grant-form">
            <input type="hidden" name="vin" value=vin />
            <label class="field"><span>{t!(i18n, field_recipient_name)}</span><input name="recipient" required maxlength="2000" /></label>
            <label class="field"><span>{t!(i18n, field_recipient_kind)}</span>
                <select name="kind">
                    {RecipientKind::ALL.iter().map(|k| view! { <option value=k.as_str()><KindLabel kind=*k /></option> }).collect_view()}
                </select>
            </label>
            <label class="field"><span>{t!(i18n, field_grant_purpose)}</span><input name="purpose" required maxlength="2000" /></label>
            <fieldset class="field">
                <legend>{t!(i18n, grant_classes)}</legend>
                {DataClass::ALL.iter().map(|c| view! {
                    <label class="check"><input type="checkbox" name=c.as_str() value="on" checked=*c != DataClass::Crash /> " " <ClassLabel class=*c /></label>
                }).collect_view()}
            </fieldset>
            <label class="field"><span>{t!(i18n, export_location)}</span>
                <select name="location">
                    {LocationRedaction::ALL.iter().map(|l| view! { <option value=l.as_str()><LocationLabel location=*l /></option> }).collect_view()}
                </select>
            </label>
            <fieldset class="field">
                <legend>{t!(i18n, grant_window)}</legend>
                <label class="check"><input type="radio" name="window" value="fixed" checked=true /> " " {t!(i18n, window_fixed)}</label>
                <label class="check"><input type="radio" name="window" value="continuous" /> " " {t!(i18n, window_continuous)}</label>
            </fieldset>
            <label class="field"><span>{t!(i18n, range_from)}</span><input type="datetime-local" step="1" name="from" /></label>
            <label class="field"><span>{t!(i18n, range_to)}</span><input type="datetime-local" step="1" name="to" /></label>
            <label class="field"><span>{t!(i18n, grant_expires)}</span><input type="date" name="expires" required /></label>
            <button type="submit" class="primary" data-testid="grant-submit">{t!(i18n, grant_submit)}</button>
        </ActionForm>
    }
}
