//! Remembering the reader's language choice.

use leptos::prelude::*;

/// The cookie leptos_i18n reads on the server and writes in the browser.
pub const LOCALE_COOKIE: &str = "i18n_pref_locale";

/// Sets the language cookie and sends the reader back to the page they were on.
/// Used by the language switch when JavaScript is off.
#[server(endpoint = "set_locale")]
pub async fn set_locale(locale: String, back: String) -> Result<(), ServerFnError> {
    use crate::i18n::Locale;
    use axum::http::{header, HeaderValue};
    use leptos_i18n::Locale as _;
    use std::str::FromStr;

    let locale = Locale::from_str(&locale).map_err(|_| {
        super::auth::ssr::fail(&portal_core::server::error::ServiceError::invalid(
            "unsupported_language",
            "locale",
            "the language is zh-CN or en",
        ))
    })?;
    let cookie = format!(
        "{LOCALE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        locale.as_str()
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("locale names are header-safe"),
    );
    leptos_axum::redirect(local_path_or_home(&back));
    Ok(())
}

/// Only same-site paths: `/x` yes; `//host`, `/\host` or `https://…` never (no open redirect).
pub fn local_path_or_home(back: &str) -> &str {
    let bytes = back.as_bytes();
    let is_local = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !back.chars().any(char::is_control);
    if is_local {
        back
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::local_path_or_home;

    #[test]
    fn redirects_only_to_local_paths() {
        assert_eq!(local_path_or_home("/vehicles?x=1"), "/vehicles?x=1");
        assert_eq!(local_path_or_home("//evil.example"), "/");
        assert_eq!(local_path_or_home("/\\evil.example"), "/");
        assert_eq!(local_path_or_home("https://evil.example"), "/");
        assert_eq!(local_path_or_home("/a\r\nSet-Cookie: x"), "/");
    }
}
