//! The OpenAPI 3.1 document of `/api/v1` (served at `/api/v1/openapi.json`
//! and shown to staff at `/staff/api`), written next to the services:
//! `operations.rs` lists every operation, `params.rs` generates the query
//! parameters from the query types the handlers read, `sharing.rs` the
//! grants, this file holds the shared pieces and the schemas. A test checks that every route the
//! router registers is described here, and nothing else.

mod operations;
mod params;
mod sharing;

use crate::domain::staff::OperationLine;
use operations::operations;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
}

fn reference(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

fn json_reply(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn json_body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

/// What each error status means here; every one has the `Error` shape.
fn error_reply(status: u16) -> Value {
    let description = match status {
        400 => "malformed request (query, JSON or body)",
        401 => "not signed in (or no live ingest token)",
        403 => "this role may not do this, or a cross-site request",
        404 => "not found, or not yours to see (the same reply)",
        409 => "conflicts with what is held",
        413 => "body too large",
        415 => "expected JSON",
        422 => "fields invalid; for imports every error is listed and nothing was stored",
        429 => "throttled; see Retry-After",
        _ => "error",
    };
    json_reply(description, reference("Error"))
}

struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    id: &'static str,
    summary: &'static str,
    params: Vec<Value>,
    body: Option<Value>,
    ok: (u16, Value),
    errors: &'static [u16],
}

fn schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let mut schemas = json!({
        "Error": object(&["error"], json!({"error": object(&["code", "message", "details"], json!({
            "code": {"type": "string", "description": "stable snake_case code"},
            "message": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object"}}}))})),
        "Page": object(&["items", "next_cursor"], json!({
            "items": {"type": "array", "items": {"type": "object"}},
            "next_cursor": {"type": ["string", "null"]}})),
        "SamplePage": object(&["items", "next_cursor"], json!({
            "items": {"type": "array", "items": object(&["t", "t_local"], json!({"t": time, "t_local": {"type": "string"}}))},
            "next_cursor": {"type": ["string", "null"]}})),
        "EventPage": object(&["items", "next_cursor"], json!({
            "items": {"type": "array", "items": {"type": "object"}},
            "next_cursor": {"type": ["string", "null"]}})),
        "EventDetail": {"type": "object", "description": "the event, `window` (samples ±15 s) and `edr` (or null)"},
        "Vehicle": object(&["vin"], json!({"vin": {"type": "string"}, "periods": {"type": "array", "items": {"type": "object"}}})),
        "Me": object(&["account", "role", "vehicles"], json!({"account": {"type": "string"},
            "role": {"type": "string", "enum": ["owner", "support", "admin"]},
            "vehicles": {"type": "array", "items": {"type": "object"}},
            "shared": {"type": ["object", "null"], "description": "a recipient (grant token or link): the grant they read under"}})),
        "ExportJob": object(&["id"], json!({"id": {"type": "string"}, "vin": {"type": "string"}, "state": {"type": "string"}})),
        "Verification": object(&["valid", "problems"], json!({"valid": {"type": "boolean"},
            "problems": {"type": "array", "items": object(&["code"], json!({"code": {"type": "string"}}))},
            "bundle_id": {"type": ["string", "null"]}, "vin": {"type": ["string", "null"]},
            "manifest_sha256": {"type": ["string", "null"]},
            "sealed": {"type": "object", "description": "what the vehicle itself signed (sealed.ndjson): seals, verified, withheld, unsealed, missing_batches, by_seal, keys, ca_checked"}})),
        "ImportSummary": object(&["sha256", "bytes", "lines", "inserted", "duplicates"], json!({
            "source": {"type": "string"}, "sha256": {"type": "string"}, "bytes": {"type": "integer"},
            "lines": {"type": "integer"}, "inserted": {"type": "object"}, "duplicates": {"type": "object"},
            "conflicts_total": {"type": "integer"}, "conflicts": {"type": "array", "items": {"type": "object"}},
            "missing_batches": {"type": "array", "items": {"type": "object"}, "description": "gaps in the seals of the vehicles this file sealed (format 1.1)"}})),
        "Case": object(&["case_no"], json!({"case_no": {"type": "string"}, "vin": {"type": "string"}, "status": {"type": "string"}})),
    });
    for (name, schema) in sharing::schemas() {
        schemas[name] = schema;
    }
    schemas
}

/// Every operation: the owner's and staff's, then the grants'.
fn all_operations() -> Vec<Op> {
    let mut all = operations();
    all.extend(sharing::operations());
    all
}

fn build() -> Value {
    let mut paths = Map::new();
    for op in all_operations() {
        let mut responses = Map::new();
        responses.insert(op.ok.0.to_string(), op.ok.1);
        for status in op.errors {
            responses.insert(status.to_string(), error_reply(*status));
        }
        let mut operation = json!({
            "tags": [op.tag],
            "operationId": op.id,
            "summary": op.summary,
            "parameters": op.params,
            "responses": responses,
        });
        if let Some(body) = op.body {
            operation["requestBody"] = body;
        }
        if op.tag == "ingest" {
            operation["security"] = json!([{"ingestToken": []}]);
        }
        let item = paths
            .entry(op.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item is an object");
        item.insert(op.method.to_string(), operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Owner vehicle-data portal API",
            "version": "1",
            "description": "Every capability of the portal: owners' data, evidence, support cases, ingest. \
                Errors are {\"error\":{\"code\",\"message\",\"details\"}}; a VIN, event, case or export the caller may not see is a 404. \
                Browser sessions are cookies; mutations must be same-origin (scripts sending no Origin are fine)."
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "id"},
                "ingestToken": {"type": "http", "scheme": "bearer", "description": "from `portal admin ingest-token NAME`"},
                "grantToken": {"type": "http", "scheme": "bearer", "description": "a recipient's token (`vdg_…`) from an owner's grant: the owner-data operations within the grant's scope, each read recorded for the owner"}
            }
        },
        "security": [{"session": []}, {"grantToken": []}, {}]
    })
}

/// The document, built once per process.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

pub fn operation_lines() -> Vec<OperationLine> {
    all_operations()
        .into_iter()
        .map(|op| OperationLine {
            tag: op.tag.into(),
            method: op.method.to_uppercase(),
            path: op.path.into(),
            summary: op.summary.into(),
            parameters: op
                .params
                .iter()
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect(),
            statuses: std::iter::once(op.ok.0)
                .chain(op.errors.iter().copied())
                .map(|s| s.to_string())
                .collect(),
        })
        .collect()
}
