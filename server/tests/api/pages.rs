use crate::helpers::{Backend, spawn_app};

async fn landing_page_is_server_rendered_with_a_link_to_the_admin(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>quizfunnel</h1>"), "{html}");
    assert!(html.contains(r#"href="/admin""#));
    // The hydration script is there for the browser to pick up.
    assert!(html.contains("/pkg/quizfunnel.js"));
}

async fn unknown_page_is_a_friendly_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
}

async fn server_function_reports_the_backend(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .client
        .post(app.url("/api/server_status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let expected = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "Postgres",
    };
    assert_eq!(body["backend"], expected);
}

crate::on_both_backends!(
    landing_page_is_server_rendered_with_a_link_to_the_admin,
    unknown_page_is_a_friendly_404,
    server_function_reports_the_backend,
);
