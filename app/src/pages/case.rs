//! One case: what it is about and covers, its status and notes, the
//! vehicle's events within it (each read is recorded and shown to the
//! owner), an export to the case, and the timeline.

use crate::api::staff::{case_event, case_events, staff_case, CaseNote, CaseStatus, ExportToCase};
use crate::components::browse::{event_type_label, readable, severity_label, BrowseError};
use crate::components::forms::QueryError;
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::event::Detail;
use crate::pages::export::megabytes;
use crate::pages::staff::StatusLabel;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use portal_core::domain::staff::CaseStatus as Status;

fn use_case_no() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("case_no").unwrap_or_default()))
}

#[component]
pub fn CasePage() -> impl IntoView {
    let i18n = use_i18n();
    let case_no = use_case_no();
    let query = use_query_map();
    let exported = move || query.with(|q| q.get("exported"));
    let case = Resource::new(
        move || (case_no.get(), exported()),
        |(no, _)| staff_case(no),
    );
    let events = Resource::new(move || case_no.get(), case_events);
    let note = ServerAction::<CaseNote>::new();
    let status = ServerAction::<CaseStatus>::new();
    let export = ServerAction::<ExportToCase>::new();
    view! {
        <PageTitle text=move || format!("{} · {}", case_no.get(), t_string!(i18n, case_title)) />
        <p><A href="/staff">{t!(i18n, back_to_console)}</A></p>
        <QueryError />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                let view = match case.await {
                    Ok(view) => view,
                    Err(error) => return view! { <BrowseError error /> }.into_any(),
                };
                let c = view.case.clone();
                let no = c.case_no.clone();
                let (no_status, no_export, no_note) = (no.clone(), no.clone(), no.clone());
                let exports: Vec<_> = view
                    .exports
                    .iter()
                    .map(|x| (x.clone(), format!("/api/v1/staff/cases/{no}/exports/{}", x.bundle_id)))
                    .collect();
                view! {
                    <section class="case" data-testid="case-page">
                        <h1>{t!(i18n, case_title)} " " {no}</h1>
                        <dl class="facts">
                            <dt>{t!(i18n, col_vin)}</dt><dd><code>{c.vin.clone()}</code></dd>
                            <dt>{t!(i18n, case_owner)}</dt><dd>{c.owner.clone().unwrap_or_default()}</dd>
                            <dt>{t!(i18n, col_subject)}</dt><dd>{c.subject.clone()}</dd>
                            <dt>{t!(i18n, col_purpose)}</dt><dd>{c.purpose.clone()}</dd>
                            <dt>{t!(i18n, col_status)}</dt><dd data-testid="case-status"><StatusLabel status=c.status /></dd>
                            <dt>{t!(i18n, case_covers)}</dt>
                            <dd>{c.from.as_deref().map(readable).unwrap_or_default()} " – " {c.to.as_deref().map(readable).unwrap_or_default()}</dd>
                        </dl>
                        {exported().map(|id| view! { <p class="form-notice" role="status" data-testid="exported">{t!(i18n, case_exported)} " " <code>{id}</code></p> })}
                        <ActionForm action=status attr:class="inline-form">
                            <input type="hidden" name="case_no" value=no_status />
                            <label class="field"><span>{t!(i18n, col_status)}</span>
                                <select name="status">
                                    {Status::ALL.iter().map(|s| view! {
                                        <option value=s.as_str() selected=*s == c.status><StatusLabel status=*s /></option>
                                    }).collect_view()}
                                </select>
                            </label>
                            <button type="submit">{t!(i18n, case_status_submit)}</button>
                        </ActionForm>

                        <h2>{t!(i18n, case_events)}</h2>
                        <p class="muted">{t!(i18n, case_reads_recorded)}</p>
                        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                            {move || Suspend::new(async move {
                                match events.await {
                                    Ok(page) => view! {
                                        <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)><table class="data" data-testid="case-events">
                                            <thead><tr>
                                                <th scope="col">{t!(i18n, col_time)}</th>
                                                <th scope="col">{t!(i18n, col_type)}</th>
                                                <th scope="col">{t!(i18n, col_severity)}</th>
                                            </tr></thead>
                                            <tbody>
                                                {page.items.into_iter().map(|e| view! {
                                                    <tr>
                                                        <td><A href=format!("/staff/cases/{}/events/{}", case_no.get_untracked(), e.id)>{readable(&e.at.t_local)}</A></td>
                                                        <td data-event-type=e.event_type.as_str()>{event_type_label(e.event_type)}</td>
                                                        <td>{severity_label(e.severity)}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table></div>
                                    }.into_any(),
                                    Err(error) => view! { <BrowseError error /> }.into_any(),
                                }
                            })}
                        </Suspense>

                        <h2>{t!(i18n, case_export_title)}</h2>
                        <ActionForm action=export attr:class="form form-wide card" attr:data-testid="case-export-form">
                            <input type="hidden" name="case_no" value=no_export />
                            <label class="field"><span>{t!(i18n, field_recipient)}</span><input name="recipient" required /></label>
                            <label class="field"><span>{t!(i18n, field_legal_basis)}</span><input name="legal_basis" required /></label>
                            <label class="field"><span>{t!(i18n, range_from)}</span><input type="datetime-local" step="1" name="from" /></label>
                            <label class="field"><span>{t!(i18n, range_to)}</span><input type="datetime-local" step="1" name="to" /></label>
                            <label class="field"><span>{t!(i18n, export_location)}</span>
                                <select name="location">
                                    <option value="none">{t!(i18n, location_none)}</option>
                                    <option value="coarse">{t!(i18n, location_coarse)}</option>
                                    <option value="full">{t!(i18n, location_full)}</option>
                                </select>
                            </label>
                            <button type="submit" class="primary">{t!(i18n, case_export_submit)}</button>
                        </ActionForm>
                        {(!exports.is_empty()).then(|| view! {
                            <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)><table class="data" data-testid="case-exports">
                                <thead><tr>
                                    <th scope="col">{t!(i18n, col_time)}</th>
                                    <th scope="col">{t!(i18n, field_recipient)}</th>
                                    <th scope="col">{t!(i18n, field_legal_basis)}</th>
                                    <th scope="col">{t!(i18n, col_manifest)}</th>
                                    <th scope="col">{t!(i18n, export_submit)}</th>
                                </tr></thead>
                                <tbody>
                                    {exports.into_iter().map(|(x, href)| {
                                        view! {
                                        <tr>
                                            <td>{readable(&x.at.t_local)}</td>
                                            <td>{x.recipient.clone()}</td>
                                            <td>{x.legal_basis.clone()}</td>
                                            <td><code>{x.manifest_sha256.clone()}</code></td>
                                            <td><a rel="external" href=href>{megabytes(x.size)}</a></td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table></div>
                        })}

                        <h2>{t!(i18n, case_timeline)}</h2>
                        <ActionForm action=note attr:class="form form-wide">
                            <input type="hidden" name="case_no" value=no_note />
                            <label class="field"><span>{t!(i18n, field_note)}</span><textarea name="text" required rows="2"></textarea></label>
                            <button type="submit">{t!(i18n, case_note_submit)}</button>
                        </ActionForm>
                        <ol class="timeline" data-testid="case-timeline">
                            {view.timeline.into_iter().map(|e| view! {
                                <li data-action=e.action.as_str()>
                                    <time>{readable(&e.at.t_local)}</time> " · " {e.role} " " <span class="muted" data-testid="timeline-by">{e.by}</span> " · " <strong>{e.action.as_str()}</strong> " " {e.text}
                                </li>
                            }).collect_view()}
                        </ol>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// One event of the case's vehicle, with its crash record: the owners'
/// event view, read within the case.
#[component]
pub fn CaseEventPage() -> impl IntoView {
    let i18n = use_i18n();
    let case_no = use_case_no();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let detail = Resource::new(move || (case_no.get(), id()), |(no, id)| case_event(no, id));
    view! {
        <PageTitle text=move || t_string!(i18n, event_title).to_string() />
        <p><A href=move || format!("/staff/cases/{}", case_no.get())>{t!(i18n, back_to_case)} " " {case_no}</A></p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail d vin=String::new() tz=None case_no=case_no.get_untracked() /> }.into_any(),
                    Err(error) => view! { <BrowseError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
