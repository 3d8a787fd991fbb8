//! PostgreSQL: accounts, passwords, the sign-in throttle and the staff second factor.

use super::time::{opt_time, Ts};
use super::PgStore;
use crate::domain::account::Role;
use crate::server::store::decode::{self, ACCOUNT_COLUMNS};
use crate::server::store::rows::AccountKey;
use crate::server::store::{AccountId, AccountRecord, AccountStore, AttemptVerdict, StoreError};
use async_trait::async_trait;
use sqlx::{PgConnection, PgPool, Row};

async fn account_where(
    pool: &PgPool,
    key: AccountKey<'_>,
) -> Result<Option<AccountRecord>, StoreError> {
    let select = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts");
    let row = match key {
        AccountKey::Name(name) => {
            sqlx::query(&format!("{select} WHERE account = $1"))
                .bind(name)
                .fetch_optional(pool)
                .await?
        }
        AccountKey::Id(id) => {
            sqlx::query(&format!("{select} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }
    };
    row.as_ref().map(decode::account).transpose()
}

/// Inserts an account; `None` when the name is taken.
pub(super) async fn insert_account(
    conn: &mut PgConnection,
    account: &str,
    password_hash: &str,
    role: Role,
) -> Result<Option<AccountId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO accounts (account, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(Ts(chrono::Utc::now().timestamp_micros()))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id)
}

#[async_trait]
impl AccountStore for PgStore {
    async fn account_by_name(&self, account: &str) -> Result<Option<AccountRecord>, StoreError> {
        account_where(&self.pool, AccountKey::Name(account)).await
    }

    async fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>, StoreError> {
        account_where(&self.pool, AccountKey::Id(id)).await
    }

    async fn create_account(
        &self,
        account: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<Option<AccountId>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_account(&mut conn, account, password_hash, role).await
    }

    async fn set_password(
        &self,
        account: AccountId,
        password_hash: &str,
    ) -> Result<i64, StoreError> {
        let epoch: i64 = sqlx::query_scalar(
            "UPDATE accounts SET password_hash = $1, session_epoch = session_epoch + 1 \
             WHERE id = $2 RETURNING session_epoch",
        )
        .bind(password_hash)
        .bind(account)
        .fetch_one(&self.pool)
        .await?;
        Ok(epoch)
    }

    async fn take_sign_in_attempt(
        &self,
        limits: &[(String, u32)],
        since_us: i64,
        at_us: i64,
    ) -> Result<AttemptVerdict, StoreError> {
        let mut tx = self.pool.begin().await?;
        // One attempt per key at a time, on every server: a transaction lock
        // per key, taken in one order so two attempts never wait on each other.
        let mut keys: Vec<&str> = limits.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        for key in keys {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        for (key, limit) in limits {
            let row = sqlx::query(
                "SELECT count(*), min(at) FROM sign_in_failures WHERE key = $1 AND at >= $2",
            )
            .bind(key)
            .bind(Ts(since_us))
            .fetch_one(&mut *tx)
            .await?;
            if row.try_get::<i64, _>(0)? >= *limit as i64 {
                return Ok(AttemptVerdict::Refused {
                    oldest_us: opt_time(&row, 1)?.unwrap_or(at_us),
                });
            }
        }
        let keys: Vec<&str> = limits.iter().map(|(k, _)| k.as_str()).collect();
        sqlx::query("INSERT INTO sign_in_failures (key, at) SELECT unnest($1::text[]), $2")
            .bind(&keys)
            .bind(Ts(at_us))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AttemptVerdict::Counted)
    }

    async fn forgive_sign_in_attempt(&self, key: &str, at_us: i64) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM sign_in_failures WHERE ctid IN \
             (SELECT ctid FROM sign_in_failures WHERE key = $1 AND at = $2 LIMIT 1)",
        )
        .bind(key)
        .bind(Ts(at_us))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn show_location(&self, account: AccountId) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar::<_, bool>("SELECT show_location FROM accounts WHERE id = $1")
                .bind(account)
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(false),
        )
    }

    async fn set_show_location(&self, account: AccountId, show: bool) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET show_location = $1 WHERE id = $2")
            .bind(show)
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_totp_secret(&self, account: AccountId, secret: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET totp_secret = $1, totp_last_step = NULL WHERE id = $2")
            .bind(secret)
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn totp_secret(&self, account: AccountId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT totp_secret FROM accounts WHERE id = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?
        .flatten())
    }

    async fn use_totp_step(&self, account: AccountId, step: i64) -> Result<bool, StoreError> {
        // One statement: two sign-ins racing with the same code cannot both win.
        let done = sqlx::query(
            "UPDATE accounts SET totp_last_step = $1 \
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(account)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
