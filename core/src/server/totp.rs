//! The staff second factor: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s
//! steps), one step of clock skew either way, and each step taken at most
//! once per account, so a code seen over someone's shoulder is worthless.

use super::error::ServiceError;
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECS: u64 = 30;
const ISSUER: &str = "Vehicle Data Portal";

/// A new random secret (160 bits, as RFC 4226 recommends), base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(text) => text,
        Secret::Raw(_) => unreachable!("to_encoded encodes"),
    }
}

fn totp(secret: &str, account: &str) -> Result<TOTP, ServiceError> {
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .map_err(|e| ServiceError::Internal(format!("stored TOTP secret is not base32: {e:?}")))?;
    // The otpauth label may not hold a colon; account names never do, but be safe.
    let label = account.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS,
        bytes,
        Some(ISSUER.into()),
        label,
    )
    .map_err(|e| ServiceError::Internal(format!("TOTP setup: {e}")))
}

/// The `otpauth://` address an authenticator app enrols from.
pub fn provisioning_url(secret: &str, account: &str) -> Result<String, ServiceError> {
    Ok(totp(secret, account)?.get_url())
}

/// The enrolment QR code, drawn here (nothing is sent to a QR service).
pub fn qr_svg(url: &str) -> Result<String, ServiceError> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| ServiceError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// The same QR code for a terminal (two rows per character).
pub fn qr_text(url: &str) -> Result<String, ServiceError> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| ServiceError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .quiet_zone(true)
        .build())
}

/// The code for the step holding `unix_secs` (what an authenticator shows).
pub fn code_at(secret: &str, unix_secs: u64) -> Result<String, ServiceError> {
    Ok(totp(secret, "-")?.generate(unix_secs))
}

/// The step `code` belongs to, within one step of `now_secs`; `None` when it
/// matches none. The caller still has to check the step was not used before.
pub fn matching_step(secret: &str, code: &str, now_secs: u64) -> Result<Option<u64>, ServiceError> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret, "-")?;
    let now_step = now_secs / STEP_SECS;
    let mut found = None;
    // Every candidate is computed and compared in full (no early exit on the secret's behalf).
    for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
        let expected = totp.generate(step * STEP_SECS);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if same && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vector_and_skew() {
        // RFC 6238 appendix B: SHA-1 secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(matching_step(&secret, "287082", 59).unwrap(), Some(1));
        // One step late or early is accepted; two are not.
        assert_eq!(matching_step(&secret, "287082", 89).unwrap(), Some(1));
        assert_eq!(matching_step(&secret, "287082", 150).unwrap(), None);
        assert_eq!(matching_step(&secret, "28708", 59).unwrap(), None);
        assert_eq!(matching_step(&secret, "abcdef", 59).unwrap(), None);
    }

    #[test]
    fn secrets_are_random_base32_and_enrol() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        let url = provisioning_url(&a, "staff@example.com").unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(qr_svg(&url).unwrap().starts_with("<?xml"));
        assert!(!qr_text(&url).unwrap().is_empty());
    }
}
