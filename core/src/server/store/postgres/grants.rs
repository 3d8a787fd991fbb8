//! PostgreSQL: grants.

use super::time::Ts;
use super::PgStore;
use crate::server::store::decode::{self, GRANT_SELECT};
use crate::server::store::grants::classes_text;
use crate::server::store::{AccountId, GrantRecord, GrantStore, NewGrant, StoreError, VehicleId};
use async_trait::async_trait;
use sqlx::PgConnection;

/// Ends every live grant `owner` made on `vehicle` (the vehicle changed
/// hands), in the transaction that ends their period; expired ones stay expired.
pub(super) async fn revoke_all_of(
    conn: &mut PgConnection,
    vehicle: VehicleId,
    owner: AccountId,
    at_us: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE grants SET revoked_at = $1, revoked_reason = 'transfer' \
         WHERE vehicle_id = $2 AND owner_account_id = $3 AND revoked_at IS NULL \
         AND expires_at > $1",
    )
    .bind(Ts(at_us))
    .bind(vehicle)
    .bind(owner)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl GrantStore for PgStore {
    async fn create_grant(&self, g: &NewGrant) -> Result<GrantRecord, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO grants (vehicle_id, owner_account_id, recipient, recipient_kind, \
             purpose, classes, location, from_at, to_at, continuous, expires_at, token_sha256, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(g.vehicle_id)
        .bind(g.owner_account_id)
        .bind(&g.recipient)
        .bind(g.kind.as_str())
        .bind(&g.purpose)
        .bind(classes_text(&g.classes))
        .bind(g.location.as_str())
        .bind(Ts(g.window.from_us))
        .bind(Ts(g.window.to_us))
        .bind(g.continuous)
        .bind(Ts(g.expires_us))
        .bind(&g.token_sha256)
        .bind(Ts(g.created_us))
        .fetch_one(&self.pool)
        .await?;
        self.grant(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("grant {id} vanished")))
    }

    async fn grant(&self, id: i64) -> Result<Option<GrantRecord>, StoreError> {
        let row = sqlx::query(&format!("{GRANT_SELECT} WHERE g.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode::grant).transpose()
    }

    async fn grant_by_token(&self, token_sha256: &str) -> Result<Option<GrantRecord>, StoreError> {
        let row = sqlx::query(&format!("{GRANT_SELECT} WHERE g.token_sha256 = $1"))
            .bind(token_sha256)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode::grant).transpose()
    }

    async fn grants_of(
        &self,
        vehicle: VehicleId,
        owner: AccountId,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{GRANT_SELECT} WHERE g.vehicle_id = $1 AND g.owner_account_id = $2 ORDER BY g.id DESC"
        ))
        .bind(vehicle)
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode::grant).collect()
    }

    async fn revoke_grant(
        &self,
        id: i64,
        owner: AccountId,
        at_us: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE grants SET revoked_at = $1, revoked_reason = 'owner' \
             WHERE id = $2 AND owner_account_id = $3 AND revoked_at IS NULL",
        )
        .bind(Ts(at_us))
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
