//! Access and disclosures: every export of the vehicle's data and every
//! staff read (with its case and purpose, by role, never by name), newest first.

use crate::api::browse::disclosures;
use crate::api::log::checkpoint_kept;
use crate::components::browse::{encode_query_value, readable, BrowseError, VehicleNav};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use portal_core::domain::audit::AuditAction;
use portal_core::domain::export::{ExportFormat, LocationRedaction};
use portal_core::domain::transparency::SeenBreak;

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
                                <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
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
                                                "recipient" => t!(i18n, by_recipient).into_any(),
                                                "support" | "admin" => view! { {t!(i18n, by_staff)} " (" {e.by.clone()} ")" }.into_any(),
                                                _ => t!(i18n, by_other).into_any(),
                                            };
                                            let action = match e.action {
                                                AuditAction::StaffRead => t!(i18n, action_staff_read).into_any(),
                                                AuditAction::CaseDownload => t!(i18n, action_case_download).into_any(),
                                                AuditAction::GrantCreated => t!(i18n, action_grant_created).into_any(),
                                                AuditAction::GrantRevoked => t!(i18n, action_grant_revoked).into_any(),
                                                AuditAction::GrantRead => t!(i18n, action_grant_read).into_any(),
                                                AuditAction::GrantRefused => {
                                                    let why = match e.refused.as_deref() {
                                                        Some("revoked") => t!(i18n, refused_revoked).into_any(),
                                                        Some("expired") => t!(i18n, refused_expired).into_any(),
                                                        Some("outside_window") => t!(i18n, refused_outside_window).into_any(),
                                                        Some("other_vehicle") => t!(i18n, refused_other_vehicle).into_any(),
                                                        _ => t!(i18n, refused_outside_scope).into_any(),
                                                    };
                                                    view! { {t!(i18n, action_grant_refused)} " (" {why} ")" }.into_any()
                                                }
                                                _ => t!(i18n, nav_export).into_any(),
                                            };
                                            let case = e.case_no.clone().map(|no| format!("{no} · {}", e.purpose.clone().unwrap_or_default()));
                                            // A grant's entries name the recipient and its purpose; staff exports the legal basis.
                                            let recipient = match e.grant_id {
                                                Some(_) => e.recipient.clone().map(|r| format!("{r} · {}", e.purpose.clone().unwrap_or_default())),
                                                None => e.recipient.clone().map(|r| format!("{r} · {}", e.legal_basis.clone().unwrap_or_default())),
                                            };
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
        <KeptCheckpoint vin=vin.get_untracked() />
    }
}

/// The transparency log's checkpoint for the owner to keep (a link with its
/// size and root), and the check of one kept before: red if the log no
/// longer starts with it, which means it was rewritten or shortened.
#[component]
fn KeptCheckpoint(vin: String) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let seen = move || {
        query.with(|q| {
            let size = q.get("seen_size").and_then(|s| s.parse::<u64>().ok());
            (size, q.get("seen_root"))
        })
    };
    let check = Resource::new(seen, |(size, root)| checkpoint_kept(size, root));
    let base = format!("/vehicles/{vin}/access");
    view! {
        <section class="kept-checkpoint" data-testid="kept-checkpoint">
            <h2>{t!(i18n, kept_title)}</h2>
            <p class="muted">{t!(i18n, kept_lead)}</p>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || {
                    let base = base.clone();
                    Suspend::new(async move {
                        match check.await {
                            Ok(since) => {
                                let verdict = since.seen.map(|seen| match seen.consistent {
                                    true => view! {
                                        <p class="notice" role="status" data-testid="log-consistent">
                                            {t!(i18n, kept_consistent)} " " <strong>{seen.size}</strong> " " {t!(i18n, log_leaves)}
                                        </p>
                                    }.into_any(),
                                    false => view! {
                                        <div class="notice notice-error" role="alert" data-testid="log-rewritten">
                                            <p><strong>{t!(i18n, kept_rewritten)}</strong> " (" {seen.size} " " {t!(i18n, log_leaves)} ")"</p>
                                            <p>{match seen.broken {
                                                Some(SeenBreak::Shorter) => t!(i18n, kept_shorter).into_any(),
                                                Some(SeenBreak::NoCheckpoint) => t!(i18n, kept_no_checkpoint).into_any(),
                                                _ => t!(i18n, kept_different).into_any(),
                                            }}</p>
                                            <p>{t!(i18n, kept_rewritten_next)}</p>
                                        </div>
                                    }.into_any(),
                                });
                                let now = since.now.map(|c| {
                                    let link = format!(
                                        "{base}?seen_size={}&seen_root={}",
                                        c.size,
                                        encode_query_value(&c.root)
                                    );
                                    let shown = link.clone();
                                    view! {
                                        <p>
                                            {t!(i18n, kept_now)} " " <strong>{c.size}</strong> " " {t!(i18n, log_leaves)}
                                            " · " {readable(&c.signed_at)} " · " {t!(i18n, log_root)} " " <code class="wrap">{c.root.clone()}</code>
                                        </p>
                                        <p>{t!(i18n, kept_keep)} " " <a href=link data-testid="kept-link"><code class="wrap">{shown}</code></a></p>
                                    }
                                });
                                view! { {verdict} {now} }.into_any()
                            }
                            Err(_) => view! {
                                <p class="notice notice-error" role="alert">{t!(i18n, kept_invalid)}</p>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
            <form method="get" class="form card">
                <label class="field">
                    <span>{t!(i18n, kept_size)}</span>
                    <input type="number" name="seen_size" min="1" inputmode="numeric" />
                </label>
                <label class="field">
                    <span>{t!(i18n, log_root)}</span>
                    <input type="text" name="seen_root" autocomplete="off" />
                </label>
                <button type="submit">{t!(i18n, kept_check)}</button>
            </form>
        </section>
    }
}
