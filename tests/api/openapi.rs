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
