//! Console lists page both ways: "Next" to the last page and "Previous" back to the first
//! show the same rows in the same order, and both links keep the list's filters.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The text of the page's table rows, in order (without markup: a row's toggle form carries
/// the address it came from, which differs between the two walks).
fn rows(html: &str) -> Vec<String> {
    let start = html.find("<tbody>").expect("a table");
    let end = html.find("</tbody>").expect("a table");
    html[start..end]
        .split("<tr>")
        .skip(1)
        .map(|row| {
            let mut text = String::new();
            let mut in_tag = false;
            for c in row.chars() {
                match c {
                    '<' => {
                        in_tag = true;
                        text.push(' ');
                    }
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// The address of the pager link marked `rel`, if the page has one.
pub fn link(html: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\"");
    let at = html.find(&marker)?;
    let tag = &html[html[..at].rfind("<a ")?..at];
    let href = &tag[tag.find("href=\"")? + 6..];
    Some(
        href[..href.find('"')?]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

/// The pager's position text ("Rows 51–100"), if the page shows one.
pub fn position(html: &str) -> Option<String> {
    let at = html.find("data-testid=\"position\">")? + "data-testid=\"position\">".len();
    Some(html[at..at + html[at..].find('<')?].to_string())
}

/// The first and last row numbers of a position text.
fn span(position: &str) -> (u64, u64) {
    let numbers = position.trim_start_matches("Rows ").replace(',', "");
    let (a, b) = numbers.split_once('–').expect("a range");
    (a.parse().unwrap(), b.parse().unwrap())
}

async fn page(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

/// Walks "Next" from `first` to the last page and "Previous" back, checking that every link
/// keeps `kept` and that the walk back shows what the walk forward showed.
async fn walk_both_ways(app: &TestApp, first: &str, kept: &[&str]) -> usize {
    let mut forward = vec![page(app, first).await];
    assert!(
        link(&forward[0], "prev").is_none(),
        "no Previous on the first page"
    );
    while let Some(next) = link(forward.last().unwrap(), "next") {
        for k in kept {
            assert!(next.contains(k), "{next} keeps {k}");
        }
        forward.push(page(app, &next).await);
    }
    let mut backward = vec![forward.last().unwrap().clone()];
    while let Some(prev) = link(backward.last().unwrap(), "prev") {
        for k in kept {
            assert!(prev.contains(k), "{prev} keeps {k}");
        }
        assert!(prev.contains("before="), "{prev}");
        backward.push(page(app, &prev).await);
    }
    backward.reverse();
    let shown = |pages: &[String]| pages.iter().map(|p| rows(p)).collect::<Vec<_>>();
    assert_eq!(shown(&backward), shown(&forward), "same rows, same order");
    // Each page says where it lies, counting on from the page before, both ways.
    let positions = |pages: &[String]| pages.iter().map(|p| position(p)).collect::<Vec<_>>();
    assert_eq!(positions(&backward), positions(&forward), "same positions");
    let mut next_first = 1;
    for (p, html) in forward.iter().enumerate() {
        let (first, last) =
            span(&position(html).unwrap_or_else(|| panic!("page {p} has a position")));
        assert_eq!(
            first, next_first,
            "page {p} starts where the one before ended"
        );
        assert_eq!(
            last - first + 1,
            rows(html).len() as u64,
            "page {p} counts its rows"
        );
        next_first = last + 1;
    }
    assert!(
        link(&backward[0], "prev").is_none(),
        "back on the first page"
    );
    assert!(link(&backward[0], "next").is_some());
    forward.len()
}

#[tokio::test]
async fn the_device_list_pages_forward_and_back_with_its_filters_kept() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let items: Vec<Value> = (0..10)
        .map(|i| {
            json!({"device_id": format!("d{i:02}"), "name": format!("Lamp {}", (i * 7) % 10),
                   "area_id": if i < 7 { "kitchen" } else { "hall" }})
        })
        .collect();
    app.bulk_upsert("devices", &token, items).await;

    let pages = walk_both_ways(
        &app,
        "/registry/devices?area_id=kitchen&sort=name&limit=3",
        &["area_id=kitchen", "sort=name", "limit=3"],
    )
    .await;
    let descending = walk_both_ways(
        &app,
        "/registry/devices?area_id=kitchen&sort=-device_id&limit=2",
        &["area_id=kitchen", "sort=-device_id", "limit=2"],
    )
    .await;

    assert_eq!((pages, descending), (3, 4), "7 kitchen devices");
    let last = page(&app, "/registry/devices?area_id=kitchen&sort=name&limit=7").await;
    assert!(link(&last, "next").is_none() && link(&last, "prev").is_none());
}

#[tokio::test]
async fn the_audit_trail_pages_forward_and_back_with_its_filters_kept() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    for i in 0..5 {
        app.create_user(
            &format!("paged{i}"),
            "viewer",
            "correct horse battery staple",
        )
        .await;
    }

    let pages = walk_both_ways(
        &app,
        "/audit?actor=cli&action=user.created&limit=2",
        &["actor=cli", "action=user.created", "limit=2"],
    )
    .await;

    assert!(pages >= 3, "at least five rows, two a page");
    let first = page(&app, "/audit?actor=cli&action=user.created&limit=2").await;
    assert!(rows(&first)[0].contains("paged4"), "newest first");
}

#[tokio::test]
async fn the_entity_and_user_lists_page_forward_and_back_with_their_filters_kept() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let items: Vec<Value> = (0..9)
        .map(|i| json!({"entity_id": format!("light.l{i}"), "device_id": null}))
        .chain((0..3).map(|i| json!({"entity_id": format!("switch.s{i}"), "device_id": null})))
        .collect();
    app.bulk_upsert("entities", &token, items).await;
    for i in 0..5 {
        app.create_user(
            &format!("paged{i}"),
            "viewer",
            "correct horse battery staple",
        )
        .await;
    }

    let entities = walk_both_ways(
        &app,
        "/registry/entities?domain=light&limit=4",
        &["domain=light", "limit=4"],
    )
    .await;
    let users = walk_both_ways(
        &app,
        "/admin/users?role=viewer&limit=2",
        &["role=viewer", "limit=2"],
    )
    .await;

    assert_eq!((entities, users), (3, 3), "9 lights, 5 viewers");
}
