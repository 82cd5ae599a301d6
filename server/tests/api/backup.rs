//! `quizfunnel backup` under load and `quizfunnel restore` into an empty
//! database, with the real binary, on both databases.

use crate::helpers::{Backend, fresh_postgres_database, spawn_app};
use crate::load::{
    assert_completions_stored_once, assert_counts_match_a_recount, assert_events_stored_once,
    complete_quiz, send_events,
};
use quizfunnel_server::store::SqlStore;
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

async fn quizfunnel(args: Vec<String>, database_url: String) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_quizfunnel"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("QUIZFUNNEL_LOG", "error")
        .output()
        .await
        .expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[derive(Default)]
struct Acks {
    /// Acknowledged before the backup began: the backup must hold them.
    events: Mutex<Vec<String>>,
    completions: Mutex<Vec<String>>,
    during_backup: AtomicUsize,
}

async fn a_backup_taken_under_load_restores_every_acknowledged_record(backend: Backend) {
    let app = spawn_app(backend).await;
    quizfunnel_server::demo::seed(&app.store, app.clock.now())
        .await
        .unwrap();
    let key = crate::ingest::api_key(&app).await;
    let acks = Arc::new(Acks::default());
    let backup_began = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));

    let mut load = tokio::task::JoinSet::new();
    for worker in 0..3 {
        let (base, key, acks, began, stop) = (
            app.address.clone(),
            key.clone(),
            acks.clone(),
            backup_began.clone(),
            stop.clone(),
        );
        load.spawn(async move {
            let client = crate::helpers::client();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let keys: Vec<String> = (0..20).map(|i| format!("load-{worker}-{n}-{i}")).collect();
                n += 1;
                if send_events(&client, &base, &key, &keys).await.unwrap() {
                    // Read after the answer: only what was acknowledged
                    // before the backup began is owed to it.
                    if !began.load(Ordering::SeqCst) {
                        acks.events.lock().unwrap().extend(keys);
                    } else {
                        acks.during_backup.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        });
    }
    for worker in 0..2 {
        let (base, clock, acks, began, stop) = (
            app.address.clone(),
            app.clock.clone(),
            acks.clone(),
            backup_began.clone(),
            stop.clone(),
        );
        load.spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let email = format!("load-{worker}-{n}@example.com");
                n += 1;
                let step = || clock.advance(2_000);
                if complete_quiz(&base, &email, &step).await.unwrap() {
                    if !began.load(Ordering::SeqCst) {
                        acks.completions.lock().unwrap().push(email);
                    } else {
                        acks.during_backup.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        });
    }
    // Some of each acknowledged before the backup begins.
    while acks.completions.lock().unwrap().len() < 3 || acks.events.lock().unwrap().len() < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quizfunnel.backup");
    backup_began.store(true, Ordering::SeqCst);
    let out = quizfunnel(
        vec!["backup".into(), file.display().to_string()],
        app.database_url.clone(),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("backed up to"));
    // The load went on while the backup ran.
    while acks.during_backup.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    while let Some(done) = load.join_next().await {
        done.unwrap();
    }

    // A backup never overwrites a file.
    let again = quizfunnel(
        vec!["backup".into(), file.display().to_string()],
        app.database_url.clone(),
    )
    .await;
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );

    let target = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("restored.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let out = quizfunnel(
        vec!["restore".into(), file.display().to_string()],
        target.clone(),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("restored"));

    let restored = SqlStore::connect(&target).await.unwrap();
    let events = acks.events.lock().unwrap().clone();
    let completions = acks.completions.lock().unwrap().clone();
    assert_events_stored_once(&restored, &events).await;
    assert_completions_stored_once(&restored, &completions).await;
    assert_counts_match_a_recount(&restored).await;
    assert_eq!(
        quizfunnel::store::Store::readiness(&restored).await,
        Ok(()),
        "the restored database is ready to serve"
    );

    // A database that holds data is never restored over.
    let refused = quizfunnel(vec!["restore".into(), file.display().to_string()], target).await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("already holds data"),
        "{}",
        stderr(&refused)
    );
}

async fn a_backup_of_one_kind_is_not_restored_into_the_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b");
    let out = quizfunnel(
        vec!["backup".into(), file.display().to_string()],
        app.database_url.clone(),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let (other, kind) = match backend {
        Backend::Sqlite => (fresh_postgres_database().await, "a SQLite backup"),
        Backend::Postgres => (
            format!("sqlite://{}", dir.path().join("r.db").display()),
            "a Postgres backup",
        ),
    };
    let out = quizfunnel(vec!["restore".into(), file.display().to_string()], other).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains(kind), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
}

crate::on_both_backends!(
    a_backup_taken_under_load_restores_every_acknowledged_record,
    a_backup_of_one_kind_is_not_restored_into_the_other,
);

#[tokio::test]
async fn postgres_backup_without_pg_dump_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_quizfunnel"))
        .args(["backup", &dir.path().join("b").display().to_string()])
        .env("DATABASE_URL", fresh_postgres_database().await)
        .env("QUIZFUNNEL_LOG", "error")
        .env("PATH", dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("pg_dump was not found on PATH") && err.contains("postgresql-client"),
        "{err}"
    );
}
