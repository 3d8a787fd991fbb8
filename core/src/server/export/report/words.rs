//! The report's words, read from the locale files the pages are translated
//! from (`app/locales/*.json`), so each phrase is translated once for the
//! screen and the PDF alike. The core does not depend on the Leptos i18n
//! machinery; these files are plain `{ "key": "text" }` JSON.

use std::collections::HashMap;
use std::sync::LazyLock;

pub use crate::domain::vocabulary::Lang;

const ZH_CN: &str = include_str!("../../../../../app/locales/zh-CN.json");
const EN: &str = include_str!("../../../../../app/locales/en.json");

fn table(json: &'static str) -> HashMap<String, String> {
    let entries: HashMap<String, serde_json::Value> =
        serde_json::from_str(json).expect("the locale files are checked by the app's build");
    entries
        .into_iter()
        .filter_map(|(key, value)| Some((key, value.as_str()?.to_string())))
        .collect()
}

static TABLES: LazyLock<[HashMap<String, String>; 2]> = LazyLock::new(|| [table(ZH_CN), table(EN)]);

/// The text of `key` in `lang`; the key itself if a locale lacks it (the
/// test below keeps every key the report uses present in both).
pub fn word(lang: Lang, key: &'static str) -> &'static str {
    let table = &TABLES[match lang {
        Lang::ZhCn => 0,
        Lang::En => 1,
    }];
    table.get(key).map(String::as_str).unwrap_or(key)
}

/// "中文 / English" for one key of the locale files.
macro_rules! both {
    ($key:ident) => {
        format!(
            "{} / {}",
            $crate::server::export::report::words::word(
                $crate::server::export::report::words::Lang::ZhCn,
                stringify!($key)
            ),
            $crate::server::export::report::words::word(
                $crate::server::export::report::words::Lang::En,
                stringify!($key)
            )
        )
    };
}
pub(crate) use both;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the report's source names, by `both!(key)` or
    /// `word(lang, "key")`, is in both locale files.
    #[test]
    fn every_key_the_report_uses_is_translated() {
        let source = include_str!("mod.rs");
        let mut keys = Vec::new();
        for (marker, end) in [
            ("both!(", ')'),
            ("word(Lang::ZhCn, \"", '"'),
            ("word(Lang::En, \"", '"'),
            ("word(lang, \"", '"'),
        ] {
            for piece in source.split(marker).skip(1) {
                keys.push(&piece[..piece.find(end).expect("closed")]);
            }
        }
        assert!(keys.len() > 40, "found only {} keys: {keys:?}", keys.len());
        for lang in [Lang::ZhCn, Lang::En] {
            let missing: Vec<_> = keys
                .iter()
                .filter(|k| !TABLES[lang as usize].contains_key(**k))
                .collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        }
        assert_eq!(word(Lang::ZhCn, "report_page"), TABLES[0]["report_page"]);
        assert_ne!(
            word(Lang::ZhCn, "report_title"),
            word(Lang::En, "report_title")
        );
    }
}
