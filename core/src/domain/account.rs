//! Accounts and what a signed-in reader may see about themselves.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Support,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Support => "support",
            Role::Admin => "admin",
        }
    }

    /// Support and admin: they read vehicle data only inside a case.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Support | Role::Admin)
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "support" => Some(Role::Support),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// One bound vehicle and the owner's period, as shown to the owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleBinding {
    pub vin: String,
    pub model: Option<String>,
    pub timezone: String,
    /// RFC 3339 UTC; `None` when the period reaches back to the first record.
    pub from: Option<String>,
    /// RFC 3339 UTC; `None` while the period is open.
    pub to: Option<String>,
    /// The same instants in the vehicle's own zone, offset spelled out, for display.
    pub from_local: Option<String>,
    pub to_local: Option<String>,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub account: String,
    pub role: Role,
    pub vehicles: Vec<VehicleBinding>,
    /// Whether the account chose to see locations (routes) on its pages.
    #[serde(default)]
    pub show_location: bool,
    /// A recipient reading under an owner's grant: the grant (then `account`
    /// is the recipient's name, and there are no vehicles of their own).
    #[serde(default)]
    pub shared: Option<super::sharing::GrantSummary>,
}
