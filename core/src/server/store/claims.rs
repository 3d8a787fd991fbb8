//! Claim codes and the ownership periods they open.

use super::{AccountId, StoreError, StoredVehicle, TimeRange, VehicleId};
use crate::domain::Vin;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A span of time in which one account owned one vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnershipPeriod {
    pub vehicle_id: VehicleId,
    pub vin: String,
    pub account_id: AccountId,
    pub from_us: i64,
    /// `None` while the period is open.
    pub to_us: Option<i64>,
}

impl OwnershipPeriod {
    pub fn range(&self) -> TimeRange {
        TimeRange {
            from_us: self.from_us,
            to_us: self.to_us.unwrap_or(i64::MAX),
        }
    }
}

/// Why a claim code could not bind a vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// The account name is taken (sign-up only).
    AccountExists,
    /// No unused, unexpired code for that VIN matches.
    NoMatchingCode,
    /// The vehicle has a current owner: it must be transferred first.
    VehicleOwned,
}

/// Claim codes and the ownership periods they open.
#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Creates an owner account and binds a vehicle with a claim code, all or nothing.
    async fn sign_up_with_claim(
        &self,
        account: &str,
        password_hash: &str,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Result<(AccountId, OwnershipPeriod), ClaimRefusal>, StoreError>;

    /// Binds another vehicle to an existing account with a claim code.
    async fn redeem_claim(
        &self,
        account: AccountId,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Result<OwnershipPeriod, ClaimRefusal>, StoreError>;

    async fn ownership_of_account(
        &self,
        account: AccountId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError>;

    async fn ownership_of_vehicle(
        &self,
        vehicle: VehicleId,
    ) -> Result<Vec<OwnershipPeriod>, StoreError>;

    /// The vehicle `vin` names and its ownership periods, oldest first:
    /// what the gate asks on every read, in one question where the
    /// database is a round trip away.
    async fn vehicle_and_ownership(
        &self,
        vin: &Vin,
    ) -> Result<Option<(StoredVehicle, Vec<OwnershipPeriod>)>, StoreError>;

    async fn create_claim_code(
        &self,
        vehicle: VehicleId,
        code_hash: &str,
        since_us: i64,
        expires_us: i64,
    ) -> Result<(), StoreError>;

    /// Ends the vehicle's open ownership period at `at_us`; `None` when none is open.
    async fn end_ownership(
        &self,
        vehicle: VehicleId,
        at_us: i64,
    ) -> Result<Option<OwnershipPeriod>, StoreError>;
}

/// An unused, unexpired claim code as redemption finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnusedClaim {
    pub id: i64,
    pub vehicle: VehicleId,
    /// Where the new owner's period starts.
    pub since_us: i64,
}

/// The steps of redeeming a claim code inside the caller's write
/// transaction, each backend on its own connection type; `redeem` is the
/// one routine that puts them together.
#[async_trait]
pub(crate) trait ClaimSteps: Send {
    /// The code for `vin` with `code_hash`, held against a concurrent
    /// redemption until the transaction ends.
    async fn unused_claim(
        &mut self,
        vin: &Vin,
        code_hash: &str,
        now_us: i64,
    ) -> Result<Option<UnusedClaim>, StoreError>;
    /// Opens the account's period on the vehicle; false when the vehicle
    /// already has an open one (the `ownership_one_open` index decides, so
    /// two servers redeeming at once cannot both win).
    async fn open_period(
        &mut self,
        vehicle: VehicleId,
        account: AccountId,
        from_us: i64,
    ) -> Result<bool, StoreError>;
    async fn use_claim(
        &mut self,
        claim: i64,
        account: AccountId,
        at_us: i64,
    ) -> Result<(), StoreError>;
}

/// Binds `vin` to `account` with a claim code: the code must be unused and
/// unexpired, and the vehicle without a current owner. The caller commits
/// on success and rolls back on a refusal.
pub(crate) async fn redeem(
    steps: &mut (impl ClaimSteps + ?Sized),
    account: AccountId,
    vin: &Vin,
    code_hash: &str,
    now_us: i64,
) -> Result<Result<OwnershipPeriod, ClaimRefusal>, StoreError> {
    let Some(claim) = steps.unused_claim(vin, code_hash, now_us).await? else {
        return Ok(Err(ClaimRefusal::NoMatchingCode));
    };
    if !steps
        .open_period(claim.vehicle, account, claim.since_us)
        .await?
    {
        return Ok(Err(ClaimRefusal::VehicleOwned));
    }
    steps.use_claim(claim.id, account, now_us).await?;
    Ok(Ok(OwnershipPeriod {
        vehicle_id: claim.vehicle,
        vin: vin.to_string(),
        account_id: account,
        from_us: claim.since_us,
        to_us: None,
    }))
}
