//! The ingestion API over HTTP on both databases: events, identify,
//! contacts, erasure, `/t.js`, and every kind of bad input.

use crate::contacts::{all_rows_as_text, sql};
use crate::helpers::{Backend, TestApp, count, spawn_app};
use quizfunnel::account::Role;
use quizfunnel::contact::MAX_BATCH;
use quizfunnel::store::{AccountStore, ContactStore};
use quizfunnel_server::store::Db;
use serde_json::{Value, json};

const SHOP: &str = "http://shop.example:3101";

pub async fn api_key(app: &TestApp) -> String {
    let ctx = quizfunnel_app::state::AppContext {
        store: std::sync::Arc::new(app.store.clone()),
        clock: app.clock.clone(),
        sessions: Default::default(),
        spam: Default::default(),
        views: Default::default(),
    };
    quizfunnel_app::auth::ssr::issue_api_key(&ctx, "test", None)
        .await
        .unwrap()
        .1
}

async fn post(
    app: &TestApp,
    path: &str,
    key: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn browser_post(
    app: &TestApp,
    path: &str,
    query: &str,
    origin: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("{path}?{query}")))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.to_string());
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

async fn events_stored(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) FROM events").await
}

async fn a_mixed_batch_stores_the_valid_events_and_names_the_rest(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    let batch = json!([
        {"name": "page_viewed", "visitor_id": "visitor-123", "properties": {"path": "/pricing"}, "idempotency_key": "a"},
        {"name": "invited_teammate", "email": "ana@example.com", "occurred_at": "2026-01-01T00:00:00Z"},
        {"name": "bad", "visitor_id": "visitor-123", "occurred_at": app.clock.now() + 3_600_000},
        {"name": "bad", "visitor_id": "visitor-123", "colour": "red"},
        {"name": "bad", "contact_id": 4242},
    ]);
    let (status, body) = post(&app, "/api/v1/events", &key, batch.to_string()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["duplicates"], 0);
    let rejected: Vec<(u64, &str)> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [(2, "occurred_at"), (3, "colour"), (4, "contact_id")]
    );
    assert_eq!(events_stored(&app).await, 2);

    // A replayed request stores nothing twice.
    let replay =
        json!([{"name": "page_viewed", "visitor_id": "visitor-123", "idempotency_key": "a"}]);
    let (status, body) = post(&app, "/api/v1/events", &key, replay.to_string()).await;
    assert_eq!(
        (
            status,
            body["accepted"].as_u64(),
            body["duplicates"].as_u64()
        ),
        (202, Some(0), Some(1))
    );
    assert_eq!(events_stored(&app).await, 2);
}

/// A batch larger than one statement's worth, over many visitors, one
/// email, an earlier contact's id and keys repeated inside it, stores each
/// event once and counts each repeat as a duplicate.
async fn a_large_batch_stores_each_event_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    let first = json!([{"name": "signed_up", "email": "earlier@example.com"}]);
    let (status, _) = post(&app, "/api/v1/events", &key, first.to_string()).await;
    assert_eq!(status, 202);
    let earlier = count(
        &app,
        "SELECT id FROM contacts WHERE email = 'earlier@example.com'",
    )
    .await;
    let mut batch: Vec<serde_json::Value> = (0..300)
        .map(|i| json!({"name": "page_viewed", "visitor_id": format!("visitor-bulk-{i:04}")}))
        .collect();
    batch.extend((0..100).map(|_| json!({"name": "opened_report", "email": "bulk@example.com"})));
    batch.extend((0..50).map(|i| {
        json!({"name": "clicked", "visitor_id": "visitor-keys-01", "idempotency_key": format!("k{}", i % 25)})
    }));
    batch.push(json!({"name": "renewed", "contact_id": earlier}));
    let (status, body) = post(&app, "/api/v1/events", &key, json!(batch).to_string()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(426), Some(25)),
        "{body}"
    );
    assert_eq!(events_stored(&app).await, 427);
    let visitors = "SELECT count(*) FROM contacts c JOIN contact_visitors v \
                    ON v.contact_id = c.id AND v.visitor_id = c.visitor_id \
                    WHERE c.visitor_id LIKE 'visitor-%'";
    assert_eq!(count(&app, visitors).await, 301, "one contact per visitor");
    let bulk = "SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id \
                WHERE c.email = 'bulk@example.com'";
    assert_eq!(count(&app, bulk).await, 100, "one contact for the email");
    let renewed =
        format!("SELECT count(*) FROM events WHERE name = 'renewed' AND contact_id = {earlier}");
    assert_eq!(count(&app, &renewed).await, 1);
}

