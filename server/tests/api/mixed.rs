//! Mixed load on SQLite's single writer: quiz completions, event batches,
//! dashboard and lead-list reads and segment rebuilds at once. Nothing may
//! fail (no 5xx, no `database is locked`), and every acknowledged request
//! must be stored once. The suite runs it for a few seconds; the long run is
//! `QUIZFUNNEL_MIXED_SECONDS=600 cargo test -p quizfunnel-server --test api
//! mixed -- --nocapture`, which also prints the slowest request (a figure
//! to read, never asserted here).

use crate::helpers::{Backend, TestApp, call, spawn_app};
use crate::load::{
    assert_completions_stored_once, assert_counts_match_a_recount, assert_events_stored_once,
    complete_quiz, send_events,
};
use quizfunnel::account::Role;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn seconds() -> u64 {
    std::env::var("QUIZFUNNEL_MIXED_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
}

#[derive(Default)]
struct Tally {
    completions: Mutex<Vec<String>>,
    events: Mutex<Vec<String>>,
    /// What went wrong, in words; must stay empty.
    failures: Mutex<Vec<String>>,
    /// How long each request took, by kind.
    took: Mutex<std::collections::BTreeMap<String, Vec<Duration>>>,
}

impl Tally {
    fn timed(&self, what: &str, took: Duration) {
        let mut all = self.took.lock().unwrap();
        all.entry(what.to_string()).or_default().push(took);
    }

    /// Requests made, the slowest, and a line per kind with its p50, p99
    /// and slowest.
    fn report(&self) -> (usize, Duration, String) {
        let mut all = self.took.lock().unwrap();
        let (mut n, mut slowest, mut lines) = (0, Duration::ZERO, String::new());
        for (what, took) in all.iter_mut() {
            took.sort();
            let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
            n += took.len();
            slowest = slowest.max(at(1.0));
            lines += &format!(
                "\n  {what}: {} requests, p50 {:?}, p99 {:?}, slowest {:?}",
                took.len(),
                at(0.5),
                at(0.99),
                at(1.0)
            );
        }
        (n, slowest, lines)
    }

    fn check(&self, what: &str, status: u16, body: &str) {
        if status >= 500 || body.contains("database is locked") {
            self.failures.lock().unwrap().push(format!(
                "{what}: {status} {}",
                body.chars().take(200).collect::<String>()
            ));
        }
    }
}

async fn reader(app: Arc<TestApp>, c: reqwest::Client, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        for (path, form) in [
            ("/api/dashboard", vec![("days", "30")]),
            ("/api/leads/list", vec![("query", "tier=all&sort=recent")]),
            ("/api/segments", vec![]),
        ] {
            let start = Instant::now();
            let (status, body) = call(&app, &c, path, &form).await;
            tally.timed(path, start.elapsed());
            tally.check(path, status, &body);
        }
        let start = Instant::now();
        let res = c.get(app.url("/admin")).send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        tally.timed("GET /admin", start.elapsed());
        tally.check("GET /admin", status, &body);
    }
}

/// Saves a segment's rule over and over, each save starting a rebuild of
/// its memberships over every contact.
async fn rebuilder(
    app: Arc<TestApp>,
    c: reqwest::Client,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) {
    let rules = ["event(page_viewed, count >= 1)", "completed(growth)"];
    let mut id = String::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let form = [
            ("id", id.as_str()),
            ("slug", "busy"),
            ("name", "Busy"),
            ("description", ""),
            ("text", rules[n % 2]),
        ];
        let start = Instant::now();
        let (status, body) = call(&app, &c, "/api/segments/save", &form).await;
        tally.timed("save a segment", start.elapsed());
        tally.check("save a segment", status, &body);
        if status == 200 {
            id = body.trim().to_string();
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn mixed_load_on_sqlite_fails_nothing_and_loses_nothing() {
    let app = Arc::new(spawn_app(Backend::Sqlite).await);
    quizfunnel_server::demo::seed(&app.store, app.clock.now())
        .await
        .unwrap();
    let key = crate::ingest::api_key(&app).await;
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = tokio::task::JoinSet::new();
    for worker in 0..2 {
        let (app, tally, stop) = (app.clone(), tally.clone(), stop.clone());
        load.spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                // `load-` marks the people the checks look for.
                let email = format!("load-mixed-{worker}-{n}@example.com");
                let clock = app.clock.clone();
                // Each request of the quiz is timed on its own: the figure is
                // the slowest request, not the slowest respondent.
                let sent = std::sync::Mutex::new(Instant::now());
                let step_done = || {
                    let mut sent = sent.lock().unwrap();
                    tally.timed("a quiz step", sent.elapsed());
                    *sent = Instant::now();
                    // Respondents take a few seconds a step, as people do.
                    clock.advance(2_000);
                };
                let done = complete_quiz(&app.address, &email, &step_done).await;
                tally.timed(
                    "the last quiz step (completion)",
                    sent.lock().unwrap().elapsed(),
                );
                match done {
                    Ok(true) => tally.completions.lock().unwrap().push(email),
                    other => tally
                        .failures
                        .lock()
                        .unwrap()
                        .push(format!("completion {email}: {other:?}")),
                }
            }
        });
    }
    for worker in 0..2 {
        let (app, tally, stop, key) = (app.clone(), tally.clone(), stop.clone(), key.clone());
        load.spawn(async move {
            let c = crate::helpers::client();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let keys: Vec<String> = (0..100)
                    .map(|i| format!("load-mixed-{worker}-{n}-{i}"))
                    .collect();
                let start = Instant::now();
                let sent = send_events(&c, &app.address, &key, &keys).await;
                tally.timed("a batch of 100 events", start.elapsed());
                match sent {
                    Ok(true) => tally.events.lock().unwrap().extend(keys),
                    other => tally
                        .failures
                        .lock()
                        .unwrap()
                        .push(format!("event batch {worker}-{n}: {other:?}")),
                }
            }
        });
    }
    load.spawn(reader(
        app.clone(),
        marketer.clone(),
        tally.clone(),
        stop.clone(),
    ));
    load.spawn(rebuilder(
        app.clone(),
        marketer.clone(),
        tally.clone(),
        stop.clone(),
    ));

    tokio::time::sleep(Duration::from_secs(seconds())).await;
    stop.store(true, Ordering::SeqCst);
    while let Some(done) = load.join_next().await {
        done.unwrap();
    }

    let failures = tally.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
    let completions = tally.completions.lock().unwrap().clone();
    let events = tally.events.lock().unwrap().clone();
    assert!(!completions.is_empty() && !events.is_empty());
    let (requests, slowest, kinds) = tally.report();
    eprintln!(
        "mixed load, {} s: {requests} requests, {} completions, {} events, slowest {slowest:?}{kinds}",
        seconds(),
        completions.len(),
        events.len(),
    );
    assert_completions_stored_once(&app.store, &completions).await;
    assert_events_stored_once(&app.store, &events).await;
    assert_counts_match_a_recount(&app.store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    mixed_load_on_sqlite_fails_nothing_and_loses_nothing().await
}
