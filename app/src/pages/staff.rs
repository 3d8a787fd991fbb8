//! The support console's front page: look up a case number, VIN or account
//! (metadata only), open a case on a vehicle, and the list of cases.

use crate::api::staff::{staff_cases, staff_lookup, OpenCase};
use crate::components::browse::{readable, BrowseError};
use crate::components::forms::QueryError;
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use portal_core::domain::staff::{CaseStatus, CaseSummary};

/// A case status in the reader's language.
#[component]
pub fn StatusLabel(status: CaseStatus) -> impl IntoView {
    let i18n = use_i18n();
    match status {
        CaseStatus::Open => t!(i18n, case_status_open).into_any(),
        CaseStatus::Waiting => t!(i18n, case_status_waiting).into_any(),
        CaseStatus::Closed => t!(i18n, case_status_closed).into_any(),
    }
}

/// Cases as a table, each linking to its page.
#[component]
pub fn CaseTable(cases: Vec<CaseSummary>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
            <table class="data" data-testid="case-table">
                <thead><tr>
                    <th scope="col">{t!(i18n, col_case)}</th>
                    <th scope="col">{t!(i18n, col_vin)}</th>
                    <th scope="col">{t!(i18n, col_subject)}</th>
                    <th scope="col">{t!(i18n, col_purpose)}</th>
                    <th scope="col">{t!(i18n, col_status)}</th>
                    <th scope="col">{t!(i18n, col_opened)}</th>
                </tr></thead>
                <tbody>
                    {cases.into_iter().map(|c| view! {
                        <tr>
                            <td><A href=format!("/staff/cases/{}", c.case_no)>{c.case_no.clone()}</A></td>
                            <td><code>{c.vin.clone()}</code></td>
                            <td>{c.subject.clone()}</td>
                            <td>{c.purpose.clone()}</td>
                            <td><StatusLabel status=c.status /></td>
                            <td>{readable(&c.opened.t_local)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let q = move || query.with(|m| m.get("q").unwrap_or_default());
    let found = Resource::new(q, |q| async move {
        if q.trim().is_empty() {
            Ok(None)
        } else {
            staff_lookup(q).await.map(Some)
        }
    });
    let cases = Resource::new(|| (), |_| staff_cases());
    let open = ServerAction::<OpenCase>::new();
    view! {
        <PageTitle text=move || t_string!(i18n, staff_title).to_string() />
        <section class="staff">
            <h1>{t!(i18n, staff_title)}</h1>
            <p class="muted">{t!(i18n, staff_lead)} " " <A href="/staff/api">{t!(i18n, nav_api)}</A></p>
            <QueryError />
            <form method="get" action="/staff" class="card filters" role="search">
                <label class="field"><span>{t!(i18n, lookup_label)}</span>
                    <input type="search" name="q" value=q required data-testid="lookup-q" /></label>
                <button type="submit">{t!(i18n, lookup_submit)}</button>
            </form>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(found)) => view! {
                            <section class="card" data-testid="lookup-result">
                                <h2>{t!(i18n, lookup_result)}</h2>
                                {found.vehicles.into_iter().map(|v| {
                                    let vin = v.vin.clone();
                                    view! {
                                        <h3><code>{v.vin.clone()}</code> " " {v.model.clone().unwrap_or_default()} " · " {v.timezone.clone()}</h3>
                                        <ul>
                                            {v.periods.into_iter().map(|p| view! {
                                                <li>{p.account} ": " {p.from.as_deref().map(readable).unwrap_or_default()} " – " {p.to.as_deref().map(readable).unwrap_or_default()}</li>
                                            }).collect_view()}
                                        </ul>
                                        <ActionForm action=open attr:class="form form-wide" attr:data-testid="open-case-form">
                                            <input type="hidden" name="vin" value=vin />
                                            <label class="field"><span>{t!(i18n, field_subject)}</span><input name="subject" required /></label>
                                            <label class="field"><span>{t!(i18n, field_purpose)}</span><input name="purpose" required /></label>
                                            <label class="field"><span>{t!(i18n, range_from)}</span><input type="datetime-local" step="1" name="from" /></label>
                                            <label class="field"><span>{t!(i18n, range_to)}</span><input type="datetime-local" step="1" name="to" /></label>
                                            <button type="submit" class="primary">{t!(i18n, open_case_submit)}</button>
                                        </ActionForm>
                                    }
                                }).collect_view()}
                                {found.accounts.into_iter().map(|a| view! {
                                    <p>{a.account} " (" {a.role} "): " {a.vins.join(", ")}</p>
                                }).collect_view()}
                                {if found.cases.is_empty() {
                                    view! { <p class="muted">{t!(i18n, no_cases)}</p> }.into_any()
                                } else {
                                    view! { <CaseTable cases=found.cases /> }.into_any()
                                }}
                            </section>
                        }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
            <h2>{t!(i18n, cases_title)}</h2>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match cases.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t!(i18n, no_cases)}</p> }.into_any(),
                        Ok(list) => view! { <CaseTable cases=list /> }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
