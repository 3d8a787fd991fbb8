//! A background export's progress: rows and bytes written against the
//! estimate, then the download. The page reloads itself while the job runs
//! (a meta refresh, so it works without JavaScript too).

use crate::api::browse::export_job;
use crate::components::browse::{BrowseError, VehicleNav};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use crate::pages::export::megabytes;
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::hooks::use_params_map;
use portal_core::domain::export::ExportJobState;

#[component]
pub fn ExportJobPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let status = Resource::new(id, export_job);
    view! {
        <PageTitle text=move || t_string!(i18n, export_job_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section class="export-job">
            <h1>{t!(i18n, export_job_title)}</h1>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(job) => {
                            let percent = job.percent();
                            let state = job.state;
                            let download = format!("/api/v1/exports/{}/file", job.id);
                            view! {
                                {(state == ExportJobState::Running).then(|| view! { <Meta http_equiv="refresh" content="2" /> })}
                                <p data-testid="export-job-state" data-state=state.as_str()>
                                    {match state {
                                        ExportJobState::Running => t!(i18n, export_job_running).into_any(),
                                        ExportJobState::Ready => t!(i18n, export_job_ready).into_any(),
                                        ExportJobState::Failed => t!(i18n, export_job_failed).into_any(),
                                    }}
                                </p>
                                <progress max="100" value=percent.to_string() aria-label=move || t_string!(i18n, export_job_title).to_string()>{format!("{percent} %")}</progress>
                                <p data-testid="export-job-progress">
                                    {job.rows_written} " / " {job.rows_expected} " " {t!(i18n, export_rows)}
                                    " · " {megabytes(job.bytes_written)} " / ~" {megabytes(job.bytes_expected)}
                                </p>
                                {(state == ExportJobState::Ready).then(|| view! {
                                    <p><a class="button" href=download rel="external" data-testid="export-job-download">
                                        {t!(i18n, export_submit)} " (" {megabytes(job.size.unwrap_or_default())} ")"
                                    </a></p>
                                    <p class="muted">{t!(i18n, export_job_kept)}</p>
                                })}
                            }.into_any()
                        }
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
