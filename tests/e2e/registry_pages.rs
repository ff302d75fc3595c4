//! The registry's pages: device list, device page, new device, entity toggle, preferences.

use serde_json::{Value, json};

use crate::helpers::{TestApp, csrf_in, spawn_app};

async fn admin() -> (TestApp, String) {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    (app, token)
}

async fn bulk(app: &TestApp, token: &str, path: &str, items: Value) {
    let res = app
        .client
        .post(app.url(path))
        .header("X-CSRF-Token", token)
        .json(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.get(path).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let (_, html) = page(app, "/").await;
    let token = csrf_in(&html).unwrap();
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(fields);
    app.client
        .post(app.url(path))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_device_list_searches_filters_sorts_and_pages() {
    let (app, token) = admin().await;
    let items: Vec<Value> = (0..30)
        .map(|i| {
            json!({"device_id": format!("d{i:02}"), "name": format!("Lamp {}", 29 - i),
                        "area_id": if i < 10 { "kitchen" } else { "hall" }, "manufacturer": "Acme"})
        })
        .collect();
    bulk(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        Value::Array(items),
    )
    .await;
    bulk(&app, &token, "/internal/entities/bulk_upsert", json!([
        {"entity_id": "light.a", "device_id": "d00"}, {"entity_id": "light.b", "device_id": "d00"}])).await;

    let (status, all) = page(&app, "/registry/devices?limit=20").await;
    let (_, kitchen) = page(&app, "/registry/devices?area_id=kitchen&q=lamp").await;
    let (_, by_name) = page(&app, "/registry/devices?sort=name&limit=3").await;
    let (_, by_name_desc) = page(&app, "/registry/devices?sort=-name&limit=3").await;
    let (bad_sort, _) = page(&app, "/registry/devices?sort=colour").await;
    let (bad_cursor, _) = page(&app, "/registry/devices?cursor=%7B").await;

    assert_eq!(status, 200);
    assert!(all.contains("30 devices match."), "a cheap count");
    assert!(all.contains(r#"href="/registry/devices/d19""#));
    assert!(
        !all.contains(r#"href="/registry/devices/d20""#),
        "20 rows per page"
    );
    assert!(all.contains("rel=\"next\""));
    assert!(all.contains("<td>2</td>"), "the entity count of d00");
    assert!(kitchen.contains("10 devices match."));
    assert!(
        by_name.contains("Lamp 0") && !by_name.contains("Lamp 9<"),
        "{by_name}"
    );
    assert!(by_name_desc.contains("Lamp 9<"));
    assert_eq!((bad_sort, bad_cursor), (400, 400));
    // Column headers sort: the current one says which way and links to the other way, the
    // links keep the filters and start from the first page.
    assert!(
        by_name.contains(r#"<th scope="col" aria-sort="ascending"><a class="sort" href="/registry/devices?limit=3&#38;sort=-name">Name</a></th>"#),
        "{by_name}"
    );
    assert!(by_name.contains(r#"<th scope="col" aria-sort="none"><a class="sort" href="/registry/devices?limit=3&#38;sort=device_id">Device id</a></th>"#));
    assert!(by_name_desc.contains(r#"aria-sort="descending"><a class="sort" href="/registry/devices?limit=3&#38;sort=name">Name</a>"#));
    assert!(kitchen.contains(r#"href="/registry/devices?q=lamp&#38;area_id=kitchen&#38;sort=-device_id">Device id</a>"#), "{kitchen}");
    let next = by_name
        .split("href=\"")
        .find(|s| s.contains("cursor="))
        .map(|s| {
            s[..s.find('"').unwrap()]
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        })
        .expect("a next link");
    let (_, second) = page(&app, &next).await;
    assert!(
        second.contains("Lamp 11<") || second.contains("Lamp 12<"),
        "the next names in order"
    );
}

#[tokio::test]
async fn a_device_is_created_edited_and_deleted_from_its_pages() {
    let (app, _) = admin().await;

    let bad = post_form(
        &app,
        "/registry/devices/new",
        &[("device_id", "bad id"), ("name", "")],
    )
    .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains(r#"data-field-error="device_id""#)
            && html.contains(r#"data-field-error="name""#)
    );

    let created = post_form(
        &app,
        "/registry/devices/new",
        &[
            ("device_id", "hue-1"),
            ("name", "Lamp"),
            ("area_id", "kitchen"),
        ],
    )
    .await;
    assert_eq!(created.status(), 303);
    assert_eq!(location(&created), "/registry/devices/hue-1");
    let taken = post_form(
        &app,
        "/registry/devices/new",
        &[("device_id", "hue-1"), ("name", "Again")],
    )
    .await;
    assert_eq!(
        taken.status(),
        422,
        "an existing id is not overwritten from the new form"
    );

    let edited = post_form(
        &app,
        "/registry/devices/hue-1",
        &[("name", "Desk lamp"), ("area_id", "")],
    )
    .await;
    assert_eq!(edited.status(), 303);
    let (_, shown) = page(&app, "/registry/devices/hue-1").await;
    assert!(shown.contains("Desk lamp") && shown.contains("This device has no entities."));

    let asked = post_form(&app, "/registry/devices/hue-1/delete", &[]).await;
    assert_eq!(asked.status(), 200, "deleting asks first");
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("Delete the device Desk lamp?")
    );
    assert_eq!(page(&app, "/registry/devices/hue-1").await.0, 200);
    let deleted = post_form(
        &app,
        "/registry/devices/hue-1/delete",
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(page(&app, "/registry/devices/hue-1").await.0, 404);
}

#[tokio::test]
async fn an_entity_is_disabled_and_enabled_from_the_list() {
    let (app, token) = admin().await;
    bulk(
        &app,
        &token,
        "/internal/entities/bulk_upsert",
        json!([{"entity_id": "light.a"}]),
    )
    .await;

    let (_, list) = page(&app, "/registry/entities?domain=light").await;
    let action = list
        .split("action=\"")
        .find(|s| s.starts_with("/registry/entities/light.a/disabled"))
        .map(|s| {
            s[..s.find('"').unwrap()]
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        })
        .expect("a toggle form");
    let asked = post_form(&app, &action, &[]).await;
    assert_eq!(asked.status(), 200, "the toggle asks first");
    let question = asked.text().await.unwrap();
    assert!(
        question.contains("Disable the entity light.a?"),
        "{question}"
    );
    let (_, unchanged) = page(&app, "/registry/entities?disabled=true").await;
    assert!(
        !unchanged.contains("light.a"),
        "nothing changed before the answer"
    );
    let toggled = post_form(&app, &action, &[("confirm", "yes")]).await;
    let (_, disabled) = page(&app, "/registry/entities?disabled=true").await;

    assert_eq!(toggled.status(), 303);
    assert_eq!(
        location(&toggled),
        "/registry/entities?domain=light",
        "back to the same list"
    );
    assert!(disabled.contains("light.a") && disabled.contains("Enable"));
    let evil = post_form(
        &app,
        "/registry/entities/light.a/disabled?to=false&back=https://evil.example",
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(location(&evil), "/registry/entities", "no open redirect");
    let no_csrf = app
        .client
        .post(app.url("/registry/entities/light.a/disabled?to=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
}

#[tokio::test]
async fn hostile_strings_are_rendered_escaped_on_every_registry_page() {
    let (app, token) = admin().await;
    let hostile = "<script>alert(1)</script>' OR 1=1 --";
    bulk(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!([{"device_id": "evil", "name": hostile, "model": hostile}]),
    )
    .await;
    bulk(
        &app,
        &token,
        "/internal/entities/bulk_upsert",
        json!([{"entity_id": "light.evil", "device_id": "evil", "platform": hostile}]),
    )
    .await;

    for path in [
        "/registry/devices",
        "/registry/devices/evil",
        "/registry/entities",
        "/registry/devices?q=%3Cscript%3E",
    ] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !html.contains("<script>alert(1)</script>"),
            "{path} escapes"
        );
        assert!(
            html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
            "{path} shows it"
        );
    }
}

#[tokio::test]
async fn the_theme_and_page_size_follow_the_users_preferences() {
    let (app, token) = admin().await;
    let items: Vec<Value> = (0..12)
        .map(|i| json!({"device_id": format!("d{i:02}"), "name": "n"}))
        .collect();
    bulk(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        Value::Array(items),
    )
    .await;
    let (_, before) = page(&app, "/registry/devices").await;
    assert!(before.contains(r#"data-theme="auto""#));

    let saved = post_form(
        &app,
        "/account/preferences",
        &[
            ("theme", "dark"),
            ("page_size", "5"),
            ("default_tenant", ""),
        ],
    )
    .await;
    let refused = post_form(
        &app,
        "/account/preferences",
        &[("theme", "pink"), ("page_size", "0")],
    )
    .await;

    assert_eq!(saved.status(), 303);
    assert_eq!(refused.status(), 422);
    for path in ["/", "/registry/devices", "/account", "/admin/users"] {
        let (_, html) = page(&app, path).await;
        assert!(
            html.contains(r#"data-theme="dark""#),
            "{path} honours the theme"
        );
    }
    let (_, list) = page(&app, "/registry/devices").await;
    assert!(
        list.contains("d04") && !list.contains(r#"href="/registry/devices/d05""#),
        "5 rows"
    );
    let (_, account) = page(&app, "/account").await;
    assert!(account.contains(r#"<option value="dark" selected>"#));
}

#[tokio::test]
async fn an_entity_is_created_edited_and_deleted_in_the_console_with_errors_under_fields() {
    let (app, token) = admin().await;
    bulk(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!([{"device_id": "hue-1", "name": "Lamp"}, {"device_id": "hue-2", "name": "Hall"}]),
    )
    .await;
    let (_, list) = page(&app, "/registry/entities").await;
    assert!(
        list.contains(r#"href="/registry/entities/new""#),
        "a button adds one"
    );

    let bad = post_form(
        &app,
        "/registry/entities/new",
        &[
            ("entity_id", "no dot"),
            ("device_id", "nowhere"),
            ("platform", "hue"),
        ],
    )
    .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains(r#"data-field-error="entity_id""#), "{html}");
    assert!(html.contains(r#"value="hue""#), "the input is kept");

    let missing_device = post_form(
        &app,
        "/registry/entities/new",
        &[("entity_id", "light.desk"), ("device_id", "nowhere")],
    )
    .await;
    assert_eq!(missing_device.status(), 422);
    assert!(
        missing_device
            .text()
            .await
            .unwrap()
            .contains(r#"data-field-error="device_id""#)
    );

    let created = post_form(
        &app,
        "/registry/entities/new",
        &[
            ("entity_id", "light.desk"),
            ("device_id", "hue-1"),
            ("platform", "hue"),
        ],
    )
    .await;
    assert_eq!(created.status(), 303);
    assert_eq!(location(&created), "/registry/entities/light.desk");
    let again = post_form(
        &app,
        "/registry/entities/new",
        &[("entity_id", "light.desk"), ("device_id", "hue-2")],
    )
    .await;
    assert_eq!(again.status(), 422, "an id in use is not replaced");
    assert!(again.text().await.unwrap().contains("already in use"));

    let edited = post_form(
        &app,
        "/registry/entities/light.desk",
        &[
            ("device_id", "hue-2"),
            ("platform", "zigbee"),
            ("disabled", "true"),
        ],
    )
    .await;
    assert_eq!(edited.status(), 303);
    let (_, shown) = page(&app, "/registry/entities/light.desk").await;
    assert!(shown.contains(r#"href="/registry/devices/hue-2""#) && shown.contains("zigbee"));
    assert!(shown.contains(r#"<span class="badge bad">disabled</span>"#));
    let audit: i64 = app
        .scalar("SELECT COUNT(*) FROM audit WHERE target_id = 'light.desk'")
        .await;
    assert_eq!(audit, 2, "created and updated are audited");

    let asked = post_form(&app, "/registry/entities/light.desk/delete", &[]).await;
    assert_eq!(asked.status(), 200, "deleting asks first");
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("Delete the entity light.desk?")
    );
    assert_eq!(page(&app, "/registry/entities/light.desk").await.0, 200);
    let deleted = post_form(
        &app,
        "/registry/entities/light.desk/delete",
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(page(&app, "/registry/entities/light.desk").await.0, 404);

    let viewer = app.client_with_role("viewer").await;
    let (_, read_only) = (200, app.text_of(&viewer, "/registry/entities").await);
    assert!(
        !read_only.contains("/registry/entities/new"),
        "a viewer gets no add button"
    );
}

#[tokio::test]
async fn preferences_errors_sit_under_their_fields_in_plain_words_and_focus_the_first() {
    let (app, _) = admin().await;
    let long_tenant = "t".repeat(300);

    let res = post_form(
        &app,
        "/account/preferences",
        &[
            ("theme", "dark"),
            ("page_size", "0"),
            ("default_tenant", long_tenant.as_str()),
        ],
    )
    .await;

    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(
            r#"data-field-error="page_size">Enter a whole number of rows from 1 to 500."#
        )
    );
    assert!(
        html.contains(r#"data-field-error="default_tenant">Enter a tenant name of at most 255"#)
    );
    assert!(!html.contains("ui."), "no API field names");
    assert!(
        !html.contains(r#"class="flash error" role="alert""#),
        "no banner"
    );
    assert!(
        html.contains(r#"value="dark" selected"#),
        "the input is kept"
    );
    assert!(
        html.contains(r#"name="page_size" value="0" autocomplete="off" autofocus"#),
        "the first field in error is focused: {html}"
    );
    let (_, fresh) = page(&app, "/registry/entities/new").await;
    assert!(
        fresh.contains(r#"name="entity_id" value="" autocomplete="off" autofocus"#),
        "the first field is focused on load"
    );
}

#[tokio::test]
async fn saving_the_console_settings_never_undoes_a_concurrent_change_of_the_teams() {
    let (app, token) = admin().await;
    let (_, html) = page(&app, "/").await;
    let csrf = csrf_in(&html).unwrap();
    // Teams arrive over JSON while the settings form is saved again and again, all at once:
    // a form save that read the preferences before a teams change must not write them back.
    let teams = (0..8).map(|_| {
        let (app, token) = (&app, &token);
        async move {
            let res = app
                .client
                .put(app.url("/api/me/preferences"))
                .header("X-CSRF-Token", token)
                .json(&json!({"selected_teams": ["ops"], "ui": {"theme": "dark", "page_size": 25}}))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }
    });
    let forms = (0..8).map(|_| {
        let (app, csrf) = (&app, &csrf);
        async move {
            let form = [
                ("csrf_token", csrf.as_str()),
                ("theme", "dark"),
                ("page_size", "25"),
                ("default_tenant", ""),
            ];
            let res = app
                .client
                .post(app.url("/account/preferences"))
                .form(&form)
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }
    });
    let (teams, forms) = tokio::join!(
        futures_util::future::join_all(teams),
        futures_util::future::join_all(forms)
    );
    assert!(teams.iter().all(|s| *s == 200), "{teams:?}");
    assert!(forms.iter().all(|s| *s == 303), "{forms:?}");

    let stored = app
        .client
        .get(app.url("/api/me/preferences"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(stored["selected_teams"], json!(["ops"]), "{stored}");
    assert_eq!(stored["ui"]["page_size"], 25, "{stored}");
}
