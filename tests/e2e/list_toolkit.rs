//! The console's list toolkit on real pages: headers that sort both ways, filters on a fixed
//! vocabulary that ignore case and offer the known values, a refused filter shown again with
//! the others kept (`400`), empty lists offering their first item, and long values shortened.

use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::list_pagination::position;

async fn html(app: &TestApp, path: &str, status: u16) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), status, "{path}");
    res.text().await.unwrap()
}

/// The first cell's text of each table row.
fn first_cells(html: &str) -> Vec<String> {
    let Some(start) = html.find("<tbody>") else {
        return Vec::new();
    };
    html[start..]
        .split("<tr>")
        .skip(1)
        .map(|row| {
            // The first cell after the bulk checkbox, if the list has one.
            let row = match row.find(r#"<td class="select">"#) {
                Some(at) => &row[at + row[at..].find("</td>").unwrap() + 5..],
                None => row,
            };
            let cell = &row[row.find("<td").unwrap()..row.find("</td>").unwrap()];
            let mut text = String::new();
            let mut in_tag = false;
            for c in cell.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_string()
        })
        .collect()
}

async fn upsert_devices(app: &TestApp, items: Value) {
    let token = app.csrf_token(&app.client).await;
    let res = app
        .client
        .post(app.url("/internal/devices/bulk_upsert"))
        .header("X-CSRF-Token", &token)
        .json(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// A device whose name fills its audit row's details with 200 characters.
pub async fn put_long_device(app: &TestApp) {
    let token = app.csrf_token(&app.client).await;
    let res = app
        .client
        .put(app.url("/api/devices/long"))
        .header("X-CSRF-Token", &token)
        .json(&json!({"name": "a".repeat(200), "manufacturer": "IKEA", "model": "M".repeat(80)}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}

#[tokio::test]
async fn a_header_sorts_its_column_and_again_reverses_it_with_an_arrow() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let items: Vec<Value> = ["switch.b", "light.c", "sensor.a", "light.a"]
        .iter()
        .map(|id| json!({"entity_id": id, "device_id": null}))
        .collect();
    app.bulk_upsert("entities", &token, items).await;

    let by_id = html(&app, "/registry/entities", 200).await;
    assert_eq!(
        first_cells(&by_id),
        ["light.a", "light.c", "sensor.a", "switch.b"]
    );
    assert!(by_id.contains(
        r#"aria-sort="ascending"><a class="sort" href="/registry/entities?sort=-entity_id""#
    ));
    assert!(
        by_id.contains(r#"aria-sort="none"><a class="sort" href="/registry/entities?sort=domain""#)
    );
    let by_domain_desc = html(&app, "/registry/entities?sort=-domain", 200).await;
    assert_eq!(
        first_cells(&by_domain_desc),
        ["switch.b", "sensor.a", "light.c", "light.a"],
        "domain descending, the id breaking ties the same way"
    );
    assert!(by_domain_desc.contains(r#"aria-sort="descending""#));

    // Sorted by domain two a page, both ways, the rows still come in order.
    let first = html(&app, "/registry/entities?sort=domain&limit=3", 200).await;
    assert_eq!(first_cells(&first), ["light.a", "light.c", "sensor.a"]);
    assert_eq!(position(&first).as_deref(), Some("Rows 1–3"));
    let next = crate::list_pagination::link(&first, "next").unwrap();
    let second = html(&app, &next, 200).await;
    assert_eq!(first_cells(&second), ["switch.b"]);
    assert_eq!(position(&second).as_deref(), Some("Rows 4–4"));
    let prev = crate::list_pagination::link(&second, "prev").unwrap();
    assert_eq!(
        first_cells(&html(&app, &prev, 200).await),
        first_cells(&first)
    );

    // The audit trail sorts by actor, oldest first, and newest first by default.
    let by_actor = html(&app, "/audit?sort=actor", 200).await;
    let actors = first_cells(&by_actor);
    assert!(!actors.is_empty());
    let oldest = html(&app, "/audit?sort=time", 200).await;
    let newest = html(&app, "/audit", 200).await;
    let (mut o, n) = (first_cells(&oldest), first_cells(&newest));
    o.reverse();
    assert_eq!(o, n, "time ascending is the default reversed");
}

#[tokio::test]
async fn an_unknown_sort_or_a_bad_filter_is_a_400_page_keeping_the_other_filters() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    let page = html(
        &app,
        "/sync/history?since=yesterday&status=failed&tenant_id=acme",
        400,
    )
    .await;
    assert!(page.contains(r#"href="/audit""#), "the navigation stays");
    assert!(page.contains(r#"id="filter-since-error""#), "{page}");
    assert!(page.contains("must be an RFC 3339 time"));
    assert!(
        page.contains(r#"value="yesterday""#),
        "the bad value is kept to correct"
    );
    assert!(
        page.contains(r#"value="acme""#),
        "the other filters are kept"
    );
    assert!(page.contains(r#"<option value="failed" selected>"#));

    let page = html(&app, "/audit?since=2026-13-01&actor=cli", 400).await;
    assert!(page.contains(r#"id="filter-since-error""#));
    assert!(page.contains(r#"value="cli""#));
    assert!(page.contains(r#"href="/registry/devices""#));

    let page = html(
        &app,
        "/registry/devices?sort=password&manufacturer=IKEA",
        400,
    )
    .await;
    assert!(
        page.contains(r#"id="filter-sort-error""#),
        "the sort is a field of its own"
    );
    assert!(page.contains(r#"value="IKEA""#));
    let page = html(&app, "/registry/entities?sort=password", 400).await;
    assert!(page.contains("data-testid=\"list-error\""), "{page}");
    assert!(page.contains("must be one of entity_id, domain"));
    let page = html(
        &app,
        "/oauth/audit?until=soon&event_type=client.created",
        400,
    )
    .await;
    assert!(page.contains(r#"id="filter-until-error""#));
    assert!(page.contains(r#"<option value="client.created" selected>"#));
    html(&app, "/admin/users?status=sleeping", 400).await;
    html(&app, "/webhooks?status=sleeping", 400).await;
    html(&app, "/oauth/clients?sort=secret", 400).await;
    html(&app, "/oauth/device-codes?cursor=%2A", 400).await;

    // The JSON lists keep their JSON error shape.
    let res = app.get("/api/audit?sort=password").await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["field"], "sort", "{body}");
}

#[tokio::test]
async fn vocabulary_filters_ignore_case_offer_known_values_and_dates_have_pickers() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    upsert_devices(
        &app,
        json!([
            {"device_id": "lamp", "name": "Lamp", "manufacturer": "IKEA", "area_id": "Kitchen", "integration": "hue"},
            {"device_id": "plug", "name": "Plug", "manufacturer": "Shelly", "area_id": "hall", "integration": "shelly"},
        ]),
    )
    .await;

    let page = html(&app, "/registry/devices?manufacturer=ikea", 200).await;
    assert_eq!(first_cells(&page), ["lamp"], "ikea finds IKEA");
    // Two spellings of one manufacturer are one choice, as the filter ignores case.
    upsert_devices(
        &app,
        json!([{"device_id": "zbulb", "name": "Bulb", "manufacturer": "ikea", "area_id": "Kitchen"}]),
    )
    .await;
    let page = html(&app, "/registry/devices", 200).await;
    let known = page
        .split(r#"<datalist id="known-manufacturer">"#)
        .nth(1)
        .and_then(|rest| rest.split("</datalist>").next())
        .expect("the manufacturer's known values");
    assert_eq!(known.matches("<option").count(), 2, "{known}");
    assert!(known.to_lowercase().contains(r#"value="ikea""#), "{known}");
    assert!(known.contains(r#"value="Shelly""#), "{known}");
    let page = html(&app, "/registry/devices?manufacturer=ikea", 200).await;
    assert_eq!(first_cells(&page), ["lamp", "zbulb"]);
    let page = html(
        &app,
        "/registry/devices?area_id=KITCHEN&integration=HUE",
        200,
    )
    .await;
    assert_eq!(first_cells(&page), ["lamp"]);
    assert!(page.contains(r#"list="known-manufacturer""#));
    assert!(page.contains(r#"<datalist id="known-manufacturer"><option value="IKEA"></option><option value="Shelly"></option></datalist>"#)
        || page.contains(r#"<datalist id="known-manufacturer"><option value="ikea"></option><option value="Shelly"></option></datalist>"#));
    // In alphabetical order whatever the case.
    assert!(page.contains(r#"<option value="hall"></option><option value="Kitchen"></option>"#));
    // The API's filter ignores case too.
    let res = app.get("/api/devices?manufacturer=iKeA").await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        2,
        "IKEA's lamp and ikea's bulb"
    );

    // A sync's tenant too, with the tenants offered.
    entity::sync_history::ActiveModel {
        tenant_id: Set("Acme".into()),
        sync_type: Set("sqlite".into()),
        status: Set("completed".into()),
        start_time: Set(chrono::Utc::now().fixed_offset()),
        updated_at: Set(chrono::Utc::now().fixed_offset()),
        progress_percentage: Set(100),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let page = html(&app, "/sync/history?tenant_id=acme", 200).await;
    assert_eq!(first_cells(&page).len(), 1, "acme finds Acme");
    assert!(
        page.contains(
            r#"<datalist id="known-tenant_id"><option value="Acme"></option></datalist>"#
        )
    );
    assert!(page.contains(r#"type="date" name="since""#));
    let page = html(&app, "/audit", 200).await;
    assert!(page.contains(r#"type="date" name="until""#));
}

#[tokio::test]
async fn an_empty_list_offers_its_first_item_to_those_who_may_add_it() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    for (path, add) in [
        ("/webhooks", "/webhooks/new"),
        ("/registry/devices", "/registry/devices/new"),
        ("/oauth/clients", "/oauth/clients/new"),
    ] {
        let page = html(&app, path, 200).await;
        let empty = &page[page.find("data-testid=\"empty-state\"").expect(path)..];
        assert!(
            empty[..empty.find("</div>").unwrap()].contains(&format!(r#"href="{add}""#)),
            "{path} offers {add}"
        );
    }
    let reader = app.client_with_role("viewer").await;
    let page = app.text_of(&reader, "/registry/devices").await;
    assert!(page.contains("data-testid=\"empty-state\""));
    assert!(
        !page.contains(r#"href="/registry/devices/new""#),
        "a reader is not offered it"
    );
}

#[tokio::test]
async fn long_values_are_shortened_with_the_full_value_on_hover_and_actors_link() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    put_long_device(&app).await;
    let page = html(&app, "/audit", 200).await;
    assert!(
        page.contains("title=\""),
        "a shortened value keeps its full text"
    );
    assert!(page.contains("…"));
    let admin: i64 = app
        .scalar("SELECT id FROM local_users WHERE username = 'admin'")
        .await;
    assert!(
        page.contains(&format!(r#"href="/admin/users/{admin}""#)),
        "user:admin links to the user"
    );
    assert!(
        page.contains(r#"<td class="nowrap">"#),
        "times stay on one line"
    );
}

/// The CSRF token of a page's forms.
fn csrf(html: &str) -> String {
    crate::helpers::csrf_in(html).expect("a CSRF token")
}

#[tokio::test]
async fn a_bulk_delete_asks_first_naming_the_devices_then_deletes_them_all_or_none() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    upsert_devices(
        &app,
        json!([
            {"device_id": "a1", "name": "Lamp"},
            {"device_id": "a2", "name": "Plug"},
            {"device_id": "a3", "name": "Keep"},
        ]),
    )
    .await;
    let list = html(&app, "/registry/devices", 200).await;
    assert!(list.contains(r#"data-select-all="bulk-form""#));
    assert!(list.contains(r#"name="ids" value="a1" form="bulk-form""#));
    let token = csrf(&list);
    let post = |body: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/registry/devices/bulk-delete"))
                .form(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let ids = |list: &[&str]| {
        let mut body = vec![
            ("csrf_token", token.clone()),
            ("back", "/registry/devices".to_string()),
        ];
        body.extend(list.iter().map(|id| ("ids", id.to_string())));
        body
    };

    // Without the confirmation, a question naming them; nothing is gone.
    let question = post(ids(&["a1", "a2"])).await;
    assert_eq!(question.status(), 200);
    let question = question.text().await.unwrap();
    assert!(question.contains("Delete 2 devices?"), "{question}");
    assert!(question.contains("Lamp (a1)") && question.contains("Plug (a2)"));
    assert!(question.contains(r#"class="danger""#));
    assert!(
        question.contains(r#"name="ids" value="a2""#),
        "the ids ride along"
    );
    assert_eq!(
        first_cells(&html(&app, "/registry/devices", 200).await).len(),
        3
    );

    // One unknown id refuses the whole deletion.
    let mut refused = ids(&["a1", "nope"]);
    refused.push(("confirm", "yes".into()));
    assert_eq!(post(refused).await.status(), 404);
    assert_eq!(
        first_cells(&html(&app, "/registry/devices", 200).await).len(),
        3
    );

    // A reader may not, whatever the ids.
    let reader = app.client_with_role("viewer").await;
    let reader_page = app.text_of(&reader, "/registry/devices").await;
    assert!(!reader_page.contains("bulk-form"), "a reader gets no boxes");
    let res = reader
        .post(app.url("/registry/devices/bulk-delete"))
        .form(&[
            ("csrf_token", csrf(&reader_page)),
            ("ids", "a1".into()),
            ("confirm", "yes".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let mut confirmed = ids(&["a1", "a2"]);
    confirmed.push(("confirm", "yes".into()));
    let done = post(confirmed).await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        first_cells(&html(&app, "/registry/devices", 200).await),
        ["a3"]
    );
    let deleted: i64 = app
        .scalar("SELECT COUNT(*) FROM audit WHERE action = 'device.deleted'")
        .await;
    assert_eq!(deleted, 2, "one audit row per device");
}

#[tokio::test]
async fn webhooks_device_codes_and_the_oauth_log_sort_by_their_headers_both_ways() {
    let app = crate::helpers::spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let mut ids = Vec::new();
    for path in ["/b", "/c", "/a"] {
        let res = app
            .client
            .post(app.url("/api/webhooks"))
            .header("X-CSRF-Token", &token)
            .json(&json!({"url": format!("http://127.0.0.1:9{path}"), "events": ["*"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let created: Value = res.json().await.unwrap();
        ids.push(created["webhook_id"].as_str().unwrap().to_string());
    }
    // A test event gives the first webhook a delivery log.
    let sent = app
        .client
        .post(app.url(&format!("/webhooks/{}/test", ids[0])))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    let log = html(&app, &format!("/webhooks/{}", ids[0]), 200).await;
    assert!(
        log.contains(r#"aria-sort="descending"><a class="sort" href="/webhooks/"#),
        "{log}"
    );
    let log = html(&app, &format!("/webhooks/{}?sort=created", ids[0]), 200).await;
    assert!(
        log.contains(r#"aria-sort="ascending""#),
        "the delivery log reads oldest first"
    );
    // The path letter of each URL shown, in page order.
    let urls = |page: &str| -> Vec<String> {
        page.split("http://127.0.0.1:9/")
            .skip(1)
            .map(|s| s[..1].to_string())
            .collect()
    };
    let list = html(&app, "/webhooks", 200).await;
    assert!(
        list.contains(r#"aria-sort="none"><a class="sort" href="/webhooks?sort=url""#),
        "{list}"
    );
    let ascending = html(&app, "/webhooks?sort=url", 200).await;
    assert!(
        ascending.contains(r#"aria-sort="ascending"><a class="sort" href="/webhooks?sort=-url""#)
    );
    let mut seen = urls(&ascending);
    seen.dedup();
    assert_eq!(seen, ["a", "b", "c"]);
    let mut seen = urls(&html(&app, "/webhooks?sort=-url", 200).await);
    seen.dedup();
    assert_eq!(seen, ["c", "b", "a"]);
    let refused = html(&app, "/webhooks?sort=secret&team=ops", 400).await;
    assert!(
        refused.contains(r#"value="ops""#),
        "the other filters are kept"
    );

    // Device codes sort by creation or expiry; anything else is refused under the list.
    html(&app, "/oauth/device-codes?sort=expires", 200).await;
    html(&app, "/oauth/device-codes?sort=-expires", 200).await;
    html(&app, "/oauth/device-codes?sort=user_code", 400).await;
    // Registering a client writes the OAuth log's first row.
    crate::oauth::register(
        &app,
        json!({"name": "svc", "allowed_scopes": ["sync:read"]}),
    )
    .await;
    let log = html(&app, "/oauth/audit", 200).await;
    assert!(
        log.contains(r#"aria-sort="descending"><a class="sort" href="/oauth/audit?sort=time""#),
        "{log}"
    );
    html(&app, "/oauth/audit?sort=time", 200).await;
}
