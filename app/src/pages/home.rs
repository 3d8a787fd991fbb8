use crate::api::auth::get_me;
use crate::components::browse::readable;
use crate::components::layout::PageTitle;
use crate::components::vehicles::VehicleList;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let me = Resource::new(move || location.pathname.get(), |_| get_me());
    view! {
        <PageTitle text=move || t_string!(i18n, app_name).to_string() />
        <section class="hero">
            <h1>{t!(i18n, home_title)}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) if me.shared.is_some() => {
                            let grant = me.shared.unwrap_or_else(|| unreachable!());
                            view! {
                                <p class="lead" data-testid="shared-lead">
                                    {t!(i18n, shared_purpose)} ": " {grant.purpose.clone()} " (" {t!(i18n, shared_until)} " " {readable(&grant.expires.t_local)} ")"
                                </p>
                                <p><A href=format!("/vehicles/{}", grant.vin) attr:class="button primary">{t!(i18n, shared_with_you)} " · " {grant.vin.clone()}</A></p>
                            }
                            .into_any()
                        }
                        Ok(Some(me)) => view! {
                            <p class="lead">{t!(i18n, home_signed_in_lead)}</p>
                            <h2>{t!(i18n, your_vehicles)}</h2>
                            <VehicleList vehicles=me.vehicles />
                        }
                        .into_any(),
                        _ => view! {
                            <p class="lead">{t!(i18n, home_lead)}</p>
                            <p class="tagline">{t!(i18n, tagline)}</p>
                            <p class="actions">
                                <A href="/signup" attr:class="button primary">{t!(i18n, home_get_started)}</A>
                                " "
                                <A href="/signin" attr:class="button">{t!(i18n, nav_sign_in)}</A>
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="features">
            <article class="card">
                <h2>{t!(i18n, home_feature_browse_title)}</h2>
                <p>{t!(i18n, home_feature_browse_body)}</p>
            </article>
            <article class="card">
                <h2>{t!(i18n, home_feature_crash_title)}</h2>
                <p>{t!(i18n, home_feature_crash_body)}</p>
            </article>
            <article class="card">
                <h2>{t!(i18n, home_feature_evidence_title)}</h2>
                <p>{t!(i18n, home_feature_evidence_body)}</p>
            </article>
            <article class="card">
                <h2>{t!(i18n, home_feature_privacy_title)}</h2>
                <p>{t!(i18n, home_feature_privacy_body)}</p>
            </article>
        </section>
    }
}
