//! SQLite: privacy zones.

use super::SqliteStore;
use crate::domain::privacy::PrivacyZone;
use crate::server::store::zones::{zone, ZoneRow};
use crate::server::store::{AccountId, NewZone, StoreError, ZoneStore};
use async_trait::async_trait;

#[async_trait]
impl ZoneStore for SqliteStore {
    async fn add_zone(&self, z: &NewZone, max: usize) -> Result<Option<PrivacyZone>, StoreError> {
        // One statement (SQLite writes one at a time): racing requests cannot
        // pass the limit together.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO privacy_zones (account_id, name, lat, lon, radius_m, created_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
             WHERE (SELECT count(*) FROM privacy_zones WHERE account_id = ?1) < ?7 \
             RETURNING id",
        )
        .bind(z.account_id)
        .bind(&z.name)
        .bind(z.lat)
        .bind(z.lon)
        .bind(z.radius_m)
        .bind(z.created_us)
        .bind(max as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(|id| zone((id, z.name.clone(), z.lat, z.lon, z.radius_m))))
    }

    async fn zones_of(&self, accounts: &[AccountId]) -> Result<Vec<PrivacyZone>, StoreError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let ids =
            serde_json::to_string(accounts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows: Vec<ZoneRow> = sqlx::query_as(
            "SELECT id, name, lat, lon, radius_m FROM privacy_zones \
             WHERE account_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(zone).collect())
    }

    async fn remove_zone(&self, id: i64, account: AccountId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM privacy_zones WHERE id = ? AND account_id = ?")
            .bind(id)
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
