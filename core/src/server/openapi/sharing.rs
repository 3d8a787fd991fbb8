//! The sharing operations: an owner's grants on a vehicle, made and
//! revoked (recipients call the owner-data operations with `grantToken`),
//! and the privacy zones that hide positions from every reader.

use super::params::{names, path_and_query, vin};
use super::*;
use crate::domain::browse::PageQuery;
use crate::domain::export::LocationRedaction;
use crate::domain::privacy::{MAX_ZONE_RADIUS_M, MIN_ZONE_RADIUS_M};
use crate::domain::sharing::{DataClass, RecipientKind};

/// `NewZoneRequest` and `PrivacyZone`, as the API takes and gives them.
fn zones() -> [(&'static str, Value); 2] {
    let fields = json!({
        "name": {"type": "string", "description": "the owner's name for the place (only they see it)"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "the centre, decimal degrees (WGS 84)"},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "radius_m": {"type": "number", "minimum": MIN_ZONE_RADIUS_M, "maximum": MAX_ZONE_RADIUS_M, "description": "metres"}
    });
    let mut zone = fields.clone();
    zone["id"] = json!({"type": "integer"});
    [
        (
            "NewPrivacyZone",
            object(&["name", "lat", "lon", "radius_m"], fields),
        ),
        (
            "PrivacyZone",
            object(&["id", "name", "lat", "lon", "radius_m"], zone),
        ),
    ]
}

/// `NewGrantRequest`, as the API takes it.
fn new_grant() -> Value {
    object(
        &["recipient", "kind", "purpose", "classes", "expires"],
        json!({
            "recipient": {"type": "string", "description": "who receives the data, as they will be named to the owner"},
            "kind": {"type": "string", "enum": names(RecipientKind::ALL, RecipientKind::as_str)},
            "purpose": {"type": "string", "description": "what the recipient may use the data for; they see it"},
            "classes": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": names(DataClass::ALL, DataClass::as_str)}},
            "location": {"type": "string", "enum": names(LocationRedaction::ALL, LocationRedaction::as_str), "default": "none",
                "description": "how much of a position the recipient sees (needs telemetry)"},
            "from": {"type": "string", "description": "a fixed window's start (RFC 3339 or vehicle-local)"},
            "to": {"type": "string", "description": "a fixed window's end"},
            "continuous": {"type": "boolean", "default": false, "description": "everything recorded from now on, instead of from/to"},
            "expires": {"type": "string", "description": "a date (to its end, vehicle-local), a local time or RFC 3339; at most a year ahead"}
        }),
    )
}

pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let grant = object(
        &[
            "id",
            "vin",
            "recipient",
            "kind",
            "purpose",
            "classes",
            "location",
            "continuous",
            "status",
        ],
        json!({
            "id": {"type": "integer"}, "vin": {"type": "string"},
            "recipient": {"type": "string"}, "kind": {"type": "string"}, "purpose": {"type": "string"},
            "classes": {"type": "array", "items": {"type": "string"}},
            "location": {"type": "string"},
            "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
            "continuous": {"type": "boolean"},
            "created": {"type": "object"}, "expires": {"type": "object"},
            "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
            "revoked": {"type": ["object", "null"]},
            "revoked_because": {"type": ["string", "null"], "enum": ["owner", "transfer", null]}
        }),
    );
    let mut issued = grant.clone();
    issued["required"]
        .as_array_mut()
        .expect("required is a list")
        .extend([json!("token"), json!("link")]);
    issued["properties"]["token"] = json!({"type": "string", "description": "the recipient's API token (Authorization: Bearer); shown this once"});
    issued["properties"]["link"] =
        json!({"type": "string", "description": "the path the recipient opens in a browser"});
    let mut all = vec![
        ("NewGrant", new_grant()),
        ("Grant", grant),
        ("IssuedGrant", issued),
    ];
    all.extend(zones());
    all
}

