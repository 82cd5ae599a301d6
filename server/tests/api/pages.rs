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

/// The built files go out gzipped once ready (never waiting for it),
/// revalidate by ETag, follow a rebuild, and nothing outside `/pkg` or of
/// an unknown kind can be fetched through it.
#[tokio::test]
async fn built_files_are_gzipped_revalidated_and_confined_to_pkg() {
    use std::io::Read;
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 / 8).collect();
    std::fs::write(pkg.join("quizfunnel.wasm"), &wasm).unwrap();
    std::fs::write(pkg.join("notes.txt"), "not served").unwrap();
    std::fs::write(site.path().join("secret.css"), "outside pkg").unwrap();
    let root = site.path().to_path_buf();
    let app = crate::helpers::spawn_app_configured(Backend::Sqlite, |c| c.site_root = root).await;
    let c = reqwest::Client::new();
    let fetch = |headers: &'static [(&'static str, &'static str)]| {
        let mut req = c.get(app.url("/pkg/quizfunnel.wasm"));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send()
    };
    let gzip: &[(&str, &str)] = &[("accept-encoding", "gzip, br")];

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let res = loop {
        let res = fetch(gzip).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/wasm");
        if res.headers().get("content-encoding").is_some() {
            break res;
        }
        // Until the gzip is ready, the file itself.
        assert_eq!(res.bytes().await.unwrap().as_ref(), wasm.as_slice());
        assert!(std::time::Instant::now() < deadline, "never gzipped");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.headers()["vary"], "accept-encoding");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let packed = res.bytes().await.unwrap();
    assert!(packed.len() < wasm.len() / 3, "{} bytes", packed.len());
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(packed.as_ref())
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, wasm);

    // A client that does not take gzip gets the file as it is.
    let res = fetch(&[]).await.unwrap();
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.bytes().await.unwrap().as_ref(), wasm.as_slice());

    // Unchanged: 304 with nothing to download.
    let revalidate = || {
        c.get(app.url("/pkg/quizfunnel.wasm"))
            .header("if-none-match", &etag)
            .send()
    };
    let res = revalidate().await.unwrap();
    assert_eq!(res.status(), 304);
    assert!(res.bytes().await.unwrap().is_empty());

    // A rebuild: new content under a new ETag, and the old one is stale.
    let rebuilt = vec![7u8; 5_000];
    std::fs::write(pkg.join("quizfunnel.wasm"), &rebuilt).unwrap();
    let res = revalidate().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(res.bytes().await.unwrap().as_ref(), rebuilt.as_slice());

    for path in [
        "/pkg/notes.txt",
        "/pkg/missing.js",
        "/pkg/..%2Fsecret.css",
        "/pkg/.hidden.js",
    ] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert!(!res.text().await.unwrap().contains("outside pkg"), "{path}");
    }
}
