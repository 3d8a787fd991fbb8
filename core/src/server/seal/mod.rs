//! Version 1.1 of the interchange format: logs the vehicle seals itself
//! (`../shared/spec/vehicle-log-format.md`, "Version 1.1: sealed logs").
//!
//! - `merkle`: the RFC 9162 tree hash over a seal's covered lines;
//! - `payload`: the exact bytes a vehicle CA and a vehicle key sign;
//! - `anchors`: the vehicle CAs this portal trusts (`--vehicle-ca`);
//! - `lines`: the checks of one key, position or seal line;
//! - `kept`: how a seal's covered lines are stored (deflate);
//! - `car`: the car's side (certify a key, seal batches), for the demo and tests.
//!
//! Everything here is documented for independent verifiers in
//! `docs/evidence.md`.

pub mod anchors;
pub mod car;
pub mod kept;
pub mod lines;
pub mod merkle;
pub mod payload;

pub use anchors::{AnchorError, TrustAnchors, VehicleCa};
pub use merkle::{leaf_hash, node_hash, Hash, TreeBuilder};
