use crate::helpers::spawn_app;

#[tokio::test]
async fn static_files_are_served_with_validation() {
    let app = spawn_app().await;

    let res = app.get("/static/metadeck.css").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/css");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();

    let again = app
        .client
        .get(app.url("/static/metadeck.css"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_favicon_is_served_from_our_own_origin() {
    let app = spawn_app().await;

    for path in ["/static/favicon.svg", "/favicon.ico"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "image/svg+xml");
    }
    assert_eq!(app.get("/static/nope.js").await.status(), 404);
}
