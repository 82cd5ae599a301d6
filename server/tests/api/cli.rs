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

fn quizfunnel_with_stdin(args: &[&str], database_url: &str, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_quizfunnel"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("QUIZFUNNEL_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_create_reads_the_password_from_stdin_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let args = [
        "user",
        "create",
        "--email",
        "Boss@Example.com",
        "--role",
        "owner",
    ];
    let out = quizfunnel_with_stdin(&args, &url, "a long enough password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created owner user boss@example.com"));

    let again = quizfunnel_with_stdin(&args, &url, "a long enough password\n");
    assert_fails_with(&again, "exists already");
    let short = quizfunnel_with_stdin(
        &[
            "user",
            "create",
            "--email",
            "b@example.com",
            "--role",
            "sales",
        ],
        &url,
        "short\n",
    );
    assert_fails_with(&short, "at least 10 characters");
    let role = quizfunnel_with_stdin(
        &[
            "user",
            "create",
            "--email",
            "c@example.com",
            "--role",
            "admin",
        ],
        &url,
        "a long enough password\n",
    );
    assert_fails_with(&role, "owner, marketer or sales");
}

#[test]
fn key_create_prints_the_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let out = quizfunnel(&["key", "create", "--name", "backend"], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(key.starts_with("qf_") && key.len() > 40, "{key}");
    assert_fails_with(
        &quizfunnel(&["key", "create", "--name", ""], &url),
        "1 to 100 characters",
    );
}

#[test]
fn a_trusted_proxy_that_is_not_an_address_is_refused_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let out = quizfunnel(
        &["serve", "--trusted-proxies", "10.0.0.0/8,lb.internal"],
        &url,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("\"lb.internal\" is not an IP address or network"),
        "{stderr}"
    );
    assert!(!dir.path().join("q.db").exists(), "nothing was set up");
}
