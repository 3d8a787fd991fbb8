//! Privacy zones: places an owner defines (home, work) where the car's
//! positions are hidden from every page, every export and every grant,
//! unless the owner asks for `full` positions in their own export.

use serde::{Deserialize, Serialize};

/// The smallest radius a zone may have: a smaller circle would point at
/// the very building it is meant to hide.
pub const MIN_ZONE_RADIUS_M: f64 = 200.0;
/// The largest radius (a zone hides a place, not a region).
pub const MAX_ZONE_RADIUS_M: f64 = 50_000.0;
/// How many zones one account may keep.
pub const MAX_ZONES: usize = 20;
/// The mean Earth radius the distance to a zone's centre is measured with.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A zone as its owner sees it (nobody else ever does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivacyZone {
    pub id: i64,
    pub name: String,
    /// The centre, in decimal degrees (WGS 84, as the car reports).
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

impl PrivacyZone {
    /// Whether the position lies inside the zone (its edge included), by the
    /// great-circle distance to the centre.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        distance_m(self.lat, self.lon, lat, lon) <= self.radius_m
    }
}

/// The great-circle (haversine) distance between two positions, in metres.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// `POST /api/v1/me/privacy-zones` as it arrives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewZoneRequest {
    pub name: String,
    /// The centre, in decimal degrees.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// At least 200 m.
    pub radius_m: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_known_ones() {
        // One degree of latitude is about 111.2 km anywhere.
        let d = distance_m(31.0, 121.0, 32.0, 121.0);
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
        // People's Square to the Bund, Shanghai: about 1.6 km.
        let d = distance_m(31.2304, 121.4737, 31.2400, 121.4900);
        assert!((1_500.0..2_000.0).contains(&d), "{d}");
        assert_eq!(distance_m(31.2, 121.4, 31.2, 121.4), 0.0);
    }

    #[test]
    fn a_zone_holds_its_edge_and_nothing_past_it() {
        let zone = PrivacyZone {
            id: 1,
            name: "Home".into(),
            lat: 31.2304,
            lon: 121.4737,
            radius_m: 200.0,
        };
        assert!(zone.contains(31.2304, 121.4737));
        // 0.0017° of latitude is about 189 m; 0.0019° about 211 m.
        assert!(zone.contains(31.2321, 121.4737));
        assert!(!zone.contains(31.2323, 121.4737));
        // Across the antimeridian the distance stays short.
        let date_line = PrivacyZone {
            lon: 179.9999,
            lat: 0.0,
            ..zone
        };
        assert!(date_line.contains(0.0, -179.9999));
    }
}
