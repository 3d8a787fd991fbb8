//! Every `/api/v1` operation: its parameters, body and replies.

use super::params::{path_and_query, query_of, vin};
use super::*;
use crate::domain::browse::{
    ChartQuery, DriveQuery, EventQuery, PageQuery, RouteQuery, SampleQuery, ZoneQuery,
};
use crate::domain::export::ExportQuery;
use crate::domain::staff::{CaseListQuery, LookupQuery};

pub(super) fn operations() -> Vec<Op> {
    let case_no = || path_param("case_no", "case number, C-YYYY-NNNNNN");
    let file = |description: &str| {
        json!({"description": description, "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}}}})
    };
    let empty = |description: &str| json!({"description": description});
    let op = |method, path, tag, id, summary| Op {
        method,
        path,
        tag,
        id,
        summary,
        params: vec![],
        body: None,
        ok: (200, empty("done")),
        errors: &[],
    };
    vec![
        Op {
            body: Some(json_body(object(
                &["account", "password", "vin", "claim_code"],
                json!({
                "account": {"type": "string", "description": "e-mail address or phone number"},
                "password": {"type": "string"}, "vin": {"type": "string"}, "claim_code": {"type": "string"}}),
            ))),
            ok: (
                201,
                json_reply(
                    "account created, vehicle bound",
                    object(&["account"], json!({"account": {"type": "string"}})),
                ),
            ),
            errors: &[400, 409, 415, 422, 429],
            ..op(
                "post",
                "/api/v1/accounts",
                "accounts",
                "sign_up",
                "Create an owner account and bind a vehicle (VIN + claim code)",
            )
        },
        Op {
            body: Some(json_body(object(
                &["account", "password"],
                json!({
                "account": {"type": "string"}, "password": {"type": "string"},
                "totp": {"type": "string", "description": "staff second factor"}}),
            ))),
            ok: (204, empty("signed in; the session cookie is set")),
            errors: &[400, 401, 415, 422, 429],
            ..op("post", "/api/v1/session", "accounts", "sign_in", "Sign in")
        },
        Op {
            ok: (204, empty("signed out; the session is gone server-side")),
            ..op(
                "delete",
                "/api/v1/session",
                "accounts",
                "sign_out",
                "Sign out",
            )
        },
        Op {
            ok: (200, json_reply("the signed-in account", reference("Me"))),
            errors: &[401],
            ..op(
                "get",
                "/api/v1/me",
                "accounts",
                "me",
                "Who is signed in, and their vehicles",
            )
        },
        Op {
            body: Some(json_body(object(
                &["vin", "claim_code"],
                json!({"vin": {"type": "string"}, "claim_code": {"type": "string"}}),
            ))),
            ok: (201, json_reply("vehicle bound", json!({"type": "object"}))),
            errors: &[400, 401, 409, 415, 422],
            ..op(
                "post",
                "/api/v1/me/vehicles",
                "accounts",
                "bind_vehicle",
                "Bind another vehicle",
            )
        },
        Op {
            body: Some(json_body(object(
                &["current", "new"],
                json!({"current": {"type": "string"}, "new": {"type": "string"}}),
            ))),
            ok: (204, empty("changed; other sessions end")),
            errors: &[400, 401, 415, 422],
            ..op(
                "post",
                "/api/v1/me/password",
                "accounts",
                "change_password",
                "Change the password",
            )
        },
        Op {
            body: Some(json_body(object(
                &["show"],
                json!({"show": {"type": "boolean"}}),
            ))),
            ok: (204, empty("saved; routes appear on this account's pages, or no longer")),
            errors: &[400, 401, 415, 422],
            ..op(
                "put",
                "/api/v1/me/location",
                "accounts",
                "set_show_location",
                "Show or hide locations (routes) on this account's pages (off by default)",
            )
        },
        Op {
            ok: (
                200,
                json_reply(
                    "the caller's vehicles (one page: next_cursor is null)",
                    object(
                        &["items", "next_cursor"],
                        json!({
                            "items": {"type": "array", "items": reference("Vehicle")},
                            "next_cursor": {"type": "null"}}),
                    ),
                ),
            ),
            errors: &[401],
            ..op(
                "get",
                "/api/v1/vehicles",
                "owner data",
                "vehicles",
                "The caller's vehicles with ownership periods",
            )
        },
        Op {
            params: vec![vin()],
            ok: (
                200,
                json_reply("what is held per data class", json!({"type": "object"})),
            ),
            errors: &[401, 404],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}",
                "owner data",
                "overview",
                "Overview: ranges, counts, retention, holds",
            )
        },
        Op {
            params: path_and_query::<SampleQuery>(vec![vin()]),
            ok: (
                200,
                json_reply("a page of samples", reference("SamplePage")),
            ),
            errors: &[400, 401, 404, 422],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/samples",
                "owner data",
                "samples",
                "Telemetry, filtered, keyset-paginated",
            )
        },
        Op {
            params: path_and_query::<EventQuery>(vec![vin()]),
            ok: (200, json_reply("a page of events", reference("EventPage"))),
            errors: &[400, 401, 404, 422],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/events",
                "owner data",
                "events",
                "Brake, crash and warning events",
            )
        },
        Op {
            params: path_and_query::<ZoneQuery>(vec![vin(), path_param("id", "the event's id")]),
            ok: (
                200,
                json_reply(
                    "the event, its ±15 s of samples, its EDR record",
                    reference("EventDetail"),
                ),
            ),
            errors: &[400, 401, 404, 422],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/events/{id}",
                "owner data",
                "event",
                "One event in detail",
            )
        },
        Op {
            params: path_and_query::<DriveQuery>(vec![vin()]),
            ok: (200, json_reply("a page of drives", reference("Page"))),
            errors: &[400, 401, 404, 422],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/drives",
                "owner data",
                "drives",
                "Drives (samples split at gaps)",
            )
        },
        Op {
            params: path_and_query::<ZoneQuery>(vec![vin()]),
            ok: (
                200,
                json_reply(
                    "per local day of the last 90 (ending today, or on the day of the newest record when that is older): drives started, their distance, events; the newest drive, brake event and crash event",
                    json!({"type": "object"}),
                ),
            ),
            errors: &[400, 401, 404, 422],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/activity",
                "owner data",
                "activity",
                "What happened lately",
            )
        },
        Op {
            params: path_and_query::<RouteQuery>(vec![vin()]),
            ok: (
                200,
                json_reply(
                    "`shown: false` and nothing else unless the caller's account chose to see locations; else the positions of the range averaged over at most 2,000 equal spans, and the brake and crash events placed on them",
                    json!({"type": "object"}),
                ),
            ),
            errors: &[400, 401, 404, 422],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/route",
                "owner data",
                "route",
                "Where the car went within a range (at most 31 days)",
            )
        },
        Op {
            params: path_and_query::<ChartQuery>(vec![vin()]),
            ok: (
                200,
                json_reply(
                    "per channel, (min, max) buckets; `ticks`: round instants for the time axis, labelled in the vehicle's zone",
                    json!({"type": "object"}),
                ),
            ),
            errors: &[400, 401, 404, 422],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/chart",
                "owner data",
                "chart",
                "Chart series for a range",
            )
        },
        Op {
            params: path_and_query::<ExportQuery>(vec![vin()]),
            ok: (200, file("the export, streamed; a bundle is a signed zip")),
            errors: &[400, 401, 404, 422],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/export",
                "owner data",
                "export",
                "Export (streamed download)",
            )
        },
        Op {
            params: vec![vin()],
            body: Some(json_body(
                json!({"type": "object", "description": "the export query's fields (format, location, filters)"}),
            )),
            ok: (
                202,
                json_reply("the job; Location names it", reference("ExportJob")),
            ),
            errors: &[400, 401, 404, 415, 422],
            ..op(
                "post",
                "/api/v1/vehicles/{vin}/exports",
                "owner data",
                "start_export",
                "Start a background export",
            )
        },
        Op {
            params: vec![path_param("id", "export job id")],
            ok: (200, json_reply("progress", reference("ExportJob"))),
            errors: &[401, 404],
            ..op(
                "get",
                "/api/v1/exports/{id}",
                "owner data",
                "export_job",
                "A background export's progress",
            )
        },
        Op {
            params: vec![path_param("id", "export job id")],
            ok: (200, file("the finished file")),
            errors: &[401, 404, 409],
            ..op(
                "get",
                "/api/v1/exports/{id}/file",
                "owner data",
                "export_job_file",
                "A background export's file",
            )
        },
        Op {
            params: vec![vin()],
            ok: (
                200,
                json_reply(
                    "every channel the reader may see: names, units, kinds, valid ranges, class, source, sampling rates seen, share signed by the car",
                    object(&["vin", "timezone", "channels"], json!({
                        "vin": {"type": "string"}, "timezone": {"type": "string"},
                        "channels": {"type": "array", "items": object(&["name", "label", "unit", "kind", "class"], json!({
                            "name": {"type": "string"}, "label": {"type": "object"}, "about": {"type": "object"},
                            "unit": {"type": "string"}, "kind": {"type": "string", "enum": ["number", "boolean", "code"]},
                            "values": {"type": "array", "items": {"type": "string"}},
                            "min": {"type": ["number", "null"]}, "max": {"type": ["number", "null"]},
                            "class": {"type": "string", "enum": ["telemetry", "location"]},
                            "source": {"type": "object", "description": "en and zh"}, "rates": {"type": "array", "items": {"type": "object"}},
                            "sealed_share": {"type": "number"}}))}})),
                ),
            ),
            errors: &[401, 404],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/dictionary",
                "owner data",
                "data_dictionary",
                "What each channel of this vehicle's data is (both languages)",
            )
        },
        Op {
            params: path_and_query::<PageQuery>(vec![vin()]),
            ok: (
                200,
                json_reply(
                    "reads and disclosures by anyone but the owner",
                    reference("Page"),
                ),
            ),
            errors: &[400, 401, 404],
            ..op(
                "get",
                "/api/v1/vehicles/{vin}/access-log",
                "owner data",
                "access_log",
                "Who read this vehicle's data, and why",
            )
        },
        Op {
            body: Some(
                json!({"required": true, "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}),
            ),
            ok: (
                200,
                json_reply("what checking found", reference("Verification")),
            ),
            errors: &[400, 413, 422],
            ..op(
                "post",
                "/api/v1/verify",
                "evidence",
                "verify",
                "Verify an evidence bundle (no sign-in)",
            )
        },
        Op {
            body: Some(json!({"required": true, "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/gzip": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})),
            ok: (200, json_reply("imported", reference("ImportSummary"))),
            errors: &[400, 401, 413, 422],
            ..op(
                "post",
                "/api/v1/ingest",
                "ingest",
                "ingest",
                "Import NDJSON (or gzip) from the data center; bearer ingest token",
            )
        },
        Op {
            params: query_of::<LookupQuery>(),
            ok: (
                200,
                json_reply("matches, metadata only", json!({"type": "object"})),
            ),
            errors: &[400, 401, 403],
            ..op(
                "get",
                "/api/v1/staff/lookup",
                "staff",
                "lookup",
                "Look up a case, VIN or account",
            )
        },
        Op {
            body: Some(json_body(object(
                &["account", "role"],
                json!({"account": {"type": "string"}, "role": {"type": "string", "enum": ["support", "admin"]}}),
            ))),
            ok: (
                201,
                json_reply(
                    "first password and TOTP enrolment, shown once",
                    json!({"type": "object"}),
                ),
            ),
            errors: &[400, 401, 403, 409, 415, 422],
            ..op(
                "post",
                "/api/v1/staff/accounts",
                "staff",
                "add_staff",
                "Create a staff account (admin)",
            )
        },
        Op {
            params: query_of::<CaseListQuery>(),
            ok: (
                200,
                json_reply(
                    "cases, newest first (one page: next_cursor is null)",
                    object(
                        &["items", "next_cursor"],
                        json!({
                            "items": {"type": "array", "items": reference("Case")},
                            "next_cursor": {"type": "null"}}),
                    ),
                ),
            ),
            errors: &[400, 401, 403, 422],
            ..op("get", "/api/v1/staff/cases", "staff", "cases", "List cases")
        },
        Op {
            body: Some(json_body(object(
                &["vin", "subject", "purpose"],
                json!({"vin": {"type": "string"}, "subject": {"type": "string"},
                "purpose": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"}}),
            ))),
            ok: (201, json_reply("the case", reference("Case"))),
            errors: &[400, 401, 403, 404, 415, 422],
            ..op(
                "post",
                "/api/v1/staff/cases",
                "staff",
                "open_case",
                "Open a case on a vehicle",
            )
        },
        Op {
            params: vec![case_no()],
            ok: (
                200,
                json_reply(
                    "case, timeline, attached exports",
                    json!({"type": "object"}),
                ),
            ),
            errors: &[401, 403, 404],
            ..op(
                "get",
                "/api/v1/staff/cases/{case_no}",
                "staff",
                "case",
                "A case",
            )
        },
        Op {
            params: vec![case_no()],
            body: Some(json_body(object(
                &["text"],
                json!({"text": {"type": "string"}}),
            ))),
            ok: (201, empty("noted")),
            errors: &[400, 401, 403, 404, 415, 422],
            ..op(
                "post",
                "/api/v1/staff/cases/{case_no}/notes",
                "staff",
                "add_note",
                "Add a note to a case",
            )
        },
        Op {
            params: vec![case_no()],
            body: Some(json_body(object(
                &["status"],
                json!({"status": {"type": "string", "enum": ["open", "waiting", "closed"]}}),
            ))),
            ok: (204, empty("status set")),
            errors: &[400, 401, 403, 404, 415, 422],
            ..op(
                "post",
                "/api/v1/staff/cases/{case_no}/status",
                "staff",
                "set_status",
                "Set a case's status",
            )
        },
        Op {
            params: path_and_query::<SampleQuery>(vec![case_no()]),
            ok: (
                200,
                json_reply(
                    "a page of samples (audited with the case)",
                    reference("SamplePage"),
                ),
            ),
            errors: &[400, 401, 403, 404, 422],
            ..op(
                "get",
                "/api/v1/staff/cases/{case_no}/samples",
                "staff",
                "case_samples",
                "The case vehicle's telemetry",
            )
        },
        Op {
            params: path_and_query::<EventQuery>(vec![case_no()]),
            ok: (
                200,
                json_reply(
                    "a page of events (audited with the case)",
                    reference("EventPage"),
                ),
            ),
            errors: &[400, 401, 403, 404, 422],
            ..op(
                "get",
                "/api/v1/staff/cases/{case_no}/events",
                "staff",
                "case_events",
                "The case vehicle's events",
            )
        },
        Op {
            params: path_and_query::<ZoneQuery>(vec![
                case_no(),
                path_param("id", "the event's id"),
            ]),
            ok: (
                200,
                json_reply("the event in detail (audited)", reference("EventDetail")),
            ),
            errors: &[400, 401, 403, 404, 422],
            ..op(
                "get",
                "/api/v1/staff/cases/{case_no}/events/{id}",
                "staff",
                "case_event",
                "One event of the case vehicle",
            )
        },
        Op {
            params: vec![case_no()],
            body: Some(json_body(object(
                &["recipient", "legal_basis"],
                json!({
                "format": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"},
                "location": {"type": "string", "enum": ["none", "coarse", "full"]},
                "recipient": {"type": "string"}, "legal_basis": {"type": "string"}}),
            ))),
            ok: (
                201,
                json_reply(
                    "the bundle, attached to the case and shown to the owner",
                    json!({"type": "object"}),
                ),
            ),
            errors: &[400, 401, 403, 404, 415, 422],
            ..op(
                "post",
                "/api/v1/staff/cases/{case_no}/exports",
                "staff",
                "case_export",
                "Export an evidence bundle to the case",
            )
        },
        Op {
            params: vec![case_no(), path_param("bundle_id", "the bundle's id")],
            ok: (200, file("the attached bundle")),
            errors: &[401, 403, 404],
            ..op(
                "get",
                "/api/v1/staff/cases/{case_no}/exports/{bundle_id}",
                "staff",
                "case_export_file",
                "Download an attached bundle",
            )
        },
        Op {
            ok: (200, json_reply("this document", json!({"type": "object"}))),
            ..op(
                "get",
                "/api/v1/openapi.json",
                "meta",
                "openapi",
                "This OpenAPI document",
            )
        },
    ]
}
