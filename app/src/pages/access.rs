//! Access and disclosures: every export of the vehicle's data and every
//! staff read (with its case and purpose, by role, never by name), newest first.

use crate::api::browse::disclosures;
use crate::components::browse::{readable, BrowseError, VehicleNav};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use portal_core::domain::audit::AuditAction;
use portal_core::domain::export::{ExportFormat, LocationRedaction};

#[component]
pub fn AccessPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let query = use_query_map();
    let log = Resource::new(
        move || (vin.get(), query.with(|q| q.get("cursor"))),
        |(vin, cursor)| disclosures(vin, cursor),
    );
    view! {
        <PageTitle text=move || t_string!(i18n, access_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section>
            <h1>{t!(i18n, access_title)}</h1>
            <p class="muted">{t!(i18n, access_lead)}</p>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(page) if page.items.is_empty() => view! { <p class="notice" data-testid="no-access">{t!(i18n, no_access)}</p> }.into_any(),
                        Ok(page) => {
                            let next = page.next_cursor.clone().map(|c| format!("/vehicles/{}/access?cursor={c}", vin.get_untracked()));
                            view! {
                                <div class="table-scroll">
                                <table class="data" data-testid="access-log">
                                    <thead><tr>
                                        <th scope="col">{t!(i18n, col_time)}</th>
                                        <th scope="col">{t!(i18n, col_by)}</th>
                                        <th scope="col">{t!(i18n, col_action)}</th>
                                        <th scope="col">{t!(i18n, col_format)}</th>
                                        <th scope="col">{t!(i18n, col_range)}</th>
                                        <th scope="col">{t!(i18n, col_redaction)}</th>
                                        <th scope="col">{t!(i18n, col_case_purpose)}</th>
                                        <th scope="col">{t!(i18n, col_recipient)}</th>
                                        <th scope="col">{t!(i18n, col_manifest)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|e| {
                                            let range = format!(
                                                "{} – {}",
                                                e.from.as_deref().map(readable).unwrap_or_default(),
                                                e.to.as_deref().map(readable).unwrap_or_default()
                                            );
                                            let by = match e.by.as_str() {
                                                "you" => t!(i18n, by_you).into_any(),
                                                "support" | "admin" => view! { {t!(i18n, by_staff)} " (" {e.by.clone()} ")" }.into_any(),
                                                _ => t!(i18n, by_other).into_any(),
                                            };
                                            let action = match e.action {
                                                AuditAction::StaffRead => t!(i18n, action_staff_read).into_any(),
                                                AuditAction::CaseDownload => t!(i18n, action_case_download).into_any(),
                                                _ => t!(i18n, nav_export).into_any(),
                                            };
                                            let case = e.case_no.clone().map(|no| format!("{no} · {}", e.purpose.clone().unwrap_or_default()));
                                            let recipient = e.recipient.clone().map(|r| format!("{r} · {}", e.legal_basis.clone().unwrap_or_default()));
                                            view! {
                                                <tr data-action=e.action.as_str()>
                                                    <td>{readable(&e.at.t_local)}</td>
                                                    <td>{by}</td>
                                                    <td>{action}</td>
                                                    <td>{e.format.map(ExportFormat::as_str)}</td>
                                                    <td>{range}</td>
                                                    <td>{e.location.map(LocationRedaction::as_str)}</td>
                                                    <td>{case}</td>
                                                    <td>{recipient}</td>
                                                    <td><code>{e.manifest_sha256.clone().unwrap_or_default()}</code></td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                                <p class="pager">{next.map(|href| view! { <A href=href>{t!(i18n, next_page)}</A> })}</p>
                            }.into_any()
                        }
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
