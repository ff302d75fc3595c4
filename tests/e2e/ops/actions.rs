//! The console's orchestration actions (`ops:write`): cancelling a run from its page and
//! restoring a resource version from the resource page, each asked first, CSRF-checked,
//! audited, hidden from readers and refused to them by the server; and the lists showing a
//! refused filter under its field.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::Engine;
use crate::helpers::TestApp;

/// Posts `fields` with `client`'s CSRF token to `path`.
async fn post_form(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = app.csrf_token(client).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(fields);
    client.post(app.url(path)).form(&form).send().await.unwrap()
}

/// The status and the text of a response.
async fn read(res: reqwest::Response) -> (u16, String) {
    (res.status().as_u16(), res.text().await.unwrap())
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

async fn audit_rows(app: &TestApp, action: &str, target: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM audit WHERE action = '{action}' AND target_id = '{target}' \
         AND actor LIKE 'user:%'"
    ))
    .await
}

#[tokio::test]
async fn a_run_is_canceled_from_its_page_after_a_question() {
    let e = Engine::start().await;
    e.run_with_units("r1", &[("net", &[]), ("vm", &["net"]), ("dns", &["vm"])])
        .await;
    e.move_run("r1", "running").await;
    e.call(
        Method::PATCH,
        "/api/ops/plan-units/net",
        Some(json!({"status": "running"})),
    )
    .await;
    let (app, admin) = (&e.app, &e.app.client);
    let page = app.text_of(admin, "/ops/runs/r1").await;
    assert!(
        page.contains("data-testid=\"cancel-run\"") && page.contains("/ops/runs/r1/cancel"),
        "a writer sees the cancel button"
    );

    let (status, asked) = read(post_form(app, admin, "/ops/runs/r1/cancel", &[]).await).await;
    assert_eq!(status, 200, "cancelling asks first");
    assert!(asked.contains("Cancel the run r1?"), "{asked}");
    assert!(
        asked.contains("3 plan units not finished")
            && asked.contains("net (running)")
            && asked.contains("dns (pending)"),
        "the question names the unfinished units"
    );
    assert!(asked.contains("name=\"confirm\" value=\"yes\""));
    assert_eq!(e.get("/api/ops/runs/r1").await["status"], "running");

    let done = post_form(app, admin, "/ops/runs/r1/cancel", &[("confirm", "yes")]).await;
    assert_eq!(done.status(), 303, "Post/Redirect/Get");
    assert_eq!(location(&done), "/ops/runs/r1");
    let run = e.get("/api/ops/runs/r1").await;
    assert_eq!(run["status"], "canceled");
    assert!(run["finished_at"].is_string(), "the server set finished_at");
    assert_eq!(audit_rows(app, "run.canceled", "r1").await, 1);
    let page = app.text_of(admin, "/ops/runs/r1").await;
    assert!(
        page.contains("The run r1 was canceled.") && !page.contains("data-testid=\"cancel-run\""),
        "a canceled run offers no cancel button"
    );

    let (status, again) =
        read(post_form(app, admin, "/ops/runs/r1/cancel", &[("confirm", "yes")]).await).await;
    assert_eq!(status, 409, "an ended run cannot be canceled");
    assert!(
        again.contains("data-testid=\"cancel-run\"") && again.contains("canceled"),
        "the refusal is shown on the run page"
    );
    assert_eq!(audit_rows(app, "run.canceled", "r1").await, 1);
}

