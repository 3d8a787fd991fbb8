//! The list of an owner's vehicles with their ownership periods.

use crate::i18n::{t, use_i18n};
use leptos::prelude::*;
use leptos_router::components::A;
use portal_core::domain::account::VehicleBinding;

#[component]
pub fn VehicleList(vehicles: Vec<VehicleBinding>) -> impl IntoView {
    let i18n = use_i18n();
    if vehicles.is_empty() {
        return view! { <p class="muted">{t!(i18n, no_vehicles)}</p> }.into_any();
    }
    view! {
        <ul class="vehicle-list" data-testid="vehicle-list">
            {vehicles
                .into_iter()
                .map(|v| {
                    let from = v.from_local.clone();
                    let to = v.to_local.clone();
                    view! {
                        <li class="card vehicle">
                            <div class="vehicle-name">
                                <A href=format!("/vehicles/{}", v.vin) attr:class="vin" attr:data-testid="vehicle-link"><strong>{v.vin.clone()}</strong></A>
                                <span class="muted">{v.model.clone().unwrap_or_default()}</span>
                            </div>
                            <div class="muted period">
                                {t!(i18n, period_from)} " "
                                {match from {
                                    Some(f) => f.into_any(),
                                    None => t!(i18n, period_start_of_data).into_any(),
                                }} " " {t!(i18n, period_to)} " "
                                {match to {
                                    Some(t) => t.into_any(),
                                    None => t!(i18n, period_open).into_any(),
                                }}
                                " · " {v.timezone.clone()}
                            </div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
