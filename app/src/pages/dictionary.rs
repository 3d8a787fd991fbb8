//! The data dictionary: every channel of the vehicle's data the reader may
//! see, in the reader's language, with its unit, kind, valid range, class,
//! source, the sampling rates seen and the share the car itself signed.

use crate::api::browse::vehicle_dictionary;
use crate::components::browse::{BrowseError, VehicleNav};
use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n, Locale};
use crate::pages::vehicle::use_vin;
use leptos::prelude::*;
use leptos_router::components::A;
use portal_core::domain::dictionary::ChannelEntry;
use portal_core::domain::vocabulary::number;

#[component]
pub fn DictionaryPage() -> impl IntoView {
    let i18n = use_i18n();
    let vin = use_vin();
    let dictionary = Resource::new(move || vin.get(), vehicle_dictionary);
    view! {
        <PageTitle text=move || t_string!(i18n, dictionary_title).to_string() />
        <VehicleNav vin=vin.get_untracked() />
        <section>
            <h1>{t!(i18n, dictionary_title)}</h1>
            <p class="muted">{t!(i18n, dictionary_lead)}</p>
            <p><A href=move || format!("/api/v1/vehicles/{}/dictionary", vin.get()) attr:data-testid="dictionary-json">{t!(i18n, dictionary_json)}</A></p>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match dictionary.await {
                        Ok(d) => view! { <DictionaryTable channels=d.channels /> }.into_any(),
                        Err(error) => view! { <BrowseError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn DictionaryTable(channels: Vec<ChannelEntry>) -> impl IntoView {
    let i18n = use_i18n();
    let zh = move || i18n.get_locale() == Locale::zh_CN;
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=move || t_string!(i18n, table_region)>
        <table class="data" data-testid="dictionary">
            <thead><tr>
                <th scope="col">{t!(i18n, dictionary_channel)}</th>
                <th scope="col">{t!(i18n, dictionary_meaning)}</th>
                <th scope="col">{t!(i18n, dictionary_unit)}</th>
                <th scope="col">{t!(i18n, dictionary_kind)}</th>
                <th scope="col">{t!(i18n, dictionary_range)}</th>
                <th scope="col">{t!(i18n, dictionary_class)}</th>
                <th scope="col">{t!(i18n, dictionary_source)}</th>
                <th scope="col">{t!(i18n, dictionary_rates)}</th>
                <th scope="col">{t!(i18n, dictionary_sealed)}</th>
            </tr></thead>
            <tbody>
                {channels.into_iter().map(|c| {
                    let (label, about, source) = (c.label.clone(), c.about.clone(), c.source.clone());
                    let kind = match c.kind.as_str() {
                        "boolean" => t!(i18n, dictionary_boolean).into_any(),
                        "code" => view! { {t!(i18n, dictionary_code)} ": " {c.values.join(", ")} }.into_any(),
                        _ => t!(i18n, dictionary_number).into_any(),
                    };
                    let range = match (c.min, c.max) {
                        (Some(lo), Some(hi)) => format!("{} – {}", number(lo, 0), number(hi, 0)),
                        (Some(lo), None) => format!("≥ {}", number(lo, 0)),
                        _ => String::new(),
                    };
                    let class = match c.class.as_str() {
                        "location" => t!(i18n, dictionary_location).into_any(),
                        _ => t!(i18n, dictionary_telemetry).into_any(),
                    };
                    let rates = c.rates.iter().map(|r| format!("{} Hz ({:.0} %)", number(r.hz, 1), r.share * 100.0)).collect::<Vec<_>>().join(", ");
                    let sealed = format!("{:.0} %", c.sealed_share * 100.0);
                    view! {
                        <tr data-channel=c.name.clone()>
                            <td><code>{c.name.clone()}</code><br />{move || if zh() { label.zh.clone() } else { label.en.clone() }}</td>
                            <td>{move || if zh() { about.zh.clone() } else { about.en.clone() }}</td>
                            <td>{c.unit.clone()}</td>
                            <td>{kind}</td>
                            <td class="num">{range}</td>
                            <td>{class}</td>
                            <td>{move || if zh() { source.zh.clone() } else { source.en.clone() }}</td>
                            <td>{rates}</td>
                            <td class="num">{sealed}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