pub(super) fn operations() -> Vec<Op> {
    let op = |method, path, id, summary| Op {
        method,
        path,
        tag: "sharing",
        id,
        summary,
        params: vec![vin()],
        body: None,
        ok: (200, json!({"description": "done"})),
        errors: &[],
    };
    vec![
        Op {
            params: path_and_query::<PageQuery>(vec![vin()]),
            ok: (
                200,
                json_reply(
                    "records stored since the cursor, in import order (at least once: keep the last copy per `t` or event id)",
                    object(&["items", "next_cursor", "more"], json!({
                        "items": {"type": "array", "items": object(&["kind", "import"], json!({
                            "kind": {"type": "string", "enum": ["sample", "event", "edr"]},
                            "import": {"type": "integer", "description": "the import's place in the audit log"}}))},
                        "next_cursor": {"type": "string", "description": "resume here, now (`more`) or later"},
                        "more": {"type": "boolean"}})),
                ),
            ),
            errors: &[400, 401, 404],
            tag: "owner data",
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/changes",
                "changes",
                "What was stored since a cursor (continuous access, for the owner and continuous grants)",
            )
        },
        Op {
            ok: (
                200,
                json!({"description": "server-sent events from now on: `changes` (data: a JSON array of feed items, as `…/changes` gives them) for each batch stored, `end` (data: `[{\"kind\": \"end\", \"error\": CODE}]`) when the caller may no longer read",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}}),
            ),
            errors: &[401, 404],
            tag: "owner data",
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/live",
                "live",
                "What is stored from now on, as it arrives (the live view's stream)",
            )
        },
        Op {
            ok: (
                200,
                json_reply(
                    "the owner's grants on the vehicle, newest first (never their tokens)",
                    object(
                        &["items", "next_cursor"],
                        json!({
                        "items": {"type": "array", "items": reference("Grant")},
                        "next_cursor": {"type": "null"}}),
                    ),
                ),
            ),
            errors: &[401, 404],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/grants",
                "grants",
                "The third parties this vehicle's data is shared with",
            )
        },
        Op {
            body: Some(json_body(reference("NewGrant"))),
            ok: (
                201,
                json_reply(
                    "the grant, with its token and link (shown once)",
                    reference("IssuedGrant"),
                ),
            ),
            errors: &[400, 401, 404, 415, 422],
            ..op(
                "post",
                "/api/v1/vehicles/{vin}/grants",
                "create_grant",
                "Share a scope of this vehicle's data with a recipient",
            )
        },
        Op {
            params: vec![vin(), path_param("id", "grant id")],
            ok: (
                204,
                json!({"description": "revoked: the recipient's next request is refused"}),
            ),
            errors: &[401, 404, 409],
            ..op(
                "delete",
                "/api/v1/vehicles/{vin}/grants/{id}",
                "revoke_grant",
                "End a grant at once",
            )
        },
        Op {
            params: Vec::new(),
            tag: "privacy",
            ok: (
                200,
                json_reply(
                    "the owner's privacy zones, oldest first",
                    object(
                        &["items", "next_cursor"],
                        json!({
                        "items": {"type": "array", "items": reference("PrivacyZone")},
                        "next_cursor": {"type": "null"}}),
                    ),
                ),
            ),
            errors: &[401, 403],
            ..op(
                "get",
                "/api/v1/me/privacy-zones",
                "privacy_zones",
                "The places where this owner's positions are hidden",
            )
        },
        Op {
            params: Vec::new(),
            tag: "privacy",
            body: Some(json_body(reference("NewPrivacyZone"))),
            ok: (
                201,
                json_reply(
                    "the zone: from the next request on, no page, export (but the owner's own at `full`) or grant shows a position inside it",
                    reference("PrivacyZone"),
                ),
            ),
            errors: &[400, 401, 403, 409, 415, 422],
            ..op(
                "post",
                "/api/v1/me/privacy-zones",
                "add_privacy_zone",
                "Hide positions within a radius (at least 200 m) of a place",
            )
        },
        Op {
            params: vec![path_param("id", "zone id")],
            tag: "privacy",
            ok: (204, json!({"description": "removed"})),
            errors: &[401, 403, 404],
            ..op(
                "delete",
                "/api/v1/me/privacy-zones/{id}",
                "remove_privacy_zone",
                "Remove a privacy zone",
            )
        },
    ]
}
