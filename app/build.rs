//! Generates the typed `i18n` module from `locales/*.json` (leptos_i18n 0.6 code generation).
use leptos_i18n_build::{Config, TranslationsInfos};
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let config = Config::new("en")
        .and_then(|c| c.add_locale("zh-CN"))
        .expect("valid locale names");
    let infos = TranslationsInfos::parse(config).expect("locales/*.json parse");
    infos.rerun_if_locales_changed();
    infos.emit_diagnostics();
    infos
        .generate_i18n_module(out_dir.join("i18n"))
        .expect("i18n module generated");
}