async fn bad_input_gets_a_4xx_naming_the_problem_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    let revoked = api_key(&app).await;
    let keys = app.store.api_keys().await.unwrap();
    app.store.revoke_api_key(keys[0].id, 0).await.unwrap();
    let ok_event = json!({"name": "x", "visitor_id": "visitor-123"});
    let too_many = Value::Array(vec![ok_event.clone(); MAX_BATCH + 1]).to_string();
    let huge = json!([{"name": "x", "visitor_id": "visitor-123", "properties": {"p": "x".repeat(1_100_000)}}]).to_string();
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("malformed JSON", &key, "[{\"name\":".into(), 400, "not valid JSON"),
        ("not an array", &key, "{}".into(), 422, "JSON array"),
        ("empty batch", &key, "[]".into(), 422, "empty"),
        ("too many events", &key, too_many, 413, "at most 500"),
        ("body over 1 MB", &key, huge, 413, "larger than"),
        ("wrong type", &key, json!([{"name": 5, "visitor_id": "visitor-123"}]).to_string(), 422, "events[0].name"),
        ("unknown key", &key, json!([{"name": "x", "visitor_id": "visitor-123", "extra": 1}]).to_string(), 422, "events[0].extra"),
        ("invalid email", &key, json!([{"name": "x", "email": "not-an-email"}]).to_string(), 422, "events[0].email"),
        ("future time", &key, json!([{"name": "x", "visitor_id": "visitor-123", "occurred_at": "2999-01-01T00:00:00Z"}]).to_string(), 422, "events[0].occurred_at"),
        ("NUL in a property", &key, json!([{"name": "x", "visitor_id": "visitor-123", "properties": {"p": "a\u{0}b"}}]).to_string(), 422, "events[0].properties"),
        ("NUL in a property's name", &key, json!([{"name": "x", "visitor_id": "visitor-123", "properties": {"p\u{0}": 1}}]).to_string(), 422, "events[0].properties"),
        ("revoked key", &revoked, json!([ok_event]).to_string(), 401, "revoked"),
        ("unknown key", "qf_nonsense", json!([ok_event]).to_string(), 401, "revoked"),
    ];
    for (what, key, body, status, needle) in cases {
        let (got, answer) = post(&app, "/api/v1/events", key, body).await;
        assert_eq!(got, status, "{what}: {answer}");
        let message = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: JSON error, got {answer}"));
        assert!(message.contains(needle), "{what}: {message}");
        assert!(answer["details"].is_array(), "{what}");
    }
    // The all-invalid batch lists every item with its index.
    let (_, answer) = post(
        &app,
        "/api/v1/events",
        &key,
        json!([{"name": "x"}, {"name": "y", "contact_id": "1"}]).to_string(),
    )
    .await;
    assert_eq!(answer["details"][1]["index"], 1);
    assert_eq!(answer["details"][1]["field"], "contact_id");
    // No credentials at all.
    let res = app
        .client
        .post(app.url("/api/v1/events"))
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(events_stored(&app).await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM contacts").await, 0);
}

async fn unknown_endpoints_and_wrong_methods_answer_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    for (method, path, status) in [
        (reqwest::Method::POST, "/api/v1/nope", 404),
        (reqwest::Method::GET, "/api/v1/contacts/nope/deeper", 404),
        (reqwest::Method::GET, "/api/v1/events", 405),
        (reqwest::Method::DELETE, "/api/v1/segments", 405),
    ] {
        let res = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        if status == 405 {
            assert!(res.headers().contains_key("allow"), "{method} {path}");
        }
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().is_some(), "{method} {path}: {body}");
    }
}

