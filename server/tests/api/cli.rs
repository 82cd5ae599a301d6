//! The binary itself: bad configuration ends it with one clear line.

use std::process::{Command, Output};

fn quizfunnel(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quizfunnel"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("QUIZFUNNEL_LOG", "error")
        .output()
        .expect("the binary runs")
}

fn assert_fails_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, got {stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn unknown_database_scheme_is_refused_with_the_accepted_forms() {
    let out = quizfunnel(&["migrate"], "mysql://localhost/db");
    assert_fails_with(&out, "unknown scheme \"mysql\"");
    assert_fails_with(&out, "sqlite://");
}

#[test]
fn unreachable_postgres_says_where_it_looked() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The port was free a moment ago, so nothing listens there.
    let out = quizfunnel(&["migrate"], &format!("postgres://u@127.0.0.1:{port}/db"));
    assert_fails_with(
        &out,
        &format!("cannot reach Postgres at 127.0.0.1:{port}/db"),
    );
}

#[test]
fn unwritable_sqlite_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where a directory should be").unwrap();
    let url = format!("sqlite://{}/sub/quizfunnel.db", blocker.display());
    let out = quizfunnel(&["migrate"], &url);
    assert_fails_with(&out, "cannot open the SQLite database");
}

#[test]
fn port_in_use_is_refused_clearly() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let out = quizfunnel(&["serve", "--addr", &addr], &url);
    assert_fails_with(&out, "already in use");
}

#[test]
fn migrate_reports_where_it_applied() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let out = quizfunnel(&["migrate"], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));
}
