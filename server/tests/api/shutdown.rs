//! SIGTERM: the real binary stops accepting, finishes what is in flight,
//! closes the database and exits 0.

use crate::helpers::{Backend, PASSWORD, client};
use crate::load::number;
use crate::process::{command, fresh_database, serve};
use quizfunnel_server::store::SqlStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads from `stream` until `needle` has arrived; returns all read.
async fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = stream.read(&mut buf).await.expect("read from the server");
        assert!(
            n > 0,
            "the connection closed before {needle:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

async fn sigterm_finishes_requests_in_flight_then_exits_0(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let key = command(&["key", "create", "--name", "shop"], &url, "").await;
    let key = String::from_utf8_lossy(&key.stdout).trim().to_string();
    command(
        &[
            "user",
            "create",
            "--email",
            "boss@example.com",
            "--role",
            "owner",
        ],
        &url,
        &format!("{PASSWORD}\n"),
    )
    .await;
    let mut server = serve(&url, dir.path(), &[]).await;

    // An owner watching the live dashboard: a stream that never ends by
    // itself.
    let owner = client();
    let signed_in = owner
        .post(format!("{}/login", server.address))
        .form(&[("email", "boss@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let mut live = owner
        .get(format!("{}/admin/live", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let first = live.chunk().await.unwrap().expect("the first counts");
    assert!(String::from_utf8_lossy(&first).contains("counts"));

    // A batch whose body is still on its way when the signal comes; the
    // 100 Continue says the server has read its head and waits for it.
    let body = r#"[{"name":"page_viewed","visitor_id":"visitor-in-flight","idempotency_key":"in-flight"}]"#;
    let mut in_flight = TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        server.addr(),
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    read_until(&mut in_flight, "100 Continue\r\n\r\n").await;

    server.signal(libc::SIGTERM);
    // New connections are refused from now on.
    while TcpStream::connect(server.addr()).await.is_ok() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    in_flight.write_all(body.as_bytes()).await.unwrap();
    let answer = read_until(&mut in_flight, "}").await;
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert!(answer.contains(r#""accepted":1"#), "{answer}");
    // The live stream ends instead of holding the stop up.
    while live.chunk().await.unwrap().is_some() {}

    let status = server.exit().await;
    assert!(status.success(), "exit status {status:?}");

    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(
        number(
            &store,
            "SELECT count(*) FROM events WHERE idempotency_key = 'in-flight'"
        )
        .await,
        1,
        "the request in flight was stored"
    );
}

/// Quiz views wait in a queue to be stored; a stop stores what waits.
async fn quiz_views_waiting_at_sigterm_are_stored(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let seeded = command(&["demo"], &url, "").await;
    assert!(seeded.status.success(), "{seeded:?}");
    let views = "SELECT count(*) FROM events WHERE name = 'quiz_viewed'";
    let before = number(&SqlStore::connect(&url).await.unwrap(), views).await;
    let mut server = serve(&url, dir.path(), &[]).await;
    // A client without cookies is a new visitor each time.
    let visitors = reqwest::Client::new();
    for _ in 0..20 {
        let page = visitors
            .get(format!("{}/q/growth", server.address))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
    }
    server.signal(libc::SIGTERM);
    assert!(server.exit().await.success());
    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(number(&store, views).await, before + 20);
}

crate::on_both_backends!(
    sigterm_finishes_requests_in_flight_then_exits_0,
    quiz_views_waiting_at_sigterm_are_stored
);
