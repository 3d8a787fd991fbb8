//! Password policy and hashing: Argon2id with OWASP parameters (m=19456 KiB,
//! t=2, p=1), computed on the blocking pool so hashing never stalls requests.

use super::error::ServiceError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

pub const MIN_LENGTH: usize = 10;
const MAX_LENGTH: usize = 1024;

/// Passwords people pick most often (10 characters or more; shorter ones fail the length rule anyway).
const COMMON: &str = include_str!("common_passwords.txt");

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the policy: long enough and not a common password.
pub fn check_policy(password: &str) -> Result<(), ServiceError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(ServiceError::invalid(
            "password_too_short",
            "password",
            format!("a password needs at least {MIN_LENGTH} characters"),
        ));
    }
    if length > MAX_LENGTH {
        return Err(ServiceError::invalid(
            "password_too_long",
            "password",
            "a password has at most 1024 characters",
        ));
    }
    let lowered = password.to_lowercase();
    if COMMON.lines().any(|common| common == lowered) {
        return Err(ServiceError::invalid(
            "password_common",
            "password",
            "this password is one of the most common ones; choose another",
        ));
    }
    Ok(())
}

/// Argon2 work, on the blocking pool, at most (cores − 1) hashes at once, so
/// a burst of sign-ins queues instead of taking every core from the threads
/// that serve pages. Each portal has its own slots: one held by a runtime
/// that no longer runs (a finished test's) cannot stall another portal.
#[derive(Clone)]
pub struct Hasher {
    slots: Arc<Semaphore>,
}

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Hasher {
            slots: Arc::new(Semaphore::new(cores.saturating_sub(1).max(1))),
        }
    }
}

impl Hasher {
    /// Runs Argon2 work on the blocking pool, within the hashing slots.
    async fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| ServiceError::Internal(format!("hashing slots closed: {e}")))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ServiceError::Internal(format!("hashing task failed: {e}")))?
    }

    /// Hashes a password (PHC string) off the async runtime.
    pub async fn hash(&self, password: String) -> Result<String, ServiceError> {
        self.off_runtime(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ServiceError::Internal(format!("hashing failed: {e}")))
        })
        .await
    }

    /// Verifies a password off the async runtime. With `None` it verifies
    /// against a dummy hash, so an unknown account costs the same time as a
    /// wrong password.
    pub async fn verify(
        &self,
        password: String,
        stored_hash: Option<String>,
    ) -> Result<bool, ServiceError> {
        self.off_runtime(move || {
            let known = stored_hash.is_some();
            let phc = stored_hash.unwrap_or_else(|| dummy_hash().to_string());
            let parsed = PasswordHash::new(&phc)
                .map_err(|e| ServiceError::Internal(format!("stored hash unreadable: {e}")))?;
            let matches = argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(b"no account has this password", &salt)
            .expect("hash")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_and_common_passwords() {
        assert_eq!(
            check_policy("short").unwrap_err().code(),
            "password_too_short"
        );
        assert_eq!(
            check_policy("Password123").unwrap_err().code(),
            "password_common"
        );
        assert_eq!(
            check_policy("1234567890").unwrap_err().code(),
            "password_common"
        );
        assert!(check_policy("brake-pedal-2021-spring").is_ok());
    }

    #[tokio::test]
    async fn hashes_with_argon2id_owasp_parameters_and_verifies() {
        let hasher = Hasher::default();
        let h = hasher.hash("brake-pedal-2021-spring".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(hasher
            .verify("brake-pedal-2021-spring".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify("wrong-password-here".into(), Some(h))
            .await
            .unwrap());
        assert!(!hasher.verify("anything-at-all".into(), None).await.unwrap());
    }
}
