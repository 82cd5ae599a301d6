//! Sales lead lists: views from the address, keyset pages, status and owner
//! changes with their history, and the streamed CSV; on both databases.

use crate::helpers::{Backend, TestApp, call, count, spawn_app};
use quizfunnel::account::Role;
use quizfunnel::store::SegmentStore;
use quizfunnel_server::demo;
use serde_json::Value;
use std::collections::BTreeSet;

async fn page(app: &TestApp, c: &reqwest::Client, query: &str) -> Value {
    let (status, body) = call(app, c, "/api/leads/list", &[("query", query)]).await;
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Every lead of a view, following its pages; checks each page's order.
async fn all_pages(app: &TestApp, c: &reqwest::Client, query: &str, key: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut query = query.to_string();
    loop {
        let p = page(app, c, &query).await;
        let leads = p["leads"].as_array().unwrap();
        let keys: Vec<(f64, i64)> = leads
            .iter()
            .map(|l| (l[key].as_f64().unwrap(), l["contact_id"].as_i64().unwrap()))
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] > w[1]),
            "{query}: not in order {keys:?}"
        );
        ids.extend(keys.iter().map(|(_, id)| *id));
        match p["next"].as_str() {
            Some(next) => query = next.to_string(),
            None => return ids,
        }
    }
}

fn set(ids: &[i64]) -> BTreeSet<i64> {
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a lead came twice");
    unique
}

async fn ids(app: &TestApp, sql: &str) -> BTreeSet<i64> {
    let rows: Vec<i64> = match app.store.db() {
        quizfunnel_server::store::Db::Sqlite(db) => sqlx::query_scalar(sql)
            .fetch_all(db.reader())
            .await
            .unwrap(),
        quizfunnel_server::store::Db::Postgres(pg) => {
            sqlx::query_scalar(sql).fetch_all(pg).await.unwrap()
        }
    };
    rows.into_iter().collect()
}

