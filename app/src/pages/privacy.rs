//! Privacy zones: the places (home, work) whose positions the owner hides
//! from every page, every export and everyone they share data with. Plain
//! forms: adding and removing work without JavaScript.

use crate::api::privacy::{privacy_zones, AddPrivacyZone, RemovePrivacyZone};
use crate::components::browse::BrowseError;
use crate::components::forms::QueryError;
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use portal_core::domain::privacy::{PrivacyZone, MIN_ZONE_RADIUS_M};

#[component]
pub fn PrivacyZonesPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let changed = move || query.with(|q| (q.get("added"), q.get("removed")));
    let zones = Resource::new(changed, |_| privacy_zones());
    let add = ServerAction::<AddPrivacyZone>::new();
    let remove = ServerAction::<RemovePrivacyZone>::new();
    view! {
        <PageTitle text=move || t_string!(i18n, privacy_title).to_string() />
        <section class="privacy">
            <h1>{t!(i18n, privacy_title)}</h1>
            <p class="muted">{t!(i18n, privacy_lead)}</p>
            <QueryError />
            {move || changed().0.map(|_| view! {
                <p class="form-notice" role="status" data-testid="zone-added">{t!(i18n, zone_added_notice)}</p>
            })}
            {move || changed().1.map(|_| view! {
                <p class="form-notice" role="status" data-testid="zone-removed">{t!(i18n, zone_removed_notice)}</p>
            })}
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match zones.await {
                        Ok(list) if list.is_empty() => view! { <p class="notice" data-testid="no-zones">{t!(i18n, privacy_none)}</p> }.into_any(),
                        Ok(list) => view! { <ZoneTable list remove /> }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
            <h2>{t!(i18n, privacy_new)}</h2>
            <ActionForm action=add attr:class="form card" attr:data-testid="zone-form">
                <label class="field"><span>{t!(i18n, field_zone_name)}</span><input name="name" required maxlength="2000" /></label>
                <p class="muted" id="zone-coordinates-hint">{t!(i18n, zone_coordinates_hint)}</p>
                <label class="field"><span>{t!(i18n, field_zone_lat)}</span>
                    <input name="lat" inputmode="decimal" required aria-describedby="zone-coordinates-hint" />
                </label>
                <label class="field"><span>{t!(i18n, field_zone_lon)}</span>
                    <input name="lon" inputmode="decimal" required aria-describedby="zone-coordinates-hint" />
                </label>
                <label class="field"><span>{t!(i18n, field_zone_radius)}</span>
                    <input name="radius_m" type="number" min=MIN_ZONE_RADIUS_M step="any" value="300" required />
                </label>
                <button type="submit" class="primary" data-testid="zone-submit">{t!(i18n, zone_add_submit)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ZoneTable(list: Vec<PrivacyZone>, remove: ServerAction<RemovePrivacyZone>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
        <table class="data" data-testid="zones">
            <thead><tr>
                <th scope="col">{t!(i18n, col_zone_name)}</th>
                <th scope="col">{t!(i18n, col_zone_centre)}</th>
                <th scope="col">{t!(i18n, col_zone_radius)}</th>
                <th scope="col"><span class="visually-hidden">{t!(i18n, zone_remove)}</span></th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|z| view! {
                    <tr data-zone=z.id>
                        <td>{z.name.clone()}</td>
                        <td>{format!("{:.5}, {:.5}", z.lat, z.lon)}</td>
                        <td>{format!("{}", z.radius_m.round())} " " {t!(i18n, unit_metres)}</td>
                        <td>
                            <ActionForm action=remove attr:class="inline-form">
                                <input type="hidden" name="id" value=z.id />
                                <button type="submit" data-testid="remove-zone">{t!(i18n, zone_remove)}</button>
                            </ActionForm>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
