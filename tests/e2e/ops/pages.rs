//! The orchestration pages: permission, the run page's graph, table and log, the errors and
//! warnings switch, resources with versions and a diff, facts; hostile text shown escaped.

use reqwest::Method;
use serde_json::json;

use super::{Engine, HOSTILE};

const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";

#[tokio::test]
async fn the_run_page_draws_the_plan_and_shows_the_log_escaped() {
    let e = Engine::start().await;
    e.run_with_units("r1", &[("a", &[]), ("b", &["a"]), ("c", &["a", "b"])])
        .await;
    e.move_run("r1", "running").await;
    e.call(
        Method::PATCH,
        "/api/ops/plan-units/a",
        Some(json!({"status": "running"})),
    )
    .await;
    e.append(json!([
        {"run_id": "r1", "level": "info", "message": HOSTILE},
        {"run_id": "r1", "level": "error", "message": "disk full"},
    ]))
    .await;
    let html = e.app.text_of(&e.app.client, "/ops/runs/r1").await;
    assert!(
        html.contains("data-testid=\"plan-graph\""),
        "the SVG graph is there"
    );
    assert_eq!(
        html.matches("class=\"ops-node ").count(),
        3,
        "one box per unit"
    );
    assert!(html.contains("class=\"ops-node running\" data-unit=\"a\""));
    assert_eq!(
        html.matches("class=\"ops-edge\"").count(),
        3,
        "one arrow per dependency"
    );
    assert!(
        html.contains(ESCAPED) && !html.contains(HOSTILE),
        "hostile text is escaped"
    );
    assert!(html.contains("data-live=\"true\""));
    let serious = e
        .app
        .text_of(&e.app.client, "/ops/runs/r1?min_level=warn")
        .await;
    assert!(serious.contains("disk full") && !serious.contains(ESCAPED));
    let list = e
        .app
        .text_of(&e.app.client, "/ops/runs?status=running")
        .await;
    assert!(
        list.contains("/ops/runs/r1") && list.contains("2 pending, 1 running"),
        "{list}"
    );
}

#[tokio::test]
async fn the_live_stream_sends_new_events_and_ends_with_the_run() {
    let e = Engine::start().await;
    e.run_with_units("r", &[]).await;
    e.move_run("r", "running").await;
    e.append(json!({"run_id": "r", "level": "info", "message": "first"}))
        .await;
    e.move_run("r", "succeeded").await;
    let body = e
        .app
        .text_of(&e.app.client, "/ops/runs/r/events?after_id=0")
        .await;
    assert!(
        body.contains("event: events") && body.contains("\"first\""),
        "{body}"
    );
    assert!(body.ends_with("event: end\ndata: {}\n\n"), "{body}");
}

#[tokio::test]
async fn the_pages_need_ops_read() {
    let e = Engine::start().await;
    let viewer = e.app.client_with_role("viewer").await;
    let status = viewer
        .get(e.app.url("/ops/runs"))
        .send()
        .await
        .unwrap()
        .status();
    let may = service::access::BuiltinRole::Viewer
        .permissions()
        .contains(service::access::Permission::OpsRead);
    assert_eq!(status == 200, may);
    let anonymous = crate::helpers::new_client();
    let status = anonymous
        .get(e.app.url("/ops/facts"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 303, "to the sign-in page");
}

#[tokio::test]
async fn the_resource_page_shows_state_versions_and_a_diff() {
    let e = Engine::start().await;
    let path = "/api/ops/resources/aws_instance/web";
    e.call(
        Method::PUT,
        path,
        Some(json!({"state": {"size": "small", "tag": HOSTILE}})),
    )
    .await;
    e.call(
        Method::PUT,
        path,
        Some(json!({"state": {"size": "large", "zone": "a"}})),
    )
    .await;
    let list = e
        .app
        .text_of(&e.app.client, "/ops/resources?type=aws_instance")
        .await;
    assert!(list.contains("/ops/resources/aws_instance/web"));
    let page = e
        .app
        .text_of(&e.app.client, "/ops/resources/aws_instance/web")
        .await;
    assert!(page.contains("data-testid=\"resource-state\""));
    assert!(page.contains("$.size") && page.contains("$.zone") && page.contains("$.tag"));
    assert!(page.contains(">changed<") && page.contains(">added<") && page.contains(">removed<"));
    assert!(!page.contains(HOSTILE));
    let facts = {
        e.call(
            Method::PUT,
            "/api/ops/facts/host/os/name",
            Some(json!({"value": HOSTILE, "ttl": 7200})),
        )
        .await;
        e.app
            .text_of(&e.app.client, "/ops/facts?target_id=host")
            .await
    };
    assert!(
        facts.contains("1 h 59 min") || facts.contains("2 h 0 min"),
        "time left is shown"
    );
    assert!(!facts.contains(HOSTILE));
}

#[tokio::test]
async fn hostile_run_text_is_shown_escaped_wherever_the_console_names_it() {
    let e = Engine::start().await;
    let (status, body) = e
        .call(
            Method::POST,
            "/api/ops/runs",
            Some(
                json!({"id": HOSTILE, "plan_path": HOSTILE, "metadata": {"note": HOSTILE},
                "plan_units": [{"id": HOSTILE, "resource_type": HOSTILE, "resource_name": HOSTILE,
                                "action": "create"}]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (app, admin) = (&e.app, &e.app.client);
    let list = app.text_of(admin, "/ops/runs").await;
    assert!(list.contains(ESCAPED) && !list.contains(HOSTILE));
    let start = list.find("href=\"/ops/runs/").expect("a link to the run") + 6;
    let href = list[start..].split('"').next().unwrap().to_string();
    assert!(
        !href.contains('<'),
        "the id is percent-encoded in the link: {href}"
    );

    let page = app.text_of(admin, &href).await;
    assert!(
        page.contains("data-testid=\"plan-graph\""),
        "the run page opens"
    );
    assert!(
        page.matches(ESCAPED).count() >= 4,
        "title, metadata, the unit's box and its table row"
    );
    assert!(!page.contains(HOSTILE));

    let token = app.csrf_token(admin).await;
    let asked = admin
        .post(app.url(&format!("{href}/cancel")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 200);
    let asked = asked.text().await.unwrap();
    assert!(
        asked.contains(ESCAPED) && !asked.contains(HOSTILE),
        "the question too"
    );
}
