use crate::helpers::{Backend, fresh_postgres_database, spawn_app};
use quizfunnel::store::Store;
use quizfunnel_server::store::SqlStore;

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

crate::on_both_backends!(
    liveness_answers_ok,
    readiness_names_the_database_once_migrated,
    store_without_migrations_is_not_ready,
    migrating_twice_changes_nothing,
);
