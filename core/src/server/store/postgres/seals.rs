//! PostgreSQL: the vehicles' keys, their seals and positions (format 1.1);
//! the SQL is shared (`store/seals.rs`), times are timestamptz.

use super::time::Ts;
use super::PgStore;
use crate::server::store::seals::INSERT_SEALS_SQL;
use crate::server::store::NewSeal;

crate::server::store::seals::backend_seals!(sqlx::PgConnection, sqlx::Postgres, PgStore, Ts);

/// Many seals in few statements; their ids in the order given.
pub(super) async fn insert_seals(
    conn: &mut sqlx::PgConnection,
    seals: &[(VehicleId, NewSeal<'_>)],
) -> Result<Vec<SealId>, StoreError> {
    let mut ids = Vec::with_capacity(seals.len());
    // 16 parameters a row: well inside both databases' limits.
    for chunk in seals.chunks(500) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(INSERT_SEALS_SQL);
        insert.push_values(chunk, |mut row, (vehicle, seal)| {
            let l = seal.line;
            let c = seal.counts;
            row.push_bind(*vehicle)
                .push_bind(l.key.clone())
                .push_bind(l.seq as i64)
                .push_bind(l.count as i64)
                .push_bind(l.first_t.clone())
                .push_bind(l.last_t.clone())
                .push_bind(l.prev.clone())
                .push_bind(l.root.clone())
                .push_bind(l.sig.clone())
                .push_bind(Ts(seal.t_min))
                .push_bind(Ts(seal.t_max))
                .push_bind(c.samples as i64)
                .push_bind(c.positions as i64)
                .push_bind(c.events as i64)
                .push_bind(c.edr as i64)
                .push_bind(seal.covered.to_vec());
        });
        // RETURNING promises no order: each id is matched by its seal's identity.
        insert.push(" RETURNING id, vehicle_id, key_id, seq");
        let rows = insert.build().fetch_all(&mut *conn).await?;
        let mut by_identity = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            let identity: (VehicleId, String, i64) = (
                row.try_get("vehicle_id")?,
                row.try_get("key_id")?,
                row.try_get("seq")?,
            );
            by_identity.insert(identity, row.try_get::<SealId, _>("id")?);
        }
        for (vehicle, seal) in chunk {
            let identity = (*vehicle, seal.line.key.clone(), seal.line.seq as i64);
            let id = by_identity
                .get(&identity)
                .ok_or_else(|| StoreError::Corrupt("an inserted seal was not returned".into()))?;
            ids.push(*id);
        }
    }
    Ok(ids)
}

/// Positions in few statements: those not inserted are held
/// already, and compared with what is held.
pub(super) async fn put_positions(
    conn: &mut sqlx::PgConnection,
    rows: &[(VehicleId, Position)],
    seals: &crate::server::store::SealRuns,
) -> Result<Vec<WriteOutcome>, StoreError> {
    use crate::server::store::decode::StoredRow as _;
    let mut outcomes = Vec::with_capacity(rows.len());
    for (c, chunk) in rows.chunks(500).enumerate() {
        let first = c * 500;
        let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO positions (vehicle_id, t, lat, lon, heading_deg, nonce, seal_id) ",
        );
        let mut index = first;
        insert.push_values(chunk, |mut row, (vehicle, p)| {
            row.push_bind(*vehicle)
                .push_bind(Ts(p.t_us))
                .push_bind(p.lat)
                .push_bind(p.lon)
                .push_bind(p.heading_deg)
                .push_bind(p.nonce.clone())
                .push_bind(seals.seal_of(index));
            index += 1;
        });
        insert.push(" ON CONFLICT (vehicle_id, t) DO NOTHING RETURNING vehicle_id, t");
        let inserted = insert
            .build()
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<VehicleId, _>("vehicle_id")?, r.time("t")?)))
            .collect::<Result<std::collections::HashSet<(VehicleId, i64)>, StoreError>>()?;
        for (vehicle, p) in chunk {
            outcomes.push(if inserted.contains(&(*vehicle, p.t_us)) {
                WriteOutcome::Inserted
            } else {
                held_position_outcome(&mut *conn, *vehicle, p).await?
            });
        }
    }
    Ok(outcomes)
}

impl PgStore {
    /// Which records of a page are sealed.
    async fn read_sealed_records(
        &self,
        vehicle: VehicleId,
        class: SealedClass,
        from: i64,
        to: i64,
    ) -> Result<Vec<SealedRecordKey>, StoreError> {
        let rows = sqlx::query(class.sql())
            .bind(vehicle)
            .bind(Ts(from))
            .bind(Ts(to))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(crate::server::store::seals::sealed_record_key)
            .collect()
    }
}
