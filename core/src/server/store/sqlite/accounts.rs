//! SQLite: accounts, passwords, the sign-in throttle and the staff second factor.

use super::bulk::Bind;
use super::inline::InlineReader;
use super::SqliteStore;
use crate::domain::account::Role;
use crate::server::store::decode::{self, ACCOUNT_COLUMNS};
use crate::server::store::rows::AccountKey;
use crate::server::store::{AccountId, AccountRecord, AccountStore, AttemptVerdict, StoreError};
use async_trait::async_trait;
use sqlx::{SqliteConnection, SqlitePool};

/// An account by name or id: every signed-in request asks, so it is read
/// inline (`inline.rs`).
fn account_where(
    inline: &InlineReader,
    key: AccountKey<'_>,
) -> Result<Option<AccountRecord>, StoreError> {
    let (column, bind) = match key {
        AccountKey::Name(name) => ("account", Bind::Text(name.to_string())),
        AccountKey::Id(id) => ("id", Bind::Int(id)),
    };
    inline.optional(
        &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {column} = ?"),
        &[bind],
        |row| decode::account(row),
    )
}

/// Inserts an account; `None` when the name is taken.
pub(super) async fn insert_account(
    conn: &mut SqliteConnection,
    account: &str,
    password_hash: &str,
    role: Role,
) -> Result<Option<AccountId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO accounts (account, password_hash, role, created_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (account) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(chrono::Utc::now().timestamp_micros())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id)
}

async fn set_totp_secret(
    pool: &SqlitePool,
    account: AccountId,
    secret: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET totp_secret = ?, totp_last_step = NULL WHERE id = ?")
        .bind(secret)
        .bind(account)
        .execute(pool)
        .await?;
    Ok(())
}

async fn totp_secret(pool: &SqlitePool, account: AccountId) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar::<_, Option<String>>("SELECT totp_secret FROM accounts WHERE id = ?")
            .bind(account)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}

async fn use_totp_step(
    pool: &SqlitePool,
    account: AccountId,
    step: i64,
) -> Result<bool, StoreError> {
    // One statement: two sign-ins racing with the same code cannot both win.
    let done = sqlx::query(
        "UPDATE accounts SET totp_last_step = ? \
         WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
    )
    .bind(step)
    .bind(account)
    .bind(step)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn account_by_name(&self, account: &str) -> Result<Option<AccountRecord>, StoreError> {
        account_where(&self.inline, AccountKey::Name(account))
    }

    async fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>, StoreError> {
        account_where(&self.inline, AccountKey::Id(id))
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
            "UPDATE accounts SET password_hash = ?, session_epoch = session_epoch + 1 WHERE id = ? RETURNING session_epoch",
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
        // BEGIN IMMEDIATE: one writer at a time, so no two attempts count
        // the same failures.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for (key, limit) in limits {
            let (n, oldest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT count(*), min(at) FROM sign_in_failures WHERE key = ? AND at >= ?",
            )
            .bind(key)
            .bind(since_us)
            .fetch_one(&mut *tx)
            .await?;
            if n >= *limit as i64 {
                return Ok(AttemptVerdict::Refused {
                    oldest_us: oldest.unwrap_or(at_us),
                });
            }
        }
        for (key, _) in limits {
            sqlx::query("INSERT INTO sign_in_failures (key, at) VALUES (?, ?)")
                .bind(key)
                .bind(at_us)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(AttemptVerdict::Counted)
    }

    async fn forgive_sign_in_attempt(&self, key: &str, at_us: i64) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM sign_in_failures WHERE rowid IN \
             (SELECT rowid FROM sign_in_failures WHERE key = ? AND at = ? LIMIT 1)",
        )
        .bind(key)
        .bind(at_us)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn show_location(&self, account: AccountId) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar::<_, bool>("SELECT show_location FROM accounts WHERE id = ?")
                .bind(account)
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(false),
        )
    }

    async fn set_show_location(&self, account: AccountId, show: bool) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET show_location = ? WHERE id = ?")
            .bind(show)
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_totp_secret(&self, account: AccountId, secret: &str) -> Result<(), StoreError> {
        set_totp_secret(&self.pool, account, secret).await
    }

    async fn totp_secret(&self, account: AccountId) -> Result<Option<String>, StoreError> {
        totp_secret(&self.pool, account).await
    }

    async fn use_totp_step(&self, account: AccountId, step: i64) -> Result<bool, StoreError> {
        use_totp_step(&self.pool, account, step).await
    }
}