/// Writes two states of `aws_instance/web`; answers the hash of the second.
async fn two_versions(e: &Engine) -> String {
    let path = "/api/ops/resources/aws_instance/web";
    let (status, _) = e
        .call(
            Method::PUT,
            path,
            Some(json!({"state": {"size": "small", "zone": "a"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, second) = e
        .call(
            Method::PUT,
            path,
            Some(json!({"state": {"size": "large", "zone": "a"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    second["hash"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_old_version_is_restored_from_the_resource_page() {
    let e = Engine::start().await;
    let hash = two_versions(&e).await;
    let (app, admin) = (&e.app, &e.app.client);
    let base = "/ops/resources/aws_instance/web";
    let page = app.text_of(admin, base).await;
    let restore = format!("{base}/versions/1/restore");
    assert!(page.contains(&format!("action=\"{restore}\"")));
    assert!(
        !page.contains(&format!("{base}/versions/2/restore")),
        "the current version has no restore button"
    );
    assert!(page.contains(&format!("name=\"if_match\" value=\"{hash}\"")));

    let (status, asked) =
        read(post_form(app, admin, &restore, &[("if_match", hash.as_str())]).await).await;
    assert_eq!(status, 200, "restoring asks first");
    assert!(asked.contains("Restore version 1 of aws_instance/web?"));
    assert!(
        asked.contains("1 path of the current state change") && asked.contains("$.size: "),
        "the question names what changes"
    );
    assert!(asked.contains(&format!("name=\"if_match\" value=\"{hash}\"")));
    assert_eq!(
        e.get("/api/ops/resources/aws_instance/web").await["serial"],
        2
    );

    let done = post_form(
        app,
        admin,
        &restore,
        &[("confirm", "yes"), ("if_match", hash.as_str())],
    )
    .await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), base);
    let now = e.get("/api/ops/resources/aws_instance/web").await;
    assert_eq!(now["serial"], 3);
    assert_eq!(now["state"], json!({"size": "small", "zone": "a"}));
    let v3: Value = e
        .get("/api/ops/resources/aws_instance/web/versions/3")
        .await;
    assert!(v3["actor"].as_str().unwrap().starts_with("user:"));
    assert_eq!(
        audit_rows(app, "resource.restored", "aws_instance/web").await,
        1
    );
    let page = app.text_of(admin, base).await;
    assert!(page.contains("Version 1 was restored as version 3."));
}

#[tokio::test]
async fn a_restore_over_a_state_written_since_is_refused() {
    let e = Engine::start().await;
    let shown = two_versions(&e).await;
    e.call(
        Method::PUT,
        "/api/ops/resources/aws_instance/web",
        Some(json!({"state": {"size": "xlarge"}})),
    )
    .await;
    let (app, admin) = (&e.app, &e.app.client);
    let (status, page) = read(
        post_form(
            app,
            admin,
            "/ops/resources/aws_instance/web/versions/1/restore",
            &[("confirm", "yes"), ("if_match", shown.as_str())],
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "the page's hash is no longer the current one");
    assert!(page.contains("data-testid=\"restore-refused\"") && page.contains("has changed"));
    let now = e.get("/api/ops/resources/aws_instance/web").await;
    assert_eq!(
        now["state"],
        json!({"size": "xlarge"}),
        "nothing overwritten"
    );
    assert_eq!(
        audit_rows(app, "resource.restored", "aws_instance/web").await,
        0
    );
}

#[tokio::test]
async fn readers_see_no_action_and_the_server_refuses_them() {
    let e = Engine::start().await;
    e.run_with_units("r2", &[("a", &[])]).await;
    e.move_run("r2", "running").await;
    let hash = two_versions(&e).await;
    let app = &e.app;
    let viewer = app.client_with_role("viewer").await;
    let run_page = app.text_of(&viewer, "/ops/runs/r2").await;
    assert!(
        run_page.contains("data-testid=\"plan-graph\""),
        "readers see the run"
    );
    assert!(!run_page.contains("/ops/runs/r2/cancel"));
    let resource_page = app
        .text_of(&viewer, "/ops/resources/aws_instance/web")
        .await;
    assert!(resource_page.contains("data-testid=\"versions\""));
    assert!(!resource_page.contains("/restore"));

    let cancel = post_form(app, &viewer, "/ops/runs/r2/cancel", &[("confirm", "yes")]).await;
    assert_eq!(cancel.status(), 403);
    let restore = post_form(
        app,
        &viewer,
        "/ops/resources/aws_instance/web/versions/1/restore",
        &[("confirm", "yes"), ("if_match", hash.as_str())],
    )
    .await;
    assert_eq!(restore.status(), 403);
    assert_eq!(e.get("/api/ops/runs/r2").await["status"], "running");
    assert_eq!(
        e.get("/api/ops/resources/aws_instance/web").await["serial"],
        2
    );
}

#[tokio::test]
async fn an_action_without_the_csrf_token_changes_nothing() {
    let e = Engine::start().await;
    e.run_with_units("r3", &[]).await;
    let (app, admin) = (&e.app, &e.app.client);
    let forged = admin
        .post(app.url("/ops/runs/r3/cancel"))
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let wrong = admin
        .post(app.url("/ops/runs/r3/cancel"))
        .form(&[("confirm", "yes"), ("csrf_token", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    assert_eq!(e.get("/api/ops/runs/r3").await["status"], "pending");
    assert_eq!(audit_rows(app, "run.canceled", "r3").await, 0);
}

#[tokio::test]
async fn the_ops_lists_show_a_refused_filter_under_its_field() {
    let e = Engine::start().await;
    e.run_with_units("r4", &[]).await;
    let (app, admin) = (&e.app, &e.app.client);

    let (status, runs) = read(app.get("/ops/runs?status=finished").await).await;
    assert_eq!(status, 400);
    assert!(
        runs.contains("id=\"filter-status-error\""),
        "the error is under the status filter: {runs}"
    );
    assert!(
        runs.contains("<nav") && runs.contains("Runs"),
        "the list page, with its sidebar"
    );
    assert!(
        !runs.contains("/ops/runs/r4"),
        "no rows answer a refused query"
    );

    let long = "t".repeat(300);
    let (status, facts) = read(
        app.get(&format!("/ops/facts?target_id={long}&namespace=os"))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(facts.contains("id=\"filter-target_id-error\""));
    assert!(facts.contains("value=\"os\""), "the other filters are kept");

    let (status, resources) = read(app.get("/ops/resources?limit=0").await).await;
    assert_eq!(status, 400);
    assert!(resources.contains("limit"), "the error names the limit");

    let fine = admin
        .get(app.url("/ops/runs?status=pending"))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
    assert!(fine.text().await.unwrap().contains("/ops/runs/r4"));
}
