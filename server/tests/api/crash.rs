//! Crash safety: completions and event batches are driven at the real
//! binary, which is killed with SIGKILL at random moments and restarted.
//! Afterwards every acknowledged request is stored exactly once, the kept
//! counts equal a recount, memberships equal a full rebuild, and the
//! outbox has delivered every webhook the completions queued.
//!
//! The suite kills 3 times per database; `QUIZFUNNEL_CRASH_KILLS=20` (or
//! more) makes it the long run described in docs/RELIABILITY.md.

use crate::helpers::{Backend, client};
use crate::load::{
    assert_completions_stored_once, assert_counts_match_a_recount, assert_events_stored_once,
    complete_quiz, number, send_events, strings,
};
use crate::process::{command, fresh_database, serve};
use quizfunnel_server::store::{Db, SqlStore};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn kills() -> usize {
    std::env::var("QUIZFUNNEL_CRASH_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

/// A small xorshift: the kill moments vary from run to run, and the seed
/// printed on failure replays them.
struct Moments(u64);

impl Moments {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

#[derive(Default)]
struct Acks {
    events: Mutex<Vec<String>>,
    completions: Mutex<Vec<String>>,
    total: AtomicUsize,
}

/// A webhook receiver on loopback that keeps each idempotency key it got.
async fn receiver() -> (String, Arc<Mutex<HashSet<String>>>) {
    let keys: Arc<Mutex<HashSet<String>>> = Arc::default();
    let seen = keys.clone();
    let handler = move |headers: axum::http::HeaderMap| {
        let seen = seen.clone();
        async move {
            if let Some(k) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
                seen.lock().unwrap().insert(k.to_string());
            }
            axum::http::StatusCode::OK
        }
    };
    let router = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, keys)
}

async fn run_sql(url: &str, sql: &str) {
    let store = SqlStore::connect(url).await.unwrap();
    match store.db() {
        Db::Sqlite(db) => sqlx::raw_sql(sql).execute(db.writer()).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    store.close().await;
}

async fn acknowledged_requests_survive_sigkill_exactly_once(backend: Backend) {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!(
        "crash harness on {backend:?}: seed {seed}, {} kills",
        kills()
    );
    let mut moments = Moments(seed);
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    command(&["demo"], &url, "").await;
    let key = command(&["key", "create", "--name", "load"], &url, "").await;
    let key = String::from_utf8_lossy(&key.stdout).trim().to_string();
    // Every completer of the demo quiz lands in a tier; each tier's entry
    // queues a webhook to this receiver.
    let (hook, delivered) = receiver().await;
    run_sql(
        &url,
        &format!(
            "UPDATE tracking_settings SET allow_private_webhooks = TRUE; \
             INSERT INTO segment_actions (segment_id, kind, url, secret, created_at) \
             SELECT id, 'webhook', '{hook}', 'secret', 0 FROM segments \
             WHERE slug IN ('fast-track', 'nurture', 'disqualify');"
        ),
    )
    .await;

    let acks = Arc::new(Acks::default());
    for round in 0..=kills() {
        let mut server = serve(&url, dir.path(), &[]).await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut load = tokio::task::JoinSet::new();
        for worker in 0..3 {
            let (base, key, acks, stop) = (
                server.address.clone(),
                key.clone(),
                acks.clone(),
                stop.clone(),
            );
            load.spawn(async move {
                let c = client();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let id = format!("{round}-{worker}-{n}");
                    // A refused or cut-off request was never acknowledged,
                    // so nothing is owed for it.
                    if worker == 0 {
                        let email = format!("load-{id}@example.com");
                        if let Ok(true) = complete_quiz(&base, &email, &|| {}).await {
                            acks.completions.lock().unwrap().push(email);
                            acks.total.fetch_add(1, Ordering::SeqCst);
                        }
                    } else {
                        let keys: Vec<String> = (0..10).map(|i| format!("load-{id}-{i}")).collect();
                        if let Ok(true) = send_events(&c, &base, &key, &keys).await {
                            acks.events.lock().unwrap().extend(keys);
                            acks.total.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            });
        }
        if round < kills() {
            // A random moment: after some number of acknowledgements.
            let target = acks.total.load(Ordering::SeqCst) + 1 + moments.next(30);
            while acks.total.load(Ordering::SeqCst) < target {
                tokio::time::sleep(std::time::Duration::from_millis(moments.next(20) as u64)).await;
            }
            server.signal(libc::SIGKILL);
            let status = server.exit().await;
            assert!(!status.success(), "killed, not stopped: {status:?}");
            stop.store(true, Ordering::SeqCst);
            while load.join_next().await.is_some() {}
        } else {
            // The last life: a little more load, then a clean stop once the
            // outbox has sent everything the completions queued.
            let target = acks.total.load(Ordering::SeqCst) + 10;
            while acks.total.load(Ordering::SeqCst) < target {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            stop.store(true, Ordering::SeqCst);
            while let Some(done) = load.join_next().await {
                done.unwrap();
            }
            let store = SqlStore::connect(&url).await.unwrap();
            let mut waited = 0;
            while number(
                &store,
                "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'",
            )
            .await
                > 0
            {
                waited += 1;
                // A delivery taken by a killed server waits out its lease
                // (a minute); twice that is plenty on a loaded machine.
                assert!(waited < 2400, "the outbox never emptied");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            store.close().await;
            server.signal(libc::SIGTERM);
            assert!(server.exit().await.success());
        }
    }

    let store = SqlStore::connect(&url).await.unwrap();
    let events = acks.events.lock().unwrap().clone();
    let completions = acks.completions.lock().unwrap().clone();
    assert!(!completions.is_empty() && !events.is_empty());
    assert_events_stored_once(&store, &events).await;
    assert_completions_stored_once(&store, &completions).await;
    assert_counts_match_a_recount(&store).await;

    // Memberships equal what a rebuild from scratch finds.
    let before = strings(
        &store,
        "SELECT s.slug || ':' || CAST(m.contact_id AS TEXT) FROM segment_memberships m \
         JOIN segments s ON s.id = m.segment_id WHERE m.exited_at IS NULL ORDER BY 1",
    )
    .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    quizfunnel::store::SegmentStore::sync_memberships(&store, None, now)
        .await
        .unwrap();
    let rebuilt = strings(
        &store,
        "SELECT s.slug || ':' || CAST(m.contact_id AS TEXT) FROM segment_memberships m \
         JOIN segments s ON s.id = m.segment_id WHERE m.exited_at IS NULL ORDER BY 1",
    )
    .await;
    assert_eq!(before, rebuilt, "memberships differ from a full rebuild");

    // Every queued webhook reached the receiver.
    let queued: HashSet<String> = strings(&store, "SELECT idempotency_key FROM webhook_deliveries")
        .await
        .into_iter()
        .collect();
    assert!(!queued.is_empty());
    let got = delivered.lock().unwrap().clone();
    let missing: Vec<_> = queued.difference(&got).collect();
    assert!(missing.is_empty(), "webhooks never delivered: {missing:?}");
    eprintln!(
        "crash harness on {backend:?}: {} kills, {} completions and {} events acknowledged, {} webhooks delivered",
        kills(),
        completions.len(),
        events.len(),
        queued.len()
    );
}

crate::on_both_backends!(acknowledged_requests_survive_sigkill_exactly_once);