async fn the_bearer_scheme_is_read_in_any_case(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    let batch = json!([{"name": "x", "visitor_id": "visitor-123"}]).to_string();
    for (authorization, status) in [
        (format!("bearer {key}"), 202),
        (format!("BEARER  {key}"), 202),
        (format!("Basic {key}"), 401),
        (key.clone(), 401),
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/events"))
            .header("authorization", &authorization)
            .header("content-type", "application/json")
            .body(batch.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{authorization}");
    }
}

async fn browsers_send_with_the_site_key_only_from_allowed_origins(backend: Backend) {
    let app = spawn_app(backend).await;
    let settings = app.store.tracking_settings().await.unwrap();
    let site = format!("site_key={}", settings.site_key);
    let batch = json!([{"name": "page_viewed", "visitor_id": "browser-visitor-1", "properties": {"path": "/"}}]);

    let foreign = browser_post(&app, "/api/v1/events", &site, Some(SHOP), batch.clone()).await;
    assert_eq!(foreign.status(), 403);
    let message: Value = foreign.json().await.unwrap();
    assert!(message["error"].as_str().unwrap().contains(SHOP));
    let no_origin = browser_post(&app, "/api/v1/events", &site, None, batch.clone()).await;
    assert_eq!(no_origin.status(), 403);
    let wrong_key = browser_post(
        &app,
        "/api/v1/events",
        "site_key=qfs_wrong",
        Some(SHOP),
        batch.clone(),
    )
    .await;
    assert_eq!(wrong_key.status(), 401);
    assert_eq!(events_stored(&app).await, 0);

    app.store
        .save_tracking_settings(&[SHOP.to_string()], 180)
        .await
        .unwrap();
    let ok = browser_post(&app, "/api/v1/events", &site, Some(SHOP), batch.clone()).await;
    assert_eq!(ok.status(), 202);
    assert_eq!(ok.headers()["access-control-allow-origin"], SHOP);
    // A browser cannot speak for someone else.
    let by_email = browser_post(
        &app,
        "/api/v1/events",
        &site,
        Some(SHOP),
        json!([{"name": "x", "email": "a@b.io"}]),
    )
    .await;
    assert_eq!(by_email.status(), 422);
    // The site key cannot upsert or erase contacts.
    let upsert = browser_post(
        &app,
        "/api/v1/contacts",
        &site,
        Some(SHOP),
        json!({"email": "a@b.io"}),
    )
    .await;
    assert_eq!(upsert.status(), 401);

    // identify from the browser stitches the visitor's history.
    let who = json!({"email": "Ana@Example.com", "visitor_id": "browser-visitor-1", "attributes": {"plan": "trial"}});
    let res = browser_post(&app, "/api/v1/identify", &site, Some(SHOP), who).await;
    assert_eq!(res.status(), 200);
    let id = app
        .store
        .contact_id_by_email(&quizfunnel::email::Email::parse("ana@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(app.store.contact(id).await.unwrap().event_count, 1);
    let missing_visitor = browser_post(
        &app,
        "/api/v1/identify",
        &site,
        Some(SHOP),
        json!({"email": "a@b.io"}),
    )
    .await;
    assert_eq!(missing_visitor.status(), 422);
}

async fn contacts_are_upserted_by_email_with_typed_attributes(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    let body = json!({"email": "Bo@Example.com", "name": "Bo", "attributes": {"company_size": 50, "plan": "trial", "beta": true, "renews": "2027-01-31"}});
    let (status, first) = post(&app, "/api/v1/contacts", &key, body.to_string()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["created"], true);
    let again = json!({"email": "bo@example.com", "attributes": {"plan": "paid", "beta": null}});
    let (_, second) = post(&app, "/api/v1/contacts", &key, again.to_string()).await;
    assert_eq!(second["contact_id"], first["contact_id"]);
    assert_eq!(second["created"], false);
    let profile = app
        .store
        .contact(first["contact_id"].as_i64().unwrap())
        .await
        .unwrap();
    let attrs: Vec<(String, &str, String)> = profile
        .attributes
        .iter()
        .map(|a| (a.key.clone(), a.kind.as_str(), a.text.clone()))
        .collect();
    assert_eq!(
        attrs,
        [
            ("company_size".into(), "number", "50".into()),
            ("plan".into(), "string", "paid".into()),
            ("renews".into(), "date", "2027-01-31".into()),
        ]
    );
    for (body, field) in [
        (json!({"email": "nope"}), "email"),
        (json!({"name": "no email"}), "email"),
        (
            json!({"email": "a@b.io", "attributes": {"x": [1]}}),
            "attributes.x",
        ),
        (json!({"email": "a@b.io", "phone": "123"}), "phone"),
        (
            json!({"email": "a@b.io", "attributes": {"x": "a\u{0}b"}}),
            "attributes.x",
        ),
        (json!({"email": "a@b.io", "name": "A\u{0}"}), "name"),
    ] {
        let (status, answer) = post(&app, "/api/v1/contacts", &key, body.to_string()).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["details"][0]["field"], field, "{answer}");
    }
}

async fn erasing_by_api_leaves_an_audit_line_without_personal_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    post(
        &app,
        "/api/v1/contacts",
        &key,
        json!({"email": "gone@example.com", "visitor_id": "gone-visitor"}).to_string(),
    )
    .await;
    post(
        &app,
        "/api/v1/events",
        &key,
        json!([{"name": "x", "email": "gone@example.com"}]).to_string(),
    )
    .await;
    let (status, answer) = post(
        &app,
        "/api/v1/contacts/erase",
        &key,
        json!({"email": "gone@example.com"}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["events"], 1);
    let (status, _) = post(
        &app,
        "/api/v1/contacts/erase",
        &key,
        json!({"email": "gone@example.com"}).to_string(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &app,
        "/api/v1/contacts/erase",
        &key,
        json!({"who": 1}).to_string(),
    )
    .await;
    assert_eq!(status, 422);
    let log = app.store.audit_log(10).await.unwrap();
    assert!(log.iter().any(|e| e.action == "contact.erased"));
    let everything = all_rows_as_text(&app).await;
    assert!(!everything.contains("gone@example.com"), "{everything}");
    assert!(!everything.contains("gone-visitor"));
}

async fn two_records_of_one_person_merge_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    let events = json!([
        {"name": "x", "email": "work@example.com"},
        {"name": "y", "email": "home@example.com"},
    ]);
    post(&app, "/api/v1/events", &key, events.to_string()).await;
    let merge = json!({"keep": "work@example.com", "absorb": "home@example.com"});
    let (status, answer) = post(&app, "/api/v1/contacts/merge", &key, merge.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let kept = answer["contact_id"].as_i64().unwrap();
    assert_eq!(app.store.contact(kept).await.unwrap().event_count, 2);
    for (body, status, field) in [
        (
            json!({"keep": "work@example.com", "absorb": "home@example.com"}),
            404,
            "absorb",
        ),
        (json!({"keep": kept, "absorb": kept}), 422, "absorb"),
        (json!({"keep": "nope", "absorb": 3}), 422, "keep"),
        (json!({"keep": kept}), 422, "absorb"),
        (json!({"keep": kept, "absorb": 2, "why": "x"}), 422, "why"),
    ] {
        let (got, answer) = post(&app, "/api/v1/contacts/merge", &key, body.to_string()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["details"][0]["field"], field, "{body}: {answer}");
    }
    let (status, _) = post(&app, "/api/v1/contacts/merge", &key, "{not json").await;
    assert_eq!(status, 400);
    let (status, _) = post(&app, "/api/v1/contacts", &key, "{not json").await;
    assert_eq!(status, 400);
}

async fn a_merge_keeps_placements_and_the_newer_lead(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    crate::dashboard::quiz_with_a_tier(&app).await;
    for email in ["work@example.com", "home@example.com"] {
        let steps = crate::dashboard::with_email(crate::respond::FULL_PATH, email);
        let steps: Vec<&[(&str, &str)]> = steps.iter().map(|s| s.as_slice()).collect();
        crate::dashboard::respond(&app, &steps).await;
    }
    let id = |email: &str| format!("(SELECT id FROM contacts WHERE email = '{email}')");
    let (work, home) = (id("work@example.com"), id("home@example.com"));
    let newer_session = count(
        &app,
        &format!("SELECT max(id) FROM quiz_sessions WHERE contact_id = {home}"),
    )
    .await;
    // Sales already worked the older lead.
    crate::contacts::sql(
        &app,
        &format!("UPDATE leads SET status = 'contacted' WHERE contact_id = {work}"),
    )
    .await;

    let merge = json!({"keep": "work@example.com", "absorb": "home@example.com"});
    let (status, answer) = post(&app, "/api/v1/contacts/merge", &key, merge.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let kept = answer["contact_id"].as_i64().unwrap();

    let placements = format!("SELECT count(*) FROM placements WHERE contact_id = {kept}");
    assert_eq!(count(&app, &placements).await, 2);
    let lead = format!(
        "SELECT count(*) FROM leads WHERE contact_id = {kept} \
         AND session_id = {newer_session} AND status = 'contacted'"
    );
    assert_eq!(count(&app, &lead).await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM leads").await, 1);
    let counted = "SELECT leads FROM tier_lead_counts WHERE tier_slug = 'finished'";
    assert_eq!(count(&app, counted).await, 1);
}

async fn owners_export_and_erase_from_the_admin(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    post(&app, "/api/v1/events", &key, json!([{"name": "signed_up", "email": "admin.gone@example.com", "properties": {"plan": "trial"}}]).to_string()).await;
    let id = app
        .store
        .contact_id_by_email(&quizfunnel::email::Email::parse("admin.gone@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    let (owner, me) = app.signed_in(Role::Owner).await;
    let export = owner
        .post(app.url("/api/contacts/export"))
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let json: String = export.json().await.unwrap();
    let export: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        export["contact"]["summary"]["email"],
        "admin.gone@example.com"
    );
    assert_eq!(export["events"][0]["name"], "signed_up");
    assert_eq!(export["events"][0]["properties"]["plan"], "trial");
    let erase = owner
        .post(app.url("/api/contacts/erase"))
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(erase.status(), 200);
    let again = owner
        .post(app.url("/api/contacts/erase"))
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let page = owner
        .get(app.url(&format!("/admin/contacts/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let log = app.store.audit_log(10).await.unwrap();
    let line = log.iter().find(|e| e.action == "contact.erased").unwrap();
    assert_eq!(line.actor, me.email);
    assert!(!format!("{line:?}").contains("admin.gone"));
    assert!(
        !all_rows_as_text(&app)
            .await
            .contains("admin.gone@example.com")
    );
}

async fn the_cli_erases_by_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    post(
        &app,
        "/api/v1/events",
        &key,
        json!([{"name": "x", "email": "cli.gone@example.com"}]).to_string(),
    )
    .await;
    let run = |email: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_quizfunnel"))
            .args(["erase", "--email", email])
            .env("DATABASE_URL", &app.database_url)
            .env("QUIZFUNNEL_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run("CLI.Gone@example.com");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 events"));
    let again = run("cli.gone@example.com");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no contact has the email"));
    assert_eq!(count(&app, "SELECT count(*) FROM contacts").await, 0);
    let log = app.store.audit_log(10).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "contact.erased" && e.actor == "cli" && !e.target.contains('@'))
    );
}

async fn the_tracking_script_carries_the_site_key_and_stays_small(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/t.js").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let script = res.text().await.unwrap();
    let key = app.store.tracking_settings().await.unwrap().site_key;
    assert!(script.contains(&key));
    assert!(script.len() < 4096, "{} bytes", script.len());
}

async fn a_script_in_an_event_property_is_shown_as_text_in_the_admin(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = api_key(&app).await;
    let evil = "<script>alert('owned')</script>";
    post(
        &app,
        "/api/v1/events",
        &key,
        json!([{"name": evil, "email": "x@example.com", "properties": {evil: evil}}]).to_string(),
    )
    .await;
    let id = app
        .store
        .contact_id_by_email(&quizfunnel::email::Email::parse("x@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    let (sales, _) = app.signed_in(Role::Sales).await;
    let html = sales
        .get(app.url(&format!("/admin/contacts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(evil), "raw markup in the page");
    assert!(html.contains("&lt;script&gt;"), "escaped text shown");
}

/// The database's plan for one timeline page, as text.
async fn timeline_plan(app: &TestApp, contact: i64) -> String {
    let sql = quizfunnel_server::store::timeline_sql(app.store.db());
    let (at, id, limit) = (1_700_000_500_000_i64, i64::MAX, 50_i64);
    match app.store.db() {
        Db::Sqlite(db) => {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind(contact)
                    .bind(at)
                    .bind(id)
                    .bind(limit)
                    .fetch_all(db.reader())
                    .await
                    .unwrap();
            rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
        }
        Db::Postgres(pool) => {
            let rows: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN {sql}"))
                .bind(contact)
                .bind(at)
                .bind(id)
                .bind(limit)
                .fetch_all(pool)
                .await
                .unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
        }
    }
}

async fn a_timeline_of_100k_events_pages_through_the_index(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .store
        .contact_for_visitor("heavy-visitor", &Default::default(), 0)
        .await
        .unwrap();
    let series = match backend {
        Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i FROM n"
        }
        Backend::Postgres => "SELECT generate_series(1, 100000) AS i",
    };
    let noise = match backend {
        Backend::Sqlite => "'{\"path\": \"/p\"}'",
        Backend::Postgres => "'{\"path\": \"/p\"}'::jsonb",
    };
    sql(
        &app,
        &format!(
            "INSERT INTO events (contact_id, name, properties, occurred_at) \
             SELECT {id}, 'page_viewed', {noise}, 1700000000000 + i * 1000 FROM ({series}) AS s"
        ),
    )
    .await;
    if backend == Backend::Postgres {
        sql(&app, "ANALYZE events").await;
    }
    let (sales, _) = app.signed_in(Role::Sales).await;
    let profile = app.store.contact(id).await.unwrap();
    let first = app.store.timeline(id, None, 50).await.unwrap();
    let deep = app
        .store
        .timeline(
            id,
            Some(quizfunnel::contact::ListCursor {
                at: 1_700_000_000_000 + 500 * 1000,
                id: i64::MAX,
            }),
            50,
        )
        .await
        .unwrap();
    assert_eq!(profile.event_count, 100_000);
    assert_eq!(first.events.len(), 50);
    assert_eq!(
        first.events[0].occurred_at,
        1_700_000_000_000 + 100_000 * 1000
    );
    assert_eq!(deep.events.len(), 50);
    assert_eq!(deep.events[0].occurred_at, 1_700_000_000_000 + 500 * 1000);
    // Pages stay fast however long the history because they walk the index
    // from the cursor; a sort would read every event first.
    let plan = timeline_plan(&app, id).await;
    assert!(plan.contains("events_timeline"), "{plan}");
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "{plan}"
    );
    let page = sales
        .get(app.url(&format!("/admin/contacts/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(r#"class="event-count">100000<"#)
    );
}

crate::on_both_backends!(
    a_mixed_batch_stores_the_valid_events_and_names_the_rest,
    a_large_batch_stores_each_event_once,
    bad_input_gets_a_4xx_naming_the_problem_and_stores_nothing,
    browsers_send_with_the_site_key_only_from_allowed_origins,
    the_bearer_scheme_is_read_in_any_case,
    unknown_endpoints_and_wrong_methods_answer_json,
    contacts_are_upserted_by_email_with_typed_attributes,
    erasing_by_api_leaves_an_audit_line_without_personal_data,
    the_cli_erases_by_email,
    two_records_of_one_person_merge_through_the_api,
    a_merge_keeps_placements_and_the_newer_lead,
    owners_export_and_erase_from_the_admin,
    the_tracking_script_carries_the_site_key_and_stays_small,
    a_script_in_an_event_property_is_shown_as_text_in_the_admin,
    a_timeline_of_100k_events_pages_through_the_index,
);
