//! `/api/openapi.json` against the router: every JSON route the router declares is described,
//! nothing else is, and each description lists the errors its route's rule can answer.
//!
//! The routes come from the router's own catalog, so a new route is checked automatically.

use std::collections::BTreeSet;

use serde_json::Value;
use web::auth::{Access, Kind};
use web::routes::RouteSpec;

use crate::helpers::spawn_app;

/// The document as the server serves it.
async fn served_document() -> Value {
    let app = spawn_app().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The router's JSON routes.
fn api_routes() -> Vec<RouteSpec> {
    web::routes::catalog()
        .into_iter()
        .filter(|route| route.rule.kind == Kind::Api)
        .collect()
}

/// Every operation of the document, as (`METHOD`, path).
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let methods = ["get", "put", "post", "delete", "patch", "head", "options"];
    doc["paths"]
        .as_object()
        .expect("the document has paths")
        .iter()
        .flat_map(|(path, item)| {
            methods
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// The documented response of `route` for `status`.
fn response<'a>(doc: &'a Value, route: &RouteSpec, status: &str) -> &'a Value {
    &doc["paths"][route.path][route.method.as_str().to_lowercase()]["responses"][status]
}

#[tokio::test]
async fn every_api_route_of_the_router_is_an_operation_of_the_document() {
    let doc = served_document().await;
    let documented = operations(&doc);
    let routes = api_routes();
    assert!(routes.len() >= 40, "the router declares the JSON routes");

    let missing: Vec<String> = routes
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .filter(|op| !documented.contains(op))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();

    assert!(missing.is_empty(), "undocumented JSON routes: {missing:#?}");
}

#[tokio::test]
async fn every_operation_of_the_document_is_an_api_route_of_the_router() {
    let doc = served_document().await;
    let routes: BTreeSet<(String, String)> = api_routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();

    let strays: Vec<String> = operations(&doc)
        .into_iter()
        .filter(|op| !routes.contains(op))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();

    assert!(
        strays.is_empty(),
        "documented operations the router does not declare as JSON routes: {strays:#?}"
    );
}

#[tokio::test]
async fn every_operation_documents_the_errors_its_route_can_answer() {
    let doc = served_document().await;
    let mut failures = Vec::new();

    for route in api_routes() {
        let operation = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        let mut expected: Vec<&str> = Vec::new();
        if route.rule.access != Access::Public {
            expected.extend(["401", "403", "503"]);
        }
        if operation.get("requestBody").is_some() {
            expected.extend(["400", "413", "415", "422"]);
        }
        // A path naming one thing answers 404 when there is none, unless the route creates
        // what is missing (a PUT answering 201).
        let creates = operation["responses"].get("201").is_some();
        if route.path.contains('{') && !creates {
            expected.push("404");
        }
        for status in expected {
            let answer = response(&doc, &route, status);
            if answer["content"]["application/json"]["schema"]["$ref"]
                != "#/components/schemas/ErrorBody"
            {
                failures.push(format!(
                    "{} {}: {status} is not documented with the error shape",
                    route.method, route.path
                ));
            }
        }
        if let Access::Permission(permission) = route.rule.access {
            let forbidden = response(&doc, &route, "403")["description"]
                .as_str()
                .unwrap_or_default();
            if !forbidden.contains(permission.as_str()) {
                failures.push(format!(
                    "{} {}: the 403 does not name {permission}: {forbidden:?}",
                    route.method, route.path
                ));
            }
        }
    }

    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn every_error_response_of_the_document_has_the_error_shape() {
    let doc = served_document().await;
    let mut failures = Vec::new();

    for (method, path) in operations(&doc) {
        let responses = &doc["paths"][&path][method.to_lowercase()]["responses"];
        for (status, answer) in responses.as_object().expect("responses") {
            let is_error = status.starts_with('4') || status.starts_with('5');
            let shape = &answer["content"]["application/json"]["schema"]["$ref"];
            if is_error && path != "/healthz" && shape != "#/components/schemas/ErrorBody" {
                failures.push(format!("{method} {path} {status}: {shape}"));
            }
        }
    }

    assert!(failures.is_empty(), "{failures:#?}");
}
