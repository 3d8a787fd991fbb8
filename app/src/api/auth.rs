//! Server functions for the account pages. Each is a plain form target: it
//! redirects to the next page on success, or back to the form with
//! `?error=<code>` (translated by the page), so it works with and without
//! JavaScript alike.

use leptos::prelude::*;
use portal_core::domain::account::Me;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use leptos::prelude::*;
    use portal_core::server::authz::Principal;
    use portal_core::server::error::ServiceError;
    use portal_core::server::Portal;
    use tower_sessions::Session;

    pub async fn context() -> Result<(Portal, Session), ServerFnError> {
        let portal = use_context::<Portal>().ok_or_else(|| ServerFnError::new("internal"))?;
        let session = leptos_axum::extract::<Session>()
            .await
            .map_err(|e| ServerFnError::new(format!("no session: {e}")))?;
        Ok((portal, session))
    }

    pub async fn principal(
        portal: &Portal,
        session: &Session,
    ) -> Result<Option<Principal>, ServerFnError> {
        crate::session::principal(portal, session)
            .await
            .map_err(|e| fail(&e))
    }

    /// Logs internal causes; the client gets the code only, with the
    /// error's HTTP status when the function was called over HTTP (a page
    /// rendering on the server keeps its own status).
    pub fn fail(e: &ServiceError) -> ServerFnError {
        log_cause(e);
        let called_over_http = use_context::<axum::http::request::Parts>()
            .is_some_and(|parts| parts.uri.path().starts_with(crate::api::SERVER_FN_PREFIX));
        if called_over_http {
            if let (Some(response), Ok(status)) = (
                use_context::<leptos_axum::ResponseOptions>(),
                axum::http::StatusCode::from_u16(e.status()),
            ) {
                response.set_status(status);
            }
        }
        ServerFnError::new(e.code())
    }

    fn log_cause(e: &ServiceError) {
        if e.status() >= 500 {
            tracing::error!(error = %e, "server function failed");
        }
    }

    /// Back to a form page with the error's code in the query (a redirect,
    /// so the status stays the redirect's).
    pub fn back_with_error(page: &str, e: &ServiceError) {
        log_cause(e);
        let mut target = format!("{page}?error={}", e.code());
        if let ServiceError::Throttled { retry_after_secs } = e {
            target.push_str(&format!("&retry={retry_after_secs}"));
        }
        leptos_axum::redirect(&target);
    }
}

/// The signed-in account and its vehicles, or `None` when signed out.
#[server(endpoint = "me")]
pub async fn get_me() -> Result<Option<Me>, ServerFnError> {
    let (portal, session) = ssr::context().await?;
    match ssr::principal(&portal, &session).await? {
        Some(who) => portal.me(&who).await.map(Some).map_err(|e| ssr::fail(&e)),
        None => Ok(None),
    }
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(
    account: String,
    password: String,
    /// Staff only: the authenticator's one-time code.
    #[server(default)]
    totp: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::client::ClientAddress;
    let (portal, session) = ssr::context().await?;
    let ClientAddress(address) = leptos_axum::extract::<ClientAddress>().await?;
    let totp = totp.filter(|c| !c.trim().is_empty());
    match portal
        .sign_in(&account, &password, totp.as_deref(), &address)
        .await
    {
        Ok(who) => {
            crate::session::start(&session, &who)
                .await
                .map_err(|e| ssr::fail(&e))?;
            leptos_axum::redirect(if who.role.is_staff() { "/staff" } else { "/" });
        }
        Err(e) => ssr::back_with_error("/signin", &e),
    }
    Ok(())
}

#[server(endpoint = "sign_up")]
pub async fn sign_up(
    account: String,
    password: String,
    vin: String,
    claim_code: String,
) -> Result<(), ServerFnError> {
    use crate::client::ClientAddress;
    let (portal, _) = ssr::context().await?;
    let ClientAddress(address) = leptos_axum::extract::<ClientAddress>().await?;
    match portal
        .sign_up(&account, &password, &vin, &claim_code, &address)
        .await
    {
        Ok(_) => leptos_axum::redirect("/signin?created=1"),
        Err(e) => ssr::back_with_error("/signup", &e),
    }
    Ok(())
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let (_, session) = ssr::context().await?;
    crate::session::end(&session)
        .await
        .map_err(|e| ssr::fail(&e))?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), ServerFnError> {
    let (portal, session) = ssr::context().await?;
    let Some(who) = ssr::principal(&portal, &session).await? else {
        leptos_axum::redirect("/signin");
        return Ok(());
    };
    match portal.change_password(&who, &current, &new).await {
        Ok(epoch) => {
            crate::session::renew_epoch(&session, epoch)
                .await
                .map_err(|e| ssr::fail(&e))?;
            leptos_axum::redirect("/account?done=password");
        }
        Err(e) => ssr::back_with_error("/account", &e),
    }
    Ok(())
}

/// The account's choice to see locations (a checkbox: absent when unticked).
#[server(endpoint = "set_show_location")]
pub async fn set_show_location(show: Option<String>) -> Result<(), ServerFnError> {
    let (portal, session) = ssr::context().await?;
    let Some(who) = ssr::principal(&portal, &session).await? else {
        leptos_axum::redirect("/signin");
        return Ok(());
    };
    match portal.set_show_location(Some(&who), show.is_some()).await {
        Ok(()) => leptos_axum::redirect("/account?done=location"),
        Err(e) => ssr::back_with_error("/account", &e),
    }
    Ok(())
}

#[server(endpoint = "bind_vehicle")]
pub async fn bind_vehicle(vin: String, claim_code: String) -> Result<(), ServerFnError> {
    let (portal, session) = ssr::context().await?;
    let Some(who) = ssr::principal(&portal, &session).await? else {
        leptos_axum::redirect("/signin");
        return Ok(());
    };
    match portal.bind_vehicle(&who, &vin, &claim_code).await {
        Ok(_) => leptos_axum::redirect("/account?done=vehicle"),
        Err(e) => ssr::back_with_error("/account", &e),
    }
    Ok(())
}
