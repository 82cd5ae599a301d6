use crate::helpers::{Backend, fresh_postgres_database, spawn_app};
use quizfunnel::rule::Rule;
use quizfunnel::store::{SegmentStore, Store};
use quizfunnel_server::store::{Db, SqlStore};

async fn liveness_answers_ok(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
}

async fn readiness_names_the_database_once_migrated(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let expected = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "Postgres",
    };
    assert_eq!(body["database"], expected);
}

async fn store_without_migrations_is_not_ready(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("bare.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let store = SqlStore::connect(&url).await.unwrap();
    let reason = store.readiness().await.unwrap_err();
    assert!(reason.contains("migrations"), "{reason}");
    store.migrate().await.unwrap();
    assert_eq!(store.readiness().await, Ok(()));
}

async fn migrating_twice_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let store = SqlStore::connect(&app.database_url).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.readiness().await, Ok(()));
}

type AttributeRow = (i64, String, String, String, Option<f64>);

/// Migration 0015 rewrites SQLite's attributes table in its key's order; a
/// database made before it keeps every attribute, and rules still find them.
#[tokio::test]
async fn sqlite_attributes_survive_their_table_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("migrations");
    std::fs::create_dir(&before).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    for entry in std::fs::read_dir(&all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0015" {
            std::fs::copy(&path, before.join(&name)).unwrap();
        }
    }
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let Db::Sqlite(db) = store.db() else {
        unreachable!("a sqlite:// address opens SQLite")
    };
    let old = sqlx::migrate::Migrator::new(before.as_path())
        .await
        .unwrap();
    old.run(db.writer()).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO contacts (id, first_seen, last_seen) VALUES (1, 0, 0), (2, 0, 0), (3, 0, 0);
         INSERT INTO contact_attributes (contact_id, key, kind, value_text, value_num) VALUES
           (1, 'country', 'string', 'US', NULL), (1, 'seats', 'number', '12', 12.0),
           (2, 'country', 'string', 'Ísland 🇮🇸', NULL), (3, 'country', 'string', 'US', NULL);",
    )
    .execute(db.writer())
    .await
    .unwrap();
    let rows = || async {
        sqlx::query_as::<_, AttributeRow>(
            "SELECT contact_id, key, kind, value_text, value_num FROM contact_attributes \
             ORDER BY contact_id, key",
        )
        .fetch_all(db.reader())
        .await
        .unwrap()
    };
    let kept = rows().await;
    assert_eq!(kept.len(), 4);

    store.migrate().await.unwrap();
    assert_eq!(rows().await, kept);
    let us = Rule::parse(r#"all(attr(country) = "US", not(attr(seats) > 10))"#).unwrap();
    assert_eq!(store.count_matching(&us, 0).await.unwrap(), 1);
    // Still one value per contact and key.
    let again = sqlx::query(
        "INSERT INTO contact_attributes (contact_id, key, kind, value_text) VALUES (1, 'country', 'string', 'CA')",
    )
    .execute(db.writer())
    .await;
    assert!(again.is_err());
}

crate::on_both_backends!(
    liveness_answers_ok,
    readiness_names_the_database_once_migrated,
    store_without_migrations_is_not_ready,
    migrating_twice_changes_nothing,
);
