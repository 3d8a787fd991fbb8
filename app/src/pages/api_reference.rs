//! The API reference for support tooling: every `/api/v1` operation from
//! the OpenAPI document, drawn here (no Swagger bundle, nothing fetched
//! from elsewhere), with a link to the document itself.

use crate::api::staff::api_reference;
use crate::components::browse::BrowseError;
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let i18n = use_i18n();
    let operations = Resource::new(|| (), |_| api_reference());
    view! {
        <PageTitle text=move || t_string!(i18n, api_title).to_string() />
        <section class="api-reference">
            <h1>{t!(i18n, api_title)}</h1>
            <p class="muted">{t!(i18n, api_lead)}</p>
            <p><a href="/api/v1/openapi.json" data-testid="openapi-link">{t!(i18n, api_document)}</a></p>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match operations.await {
                        Ok(list) => view! {
                            <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
                                <table data-testid="api-operations">
                                    <thead><tr>
                                        <th>{t!(i18n, api_col_group)}</th>
                                        <th>{t!(i18n, api_col_operation)}</th>
                                        <th>{t!(i18n, api_col_summary)}</th>
                                        <th>{t!(i18n, api_col_parameters)}</th>
                                        <th>{t!(i18n, api_col_statuses)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|op| view! {
                                            <tr>
                                                <td>{op.tag}</td>
                                                <td><code>{format!("{} {}", op.method, op.path)}</code></td>
                                                <td>{op.summary}</td>
                                                <td><code>{op.parameters.join(", ")}</code></td>
                                                <td>{op.statuses.join(" ")}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
