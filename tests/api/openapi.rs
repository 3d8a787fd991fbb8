//! The OpenAPI document covers every `/api/v1` route and nothing else.

use crate::helpers::*;
use std::collections::BTreeSet;

/// (method, path) of every `/api/v1` route the router registers, read from
/// the handlers' source: a route added without documentation fails here.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for part in source.split(".route(").skip(1) {
            let Some(rest) = part.trim_start().strip_prefix("\"/api/v1/") else {
                continue;
            };
            let path = format!("/api/v1/{}", &rest[..rest.find('"').unwrap()]);
            // The handlers end where the next chained call or the function does.
            let end = ["\n        .", "\n}"]
                .iter()
                .filter_map(|stop| rest.find(stop))
                .min()
                .unwrap_or(rest.len());
            let handlers = &rest[..end];
            for method in ["get", "post", "delete", "put", "patch"] {
                if handlers.contains(&format!("{method}(")) {
                    routes.insert((method.to_string(), path.clone()));
                }
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_document_describes_every_route_with_its_error_shape() {
    let app = TestApp::spawn().await;
    let (status, doc) = get_json(&app.client, &app, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let routed = routes_in_source();
    assert!(routed.len() >= 30, "{routed:?}");
    assert_eq!(
        routed.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes without documentation"
    );
    assert_eq!(
        documented.difference(&routed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented operations the router does not have"
    );
    // Every error reply refers to the one error shape, and it is defined.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, reply) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') {
                    let schema = &reply["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/Error",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(doc["components"]["schemas"]["Error"].is_object());
}

#[tokio::test]
async fn a_documented_error_is_what_the_server_sends() {
    let app = TestApp::spawn().await;
    // Unknown VIN for a signed-out caller: the documented 401 with the error shape.
    let (status, body) = get_json(
        &app.client,
        &app,
        "/api/v1/vehicles/LRW3E7EK9NC000017/samples",
    )
    .await;
    assert_eq!(status, 401);
    for key in ["code", "message", "details"] {
        assert!(body["error"].get(key).is_some(), "{body}");
    }
}

/// The documented parameters of one operation, by name.
fn parameters(doc: &serde_json::Value, path: &str) -> Vec<serde_json::Value> {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{path} has no parameters"))
        .clone()
}

fn named<'a>(params: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    params
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

#[tokio::test]
async fn the_export_parameters_say_what_the_server_takes() {
    const VIN: &str = "LRW3E7EK9NC000017";
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN, &[0, 1, 2]).await;
    let owner = new_owner(&app, VIN, None, "doc@example.com").await;
    let (_, doc) = get_json(&app.client, &app, "/api/v1/openapi.json").await;
    let params = parameters(&doc, "/api/v1/vehicles/{vin}/export");

    // The format has no default: the server refuses a request without one.
    let format = named(&params, "format");
    assert_eq!(format["required"], true, "{format}");
    assert!(format["schema"].get("default").is_none(), "{format}");
    let res = owner
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // Every documented format is served, and nothing else is.
    let formats = format["schema"]["enum"].as_array().unwrap().clone();
    assert_eq!(formats.len(), 6, "{formats:?}");
    for value in formats
        .iter()
        .map(|v| v.as_str().unwrap())
        .chain(["report"])
    {
        let res = owner
            // (A GPX track needs positions: every format is asked with some.)
            .get(app.url(&format!(
                "/api/v1/vehicles/{VIN}/export?format={value}&location=coarse"
            )))
            .send()
            .await
            .unwrap();
        let documented = formats.iter().any(|f| f == value);
        assert_eq!(
            res.status().is_success(),
            documented,
            "format={value}: {}",
            res.status()
        );
    }
    // The documented default location is the one applied: no position columns.
    let location = named(&params, "location");
    assert_eq!(location["schema"]["default"], "none");
    for value in location["schema"]["enum"].as_array().unwrap() {
        let res = owner
            .get(app.url(&format!(
                "/api/v1/vehicles/{VIN}/export?format=csv&location={}",
                value.as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "location={value}");
    }
    let csv = owner
        .get(app.url(&format!("/api/v1/vehicles/{VIN}/export?format=csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let header = csv.lines().find(|l| !l.starts_with('#')).unwrap();
    assert!(
        !header.split(',').any(|c| c == "lat" || c == "lon"),
        "{header}"
    );
}

#[tokio::test]
async fn every_documented_enumeration_is_accepted_by_the_server() {
    const VIN: &str = "LRW3E7EK9NC000017";
    let app = TestApp::spawn().await;
    import_vehicle(&app, VIN, &[0, 1, 2]).await;
    let owner = new_owner(&app, VIN, None, "enum@example.com").await;
    let (_, doc) = get_json(&app.client, &app, "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/vehicles/{vin}/samples",
        "/api/v1/vehicles/{vin}/events",
        "/api/v1/vehicles/{vin}/drives",
        "/api/v1/vehicles/{vin}/chart",
    ] {
        for param in parameters(&doc, path) {
            let Some(values) = param["schema"]["enum"].as_array() else {
                continue;
            };
            let name = param["name"].as_str().unwrap();
            for value in values.iter().map(|v| v.as_str().unwrap()).chain(["bogus"]) {
                let url = path.replace("{vin}", VIN);
                let res = owner
                    .get(app.url(&format!("{url}?{name}={value}")))
                    .send()
                    .await
                    .unwrap();
                let documented = value != "bogus";
                assert_eq!(
                    res.status().is_success(),
                    documented,
                    "{path}?{name}={value}: {}",
                    res.status()
                );
            }
        }
    }
}