async fn views_filter_sort_and_page_each_lead_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (sales, me) = app.signed_in(Role::Sales).await;

    // No tier named: the playbook's first tier, fast-track.
    let first = page(&app, &sales, "").await;
    assert_eq!(first["view"][0], serde_json::json!(["tier", "fast-track"]));
    let tiers = first["tiers"].as_array().unwrap();
    assert_eq!(tiers[0]["slug"], "fast-track");

    let everyone = ids(&app, "SELECT contact_id FROM leads").await;
    assert!(everyone.len() > 100, "{}", everyone.len());
    for (sort, key) in [
        ("score", "score"),
        ("recent", "last_seen"),
        ("entered", "placed_at"),
    ] {
        let listed = all_pages(&app, &sales, &format!("tier=all&sort={sort}"), key).await;
        assert_eq!(set(&listed), everyone, "sorted by {sort}");
    }
    for tier in tiers {
        let slug = tier["slug"].as_str().unwrap();
        let listed = all_pages(&app, &sales, &format!("tier={slug}"), "score").await;
        assert_eq!(
            listed.len() as i64,
            tier["leads"].as_i64().unwrap(),
            "{slug}"
        );
        let expected = ids(
            &app,
            &format!("SELECT contact_id FROM leads WHERE tier_slug = '{slug}'"),
        )
        .await;
        assert_eq!(set(&listed), expected, "{slug}");
    }

    // A segment's members: the same list, in the order they entered it.
    let listed = all_pages(
        &app,
        &sales,
        "tier=all&segment=nurture&sort=entered",
        "placed_at",
    )
    .await;
    let expected = ids(
        &app,
        "SELECT m.contact_id FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
         WHERE g.slug = 'nurture' AND m.exited_at IS NULL",
    )
    .await;
    assert!(expected.len() > 10);
    assert_eq!(set(&listed), expected);
    // Members never placed in a tier are listed as new, and "new" finds
    // them.
    let rule = quizfunnel::rule::Rule::parse("never(invited_teammate)").unwrap();
    let now = app.clock.now();
    app.store
        .create_segment("quiet", "Quiet", "", &rule, now)
        .await
        .unwrap();
    app.store.sync_memberships(None, now).await.unwrap();
    let listed = all_pages(
        &app,
        &sales,
        "tier=all&segment=quiet&status=new&sort=entered",
        "placed_at",
    )
    .await;
    let members = "SELECT m.contact_id FROM segment_memberships m \
        JOIN segments g ON g.id = m.segment_id LEFT JOIN leads l ON l.contact_id = m.contact_id \
        WHERE g.slug = 'quiet' AND m.exited_at IS NULL";
    let expected = ids(
        &app,
        &format!("{members} AND COALESCE(l.status, 'new') = 'new'"),
    )
    .await;
    let unplaced = ids(&app, &format!("{members} AND l.contact_id IS NULL")).await;
    assert!(!unplaced.is_empty());
    assert!(unplaced.is_subset(&expected));
    assert_eq!(set(&listed), expected);

    // Score range, status, owner and search narrow the same way SQL does.
    let listed = all_pages(&app, &sales, "tier=all&min=5&max=8", "score").await;
    let expected = ids(
        &app,
        "SELECT contact_id FROM leads WHERE score >= 5 AND score <= 8",
    )
    .await;
    assert!(!expected.is_empty());
    assert_eq!(set(&listed), expected);

    let lead = *everyone.iter().next().unwrap();
    let (status, body) = call(
        &app,
        &sales,
        "/api/leads/status",
        &[
            ("contact_id", &lead.to_string()),
            ("status", "contacted"),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &app,
        &sales,
        "/api/leads/owner",
        &[
            ("contact_id", &lead.to_string()),
            ("owner", &me.id.to_string()),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        all_pages(&app, &sales, "tier=all&status=contacted", "score").await,
        [lead]
    );
    assert_eq!(
        all_pages(&app, &sales, "tier=all&owner=me", "score").await,
        [lead]
    );
    assert_eq!(
        all_pages(&app, &sales, &format!("tier=all&owner={}", me.id), "score").await,
        [lead]
    );
    let unowned = all_pages(&app, &sales, "tier=all&owner=none", "score").await;
    assert!(!unowned.contains(&lead) && unowned.len() == everyone.len() - 1);

    let email: String = {
        let p = page(&app, &sales, "tier=all&status=contacted").await;
        p["leads"][0]["email"].as_str().unwrap().to_string()
    };
    let fragment = &email[..email.find('@').unwrap()];
    let found = all_pages(
        &app,
        &sales,
        &format!("tier=all&q={}", fragment.to_uppercase()),
        "score",
    )
    .await;
    assert!(found.contains(&lead), "{fragment}");

    // Dates: nobody entered a tier before the epoch's first day.
    assert!(
        all_pages(&app, &sales, "tier=all&until=1970-01-01", "score")
            .await
            .is_empty()
    );
}

async fn filters_that_cannot_be_meant_are_refused_with_their_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let (sales, _) = app.signed_in(Role::Sales).await;
    for (query, field) in [
        ("status=won", "status"),
        ("from=yesterday", "from"),
        ("min=lots", "min"),
        ("sort=name", "sort"),
        ("tier=all&after=score.9.x", "after"),
        ("tier=all&sort=recent&after=score.9.7", "after"),
        ("tier=nope", "tier"),
        ("segment=nope", "segment"),
        ("from=2026-11-28&until=2026-11-01", "until"),
    ] {
        let (status, body) = call(&app, &sales, "/api/leads/list", &[("query", query)]).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert!(body.contains(field), "{query}: {body}");
    }
    // The export says the same, and nobody signed out gets it.
    let res = sales
        .get(app.url("/admin/leads/export.csv?status=won"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("status"));
    let res = crate::helpers::client()
        .get(app.url("/admin/leads/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The page shows the message, with a 4xx.
    let res = sales
        .get(app.url("/admin/leads?status=won"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("status is one of"));
}

async fn status_and_owner_changes_keep_who_and_when_and_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (sales, me) = app.signed_in(Role::Sales).await;
    let lead = *ids(&app, "SELECT contact_id FROM leads")
        .await
        .iter()
        .next()
        .unwrap();
    let id = lead.to_string();

    let (status, body) = call(
        &app,
        &sales,
        "/api/leads/status",
        &[
            ("contact_id", &id),
            ("status", "qualified"),
            ("note", "Budget confirmed"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &app,
        &sales,
        "/api/leads/owner",
        &[
            ("contact_id", &id),
            ("owner", &me.id.to_string()),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let (_, body) = call(&app, &sales, "/api/leads/get", &[("contact_id", &id)]).await;
    let panel: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(panel["lead"]["status"], "qualified");
    assert_eq!(panel["lead"]["owner_email"], me.email.as_str());
    let history = panel["history"].as_array().unwrap();
    assert_eq!(history[0]["owner_email"], me.email.as_str());
    assert_eq!(history[1]["status"], "qualified");
    assert_eq!(history[1]["note"], "Budget confirmed");
    assert_eq!(history[1]["actor_email"], me.email.as_str());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action IN ('lead.status', 'lead.owner')"
        )
        .await,
        2
    );

    // Bad changes say what is wrong and change nothing.
    for (path, form, code) in [
        (
            "/api/leads/status",
            vec![("contact_id", id.as_str()), ("status", "won"), ("note", "")],
            422,
        ),
        (
            "/api/leads/status",
            vec![
                ("contact_id", id.as_str()),
                ("status", "new"),
                ("note", &"x".repeat(1001)),
            ],
            422,
        ),
        (
            "/api/leads/owner",
            vec![
                ("contact_id", id.as_str()),
                ("owner", "999999"),
                ("note", ""),
            ],
            422,
        ),
        (
            "/api/leads/owner",
            vec![("contact_id", id.as_str()), ("owner", "me"), ("note", "")],
            422,
        ),
        (
            "/api/leads/status",
            vec![("contact_id", "999999"), ("status", "new"), ("note", "")],
            404,
        ),
    ] {
        let (status, body) = call(&app, &sales, path, &form).await;
        assert_eq!(status, code, "{path} {form:?}: {body}");
    }
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM lead_changes WHERE contact_id = {lead}")
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM leads WHERE contact_id = {lead} AND status = 'qualified'"
            )
        )
        .await,
        1
    );
}

async fn the_export_streams_every_lead_of_the_view(backend: Backend) {
    const N: i64 = 100_000;
    let app = spawn_app(backend).await;
    let (sales, _) = app.signed_in(Role::Sales).await;
    crate::contacts::sql(
        &app,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {N}) \
             INSERT INTO contacts (id, email, name, hidden_fields, first_seen, last_seen) \
             SELECT 1000000 + i, 'bulk' || i || '@example.com', \
                CASE WHEN i = 7 THEN '=HYPERLINK(\"http://evil.example\")' ELSE 'Bulk' END, \
                '{{\"utm_source\":\"podcast\"}}', i, i FROM n"
        ),
    )
    .await;
    crate::contacts::sql(
        &app,
        "INSERT INTO leads (contact_id, tier_slug, next_step, score, placed_at) \
         SELECT id, 'nurture', 'nurture', id % 10, id FROM contacts WHERE id > 1000000",
    )
    .await;
    let res = sales
        .get(app.url("/admin/leads/export.csv?tier=all&sort=entered"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Streamed as it is read, not built whole first.
    assert!(res.headers().get("content-length").is_none());
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = res.text().await.unwrap();
    let mut lines = text.lines();
    // Marked as UTF-8 for spreadsheets, which otherwise misread accents.
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("\u{FEFF}contact_id,email,name,company,tier")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len() as i64, N);
    let listed: Vec<i64> = rows
        .iter()
        .map(|r| r.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(set(&listed).len() as i64, N);
    // In the list's order: the same first page.
    let first = page(&app, &sales, "tier=all&sort=entered").await;
    let page_ids: Vec<i64> = first["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["contact_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed[..page_ids.len()], page_ids[..]);
    // UTM columns are there; a formula typed as a name stays text.
    let evil = rows.iter().find(|r| r.starts_with("1000007,")).unwrap();
    assert!(
        evil.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
        "{evil}"
    );
    assert!(evil.contains(",podcast,"), "{evil}");
}

crate::on_both_backends!(
    views_filter_sort_and_page_each_lead_exactly_once,
    filters_that_cannot_be_meant_are_refused_with_their_field,
    status_and_owner_changes_keep_who_and_when_and_are_audited,
    the_export_streams_every_lead_of_the_view,
);
