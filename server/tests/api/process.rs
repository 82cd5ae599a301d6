//! The real `quizfunnel` binary as a child process, for the tests that
//! signal or kill it.

use crate::helpers::{Backend, fresh_postgres_database};
use std::process::{Output, Stdio};
use tokio::io::{AsyncBufReadExt, BufReader};

pub struct ServerProcess {
    pub child: tokio::process::Child,
    /// `http://127.0.0.1:PORT`
    pub address: String,
}

impl ServerProcess {
    pub fn pid(&self) -> i32 {
        self.child.id().expect("the server is running") as i32
    }

    pub fn signal(&self, signal: i32) {
        let sent = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(sent, 0, "signal {signal} reaches the server");
    }

    pub fn addr(&self) -> &str {
        self.address.trim_start_matches("http://")
    }

    /// The exit status, or a failure naming the wait if the process hangs.
    pub async fn exit(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(std::time::Duration::from_secs(60), self.child.wait())
            .await
            .expect("the server exits within a minute of being told to")
            .expect("the server's exit status")
    }
}

/// A new, empty database for one server process; SQLite files go in `dir`.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("quizfunnel.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    }
}

/// `quizfunnel serve` on a free loopback port; returns once it says where
/// it listens. Its log goes to `dir/server.log`, appended across restarts.
pub async fn serve(
    database_url: &str,
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> ServerProcess {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .expect("server log");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_quizfunnel"))
        .args(["serve", "--addr", "127.0.0.1:0", "--site-root"])
        .arg(dir.join("site"))
        .env("DATABASE_URL", database_url)
        .env("QUIZFUNNEL_LOG", "warn")
        // The test drives posts faster than a person and than the limit.
        .env("QUIZFUNNEL_MIN_QUIZ_SECONDS", "0")
        .env("QUIZFUNNEL_QUIZ_POSTS_PER_MINUTE", "0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines
            .next_line()
            .await
            .expect("read the server's stdout")
            .unwrap_or_else(|| {
                panic!(
                    "the server ended before serving: {}",
                    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                )
            });
        if let Some(addr) = line.strip_prefix("quizfunnel is serving on ") {
            break addr.trim().to_string();
        }
    };
    ServerProcess { child, address }
}

/// A one-off command (`key create`, `demo`, `user create` …) against the
/// database, with `stdin` fed to it.
pub async fn command(args: &[&str], database_url: &str, stdin: &str) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_quizfunnel"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("QUIZFUNNEL_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "quizfunnel {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
