//! Verify an evidence bundle: a plain multipart form (no sign-in) whose
//! result comes back in the address, so it works without JavaScript.

use crate::components::layout::PageTitle;
use crate::i18n::{t, t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn VerifyPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let result = move || query.with(|q| q.get("result"));
    let problem = move |p: String| {
        let (code, file) = p
            .split_once(':')
            .map_or((p.clone(), String::new()), |(c, f)| (c.into(), f.into()));
        let text = match code.as_str() {
            "not_a_bundle" => t!(i18n, problem_not_a_bundle).into_any(),
            "missing_manifest" => t!(i18n, problem_missing_manifest).into_any(),
            "bad_manifest" => t!(i18n, problem_bad_manifest).into_any(),
            "missing_signature" => t!(i18n, problem_missing_signature).into_any(),
            "bad_signature" => t!(i18n, problem_bad_signature).into_any(),
            "missing_file" => t!(i18n, problem_missing_file).into_any(),
            "extra_file" => t!(i18n, problem_extra_file).into_any(),
            "hash_mismatch" => t!(i18n, problem_hash_mismatch).into_any(),
            "duplicate_member" => t!(i18n, problem_duplicate_member).into_any(),
            "ambiguous_archive" => t!(i18n, problem_ambiguous_archive).into_any(),
            "unsafe_archive" => t!(i18n, problem_unsafe_archive).into_any(),
            "corrupt_member" => t!(i18n, problem_corrupt_member).into_any(),
            "sealed_line" => t!(i18n, problem_sealed_line).into_any(),
            "log_proof" => t!(i18n, problem_log_proof).into_any(),
            _ => t!(i18n, error_generic).into_any(),
        };
        view! { <li>{text} " " <code>{file}</code></li> }
    };
    // `sealed=seals.verified.withheld.unsealed.missing.ca` (see src/http/evidence.rs).
    let sealed = move || {
        let summary = query.with(|q| q.get("sealed"))?;
        let n: Vec<u64> = summary.split('.').filter_map(|v| v.parse().ok()).collect();
        let [seals, verified, withheld, unsealed, missing, ca] = n[..] else {
            return None;
        };
        let keys = query.with(|q| q.get("keys")).unwrap_or_default();
        Some(view! {
            <div class="card sealed-summary" data-testid="sealed-summary">
                <h2>{t!(i18n, sealed_title)}</h2>
                <ul>
                    <li><strong>{verified}</strong> " " {t!(i18n, sealed_verified)}</li>
                    <li><strong>{withheld}</strong> " " {t!(i18n, sealed_withheld)}</li>
                    <li><strong>{unsealed}</strong> " " {t!(i18n, sealed_unsealed)}</li>
                    <li><strong>{missing}</strong> " " {t!(i18n, sealed_missing)}</li>
                    <li><strong>{seals}</strong> " " {t!(i18n, sealed_seals)} " " <code>{keys}</code></li>
                </ul>
                {(ca == 0).then(|| view! { <p class="muted">{t!(i18n, sealed_ca_unchecked)}</p> })}
            </div>
        })
    };
    // `log=size.imports.disclosure.witnessed size.witnessed imports.checked`
    // and `cosigned=<name> <time>` per witness (see src/http/evidence.rs).
    let log = move || {
        let summary = query.with(|q| q.get("log"))?;
        let n: Vec<u64> = summary.split('.').filter_map(|v| v.parse().ok()).collect();
        let [size, imports, disclosure, witnessed, witnessed_imports, checked] = n[..] else {
            return None;
        };
        let cosigned = query.with(|q| q.get_all("cosigned")).unwrap_or_default();
        let witnesses = match (witnessed, cosigned.is_empty(), checked) {
            (0, _, _) => view! { <p class="muted">{t!(i18n, verify_log_unwitnessed)}</p> }.into_any(),
            (_, true, _) => view! { <p class="muted">{t!(i18n, verify_log_unchecked)}</p> }.into_any(),
            _ => view! {
                <p>
                    {t!(i18n, verify_log_witnessed)} " " <strong>{witnessed}</strong> " "
                    {t!(i18n, log_leaves)} " (" {witnessed_imports} " " {t!(i18n, verify_log_imports)} ")"
                </p>
                <ul>{cosigned.into_iter().map(|c| view! { <li>{t!(i18n, verify_log_cosigned_by)} " " <code>{c}</code></li> }).collect_view()}</ul>
            }.into_any(),
        };
        Some(view! {
            <div class="card log-summary" data-testid="log-summary">
                <h2>{t!(i18n, verify_log_title)}</h2>
                <p>
                    {t!(i18n, verify_log_disclosure)} " " <strong>{disclosure}</strong> " · "
                    {t!(i18n, verify_log_size)} " " <strong>{size}</strong> " " {t!(i18n, log_leaves)} " · "
                    <strong>{imports}</strong> " " {t!(i18n, verify_log_imports)}
                </p>
                {witnesses}
            </div>
        })
    };
    view! {
        <PageTitle text=move || t_string!(i18n, verify_title).to_string() />
        <section class="verify">
            <h1>{t!(i18n, verify_title)}</h1>
            <p class="muted">{t!(i18n, verify_lead)}</p>
            {move || match result().as_deref() {
                Some("valid") => view! {
                    <div class="notice" role="status" data-testid="verify-result">
                        <p><strong>{t!(i18n, verify_valid)}</strong></p>
                        <p>
                            {t!(i18n, verify_bundle_id)} " " <code>{query.with(|q| q.get("bundle")).unwrap_or_default()}</code>
                            " · VIN " <code>{query.with(|q| q.get("vin")).unwrap_or_default()}</code>
                        </p>
                        <p>{t!(i18n, col_manifest)} " " <code>{query.with(|q| q.get("manifest")).unwrap_or_default()}</code></p>
                    </div>
                    {sealed}
                    {log}
                }.into_any(),
                Some("invalid") => view! {
                    <div class="notice notice-error" role="alert" data-testid="verify-result">
                        <p><strong>{t!(i18n, verify_invalid)}</strong></p>
                        <ul>{query.with(|q| q.get_all("problem").unwrap_or_default()).into_iter().map(problem).collect_view()}</ul>
                    </div>
                    {sealed}
                    {log}
                }.into_any(),
                Some("bad_witness") => view! { <p class="form-error" role="alert">{t!(i18n, verify_bad_witness)}</p> }.into_any(),
                Some("too_large") => view! { <p class="form-error" role="alert">{t!(i18n, verify_too_large)}</p> }.into_any(),
                Some(_) => view! { <p class="form-error" role="alert">{t!(i18n, verify_empty)}</p> }.into_any(),
                None => ().into_any(),
            }}
            <form method="post" action="/verify" enctype="multipart/form-data" class="form card">
                <label class="field">
                    <span>{t!(i18n, verify_witnesses)}</span>
                    <textarea name="witnesses" rows="2" placeholder="witness.example.org/1=BASE64KEY"></textarea>
                    <small class="muted">{t!(i18n, verify_witnesses_hint)}</small>
                </label>
                <label class="field">
                    <span>{t!(i18n, verify_file)}</span>
                    <input type="file" name="bundle" accept=".zip,application/zip" required />
                </label>
                <button type="submit">{t!(i18n, verify_submit)}</button>
            </form>
        </section>
    }
}
