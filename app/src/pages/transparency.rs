//! The transparency log at a glance, for anyone: its size, the newest
//! signed checkpoint and when each expected witness last cosigned (a late
//! witness is marked). The raw documents are linked for tools.

use crate::api::log::transparency_log;
use crate::components::browse::readable;
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use portal_core::domain::transparency::{LogOverview, WitnessStatus};

#[component]
pub fn TransparencyPage() -> impl IntoView {
    let i18n = use_i18n();
    let overview = Resource::new(|| (), |_| transparency_log());
    view! {
        <PageTitle text=move || t_string!(i18n, log_title).to_string() />
        <section class="transparency">
            <h1>{t!(i18n, log_title)}</h1>
            <p class="muted">{t!(i18n, log_lead)}</p>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(log) => view! { <LogState log /> }.into_any(),
                        Err(_) => view! {
                            <p class="notice notice-error" role="alert">{t!(i18n, error_generic)}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn LogState(log: LogOverview) -> impl IntoView {
    let i18n = use_i18n();
    let checkpoint = match log.checkpoint {
        Some(c) => view! {
            <dt>{t!(i18n, log_checkpoint)}</dt>
            <dd data-testid="log-checkpoint">
                {c.size} " " {t!(i18n, log_leaves)} " · " {readable(&c.signed_at)}
                <br />
                {t!(i18n, log_root)} " " <code class="wrap">{c.root}</code>
            </dd>
        }
        .into_any(),
        None => view! {
            <dt>{t!(i18n, log_checkpoint)}</dt>
            <dd>{t!(i18n, log_none_yet)}</dd>
        }
        .into_any(),
    };
    let witnesses = match log.witnesses.is_empty() {
        true => view! { <p class="notice" data-testid="no-witnesses">{t!(i18n, log_no_witnesses)}</p> }.into_any(),
        false => view! {
            <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
                <table class="data" data-testid="witnesses">
                    <thead><tr>
                        <th scope="col">{t!(i18n, log_col_witness)}</th>
                        <th scope="col">{t!(i18n, log_col_last)}</th>
                        <th scope="col">{t!(i18n, log_col_status)}</th>
                    </tr></thead>
                    <tbody>{log.witnesses.into_iter().map(|w| view! { <WitnessRow w /> }).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any(),
    };
    view! {
        <div class="card">
            <dl class="facts">
                <dt>{t!(i18n, log_size)}</dt>
                <dd data-testid="log-size">{log.size} " " {t!(i18n, log_leaves)}
                    {(log.pending > 0).then(|| view! { " (" {log.pending} " " {t!(i18n, log_pending)} ")" })}
                </dd>
                {checkpoint}
                <dt>{t!(i18n, log_origin)}</dt>
                <dd><code class="wrap">{log.key.unwrap_or(log.origin)}</code></dd>
            </dl>
        </div>
        <h2>{t!(i18n, log_witnesses)}</h2>
        <p class="muted">{t!(i18n, log_witnesses_lead)}</p>
        {witnesses}
        <h2>{t!(i18n, log_for_tools)}</h2>
        <ul>
            <li><a href="/log/checkpoint" rel="external"><code>"/log/checkpoint"</code></a> " " {t!(i18n, log_raw_checkpoint)}</li>
            <li><a href="/log/overview" rel="external"><code>"/log/overview"</code></a> " " {t!(i18n, log_raw_overview)}</li>
        </ul>
    }
}

#[component]
fn WitnessRow(w: WitnessStatus) -> impl IntoView {
    let i18n = use_i18n();
    let last = match w.last {
        Some(l) => view! { {readable(&l.cosigned_at)} " · " {l.size} " " {t!(i18n, log_leaves)} }
            .into_any(),
        None => t!(i18n, log_never).into_any(),
    };
    let status = match w.late {
        true => {
            view! { <span class="badge badge-warn">{t!(i18n, log_status_late)}</span> }.into_any()
        }
        false => view! { <span class="badge">{t!(i18n, log_status_current)}</span> }.into_any(),
    };
    view! {
        <tr data-witness=w.name.clone() data-late=w.late.to_string()>
            <td>{w.name.clone()} <br /> <code class="wrap small">{w.key}</code></td>
            <td>{last}</td>
            <td>{status}</td>
        </tr>
    }
}
