//! Completion → live count: how long after a quiz completion the
//! dashboard's stream (`GET /admin/live`, server-sent events) shows it.
//!
//! A benchmark owner is created in the database and signs in over HTTP,
//! as a person would. Each sample completes one new respondent and waits
//! for the first `counts` event whose tier leads add up to at least what
//! the database holds just after that completion. Every respondent is a
//! new contact placed in a tier, so the total only grows: an event that
//! reaches it was read after this completion committed, even while a
//! background load completes others. Under that load the figure is an
//! upper bound (completions landing between ours and the database read
//! must show too); idle, it is exact.

use crate::load::{self, JobOutcome, LoadConfig, LoadReport, Pace, Percentiles};
use crate::report::{self, Row, ms, rate, yes};
use crate::suite::{BackendRun, OPEN_SHARE, respondent};
use crate::{BenchResult, fail, now_ms};
use quizfunnel::store::{DashboardStore, LiveCounts};
use quizfunnel_server::store::SqlStore;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Completions the suite times one at a time, and at most as many under
/// load.
pub const SAMPLES: usize = 20;
/// SPEC §7: visible on `/admin` within a second.
pub const TARGET: Duration = Duration::from_secs(1);
/// Thirty times the target: an update this late means the stream is
/// broken, and the step says so instead of waiting on.
pub const WAIT: Duration = Duration::from_secs(30);

/// Sequence numbers far from the suite's loads, so no respondent is
/// reused and the background load's never meet the samples'.
const IDLE_SEQ: u64 = 3_000_000_000;
const LOADED_SEQ: u64 = 4_000_000_000;
const BACKGROUND_SEQ: u64 = 5_000_000_000;

/// Delays from a completion to the stream's event showing it.
#[derive(Debug, Clone, Default)]
pub struct LiveSamples {
    /// From when the completing post's answer arrived (0 when the event
    /// came first).
    pub from_answer: Percentiles,
    /// From when the completing post was sent.
    pub from_sent: Percentiles,
}

impl LiveSamples {
    fn of(samples: Vec<(Duration, Duration)>) -> Self {
        let (answer, sent) = samples.into_iter().unzip();
        LiveSamples {
            from_answer: Percentiles::of(answer),
            from_sent: Percentiles::of(sent),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LiveFigures {
    /// One completion at a time on an otherwise idle server.
    pub idle: LiveSamples,
    /// Completions timed while [`background_load`] ran, and that load.
    pub loaded: Option<(LiveSamples, LoadReport)>,
}

/// The load the loaded samples run under: completions in an open loop at
/// [`OPEN_SHARE`] of the closed-loop rate `completions` measured with
/// `closed`, as the completions row's open-loop figure.
pub fn background_load(closed: &LoadConfig, completions: &LoadReport) -> LoadConfig {
    LoadConfig {
        pace: Pace::Open {
            per_second: (completions.jobs_per_second() * OPEN_SHARE).max(1.0),
        },
        ..closed.clone()
    }
}

/// Signs in on the server at `base` (whose database is `database_url`),
/// opens the live stream, and times `samples` completions one at a time,
/// then, with `background`, up to as many (at least one) while that load
/// runs.
pub async fn measure(
    base: &str,
    database_url: &str,
    samples: usize,
    background: Option<LoadConfig>,
) -> BenchResult<LiveFigures> {
    let store = SqlStore::connect(database_url).await?;
    let session = sign_in(base, &store).await?;
    let mut live = Live::open(&session, base).await?;
    // The first event comes on connecting: the stream works before any
    // completion is timed.
    live.next_counts().await?;

    let client = load::client(1);
    let nonce = now_ms() as u64;
    let mut idle = Vec::with_capacity(samples);
    for seq in IDLE_SEQ..IDLE_SEQ + samples as u64 {
        idle.push(sample(&mut live, &client, &store, base, nonce, seq).await?);
    }

    let loaded = match background {
        None => None,
        Some(config) => {
            let (load_client, load_base) = (load::client(config.connections), base.to_string());
            let running = tokio::spawn(async move {
                load::run(&config, move |seq| {
                    let (c, b) = (load_client.clone(), load_base.clone());
                    async move { respondent(&c, &b, nonce, BACKGROUND_SEQ + seq).await }
                })
                .await
            });
            let mut taken = Vec::new();
            let mut seq = LOADED_SEQ;
            while taken.is_empty() || (taken.len() < samples && !running.is_finished()) {
                match sample(&mut live, &client, &store, base, nonce, seq).await {
                    Ok(s) => taken.push(s),
                    Err(e) => {
                        running.abort();
                        return Err(e);
                    }
                }
                seq += 1;
            }
            let report = running
                .await
                .map_err(|e| fail(format!("the background completion load stopped: {e}")))?;
            Some((LiveSamples::of(taken), report))
        }
    };
    Ok(LiveFigures {
        idle: LiveSamples::of(idle),
        loaded,
    })
}

/// One new respondent, and how long until the stream showed them:
/// (from the completing post's answer, from its sending).
async fn sample(
    live: &mut Live,
    client: &reqwest::Client,
    store: &SqlStore,
    base: &str,
    nonce: u64,
    seq: u64,
) -> BenchResult<(Duration, Duration)> {
    let outcome = respondent(client, base, nonce, seq).await;
    // `respondent` returns as soon as the completing post's answer is read.
    let answered = Instant::now();
    if let Some(e) = refused(&outcome) {
        return Err(fail(format!("a timed respondent failed: {e}")));
    }
    let took = outcome
        .last
        .ok_or_else(|| fail("a timed respondent sent no completing post"))?;
    let sent = answered.checked_sub(took).unwrap_or(answered);
    let expected = leads(&store.live_counts().await?);
    let shown = live.counts_reaching(expected).await?;
    Ok((
        shown.saturating_duration_since(answered),
        shown.saturating_duration_since(sent),
    ))
}

fn refused(outcome: &JobOutcome) -> Option<String> {
    let errors = outcome.server_errors + outcome.locked + outcome.other_errors;
    (errors > 0).then(|| {
        outcome
            .first_error
            .clone()
            .unwrap_or_else(|| format!("{errors} unexpected answers"))
    })
}

/// Leads across the playbook's tiers.
fn leads(counts: &LiveCounts) -> i64 {
    counts.tiers.iter().map(|t| t.leads).sum()
}

/// A client signed in as a new owner, with the session in its cookie jar.
async fn sign_in(base: &str, store: &SqlStore) -> BenchResult<reqwest::Client> {
    let ctx = quizfunnel_app::state::AppContext {
        store: Arc::new(store.clone()),
        clock: Default::default(),
        sessions: Default::default(),
        spam: Default::default(),
        views: Default::default(),
    };
    let email = format!("bench.live.{}@example.com", now_ms());
    let password = format!("bench-{:016x}", crate::Rng::new(now_ms() as u64).next_u64());
    quizfunnel_server::accounts::create_user(&ctx, &email, "owner", password.clone()).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        // No overall timeout: it would cut the stream. Each wait below
        // has its own bound.
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    let res = tokio::time::timeout(
        WAIT,
        client
            .post(format!("{base}/login"))
            .form(&[("email", email.as_str()), ("password", password.as_str())])
            .send(),
    )
    .await
    .map_err(|_| fail(format!("signing in did not answer within {}", ms(WAIT))))??;
    if res.status() != 303 {
        return Err(fail(format!(
            "signing in as the benchmark owner answered {}, not 303",
            res.status()
        )));
    }
    Ok(client)
}

/// The stream, read in its own task so each event is timed when it
/// arrives, not when a sample gets round to looking.
struct Live {
    events: mpsc::UnboundedReceiver<Result<(Instant, i64), String>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Live {
    async fn open(session: &reqwest::Client, base: &str) -> BenchResult<Live> {
        let res = tokio::time::timeout(WAIT, session.get(format!("{base}/admin/live")).send())
            .await
            .map_err(|_| fail(format!("/admin/live did not answer within {}", ms(WAIT))))??;
        let kind = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if res.status() != 200 || !kind.starts_with("text/event-stream") {
            return Err(fail(format!(
                "/admin/live answered {} ({kind:?}), not an event stream",
                res.status()
            )));
        }
        let (tx, events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut res = res;
            let mut buffer = String::new();
            loop {
                let chunk = match res.chunk().await {
                    Ok(Some(chunk)) => chunk,
                    Err(e) => {
                        let _ = tx.send(Err(format!("the live stream broke: {e}")));
                        return;
                    }
                    Ok(None) => {
                        let _ = tx.send(Err("the server ended the live stream".into()));
                        return;
                    }
                };
                let at = Instant::now();
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                for data in complete_events(&mut buffer) {
                    let event = serde_json::from_str::<LiveCounts>(&data)
                        .map(|c| (at, leads(&c)))
                        .map_err(|e| format!("a counts event did not parse ({e}): {data}"));
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Live { events, reader })
    }

    async fn next_counts(&mut self) -> BenchResult<(Instant, i64)> {
        match tokio::time::timeout(WAIT, self.events.recv()).await {
            Err(_) => Err(fail(format!(
                "no counts event on /admin/live within {}",
                ms(WAIT)
            ))),
            Ok(None) => Err(fail("the live stream's reader stopped")),
            Ok(Some(event)) => event.map_err(fail),
        }
    }

    /// When the first event with at least `leads` arrived.
    async fn counts_reaching(&mut self, leads: i64) -> BenchResult<Instant> {
        let deadline = Instant::now() + WAIT;
        let mut seen = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match tokio::time::timeout(left, self.events.recv()).await {
                Err(_) => {
                    return Err(fail(format!(
                        "no counts event on /admin/live showed the completion within {} \
                         (waiting for {leads} leads; last event {})",
                        ms(WAIT),
                        seen.map_or("none".to_string(), |n: i64| format!("{n} leads"))
                    )));
                }
                Ok(None) => return Err(fail("the live stream's reader stopped")),
                Ok(Some(event)) => event.map_err(fail)?,
            };
            if event.1 >= leads {
                return Ok(event.0);
            }
            seen = Some(event.1);
        }
    }
}

/// Takes each whole `counts` event off the front of `buffer` and returns
/// its data; keep-alive comments and other events are dropped.
fn complete_events(buffer: &mut String) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let event: String = buffer.drain(..end + 2).collect();
        if event.lines().any(|l| l == "event: counts") {
            out.push(
                event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
    }
    out
}

/// The table's row for one database.
pub fn row(b: &BackendRun) -> Row {
    let what = format!(
        "completion → SSE count update on {} (`GET /admin/live`)",
        b.name
    );
    let target = "≤ 1 s (p99, idle and under load)".to_string();
    match &b.live {
        Err(e) => Row {
            what,
            measured: format!("failed: {}", e.replace(['\n', '|'], " ")),
            baseline: "—".into(),
            ratio: "—".into(),
            target,
            met: "not measured".into(),
        },
        Ok(f) => {
            let mut measured = format!(
                "after the completing post's answer, {} one at a time: p50 {} / p99 {} / max {} \
                 (from its sending: p99 {})",
                f.idle.from_answer.samples,
                ms(f.idle.from_answer.p50),
                ms(f.idle.from_answer.p99),
                ms(f.idle.from_answer.max),
                ms(f.idle.from_sent.p99),
            );
            let mut met = f.idle.from_answer.p99 <= TARGET;
            if let Some((s, load)) = &f.loaded {
                measured.push_str(&format!(
                    "; {} during completions at {}/s: p50 {} / p99 {} / max {} (from sending: p99 {})",
                    s.from_answer.samples,
                    rate(load_rate(load)),
                    ms(s.from_answer.p50),
                    ms(s.from_answer.p99),
                    ms(s.from_answer.max),
                    ms(s.from_sent.p99),
                ));
                met &= s.from_answer.p99 <= TARGET;
            }
            Row {
                what,
                measured,
                baseline: "—".into(),
                ratio: "—".into(),
                target,
                met: yes(met),
            }
        }
    }
}

fn load_rate(load: &LoadReport) -> f64 {
    match load.pace {
        Pace::Open { per_second } => per_second,
        Pace::Closed => load.jobs_per_second(),
    }
}

/// The details behind [`row`] for one database.
pub fn details(b: &BackendRun) -> Vec<String> {
    let Ok(f) = &b.live else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "- **live count, {}, idle** (one owner's `/admin/live`; each sample a new respondent, \
         until an event's tier leads reach the database's after it): from the completing post's \
         answer {}; from its sending {}",
        b.name,
        report::percentiles(&f.idle.from_answer),
        report::percentiles(&f.idle.from_sent),
    )];
    if let Some((s, load)) = &f.loaded {
        lines.push(format!(
            "- **live count, {}, under load** (the same, during the load below; an upper bound): \
             from the completing post's answer {}; from its sending {}",
            b.name,
            report::percentiles(&s.from_answer),
            report::percentiles(&s.from_sent),
        ));
        lines.push(report::describe(
            &format!("completions beside the live samples, {}", b.name),
            load,
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_counts_events_are_taken_from_the_stream() {
        let mut buffer = String::from(
            ": keep-alive\n\nevent: counts\nretry: 1000\ndata: {\"tiers\":[]}\n\nevent: stale\ndata: x\n\nevent: counts\ndata: {\"ti",
        );
        assert_eq!(complete_events(&mut buffer), ["{\"tiers\":[]}"]);
        assert_eq!(buffer, "event: counts\ndata: {\"ti");
        buffer.push_str("ers\":[1]}\n\n");
        assert_eq!(complete_events(&mut buffer), ["{\"tiers\":[1]}"]);
        assert!(buffer.is_empty());
    }

    #[tokio::test]
    async fn a_stream_that_ends_fails_the_wait_at_once() {
        let counts = r#"{"tiers":[{"segment_id":1,"slug":"hot","name":"Hot","next_step":"call","leads":4}],"segments":[]}"#;
        let body = format!("event: counts\ndata: {counts}\n\n");
        let stream = axum::Router::new().route(
            "/admin/live",
            axum::routing::get(
                move || async move { ([("content-type", "text/event-stream")], body) },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, stream).await });

        let mut live = Live::open(&reqwest::Client::new(), &base).await.unwrap();
        assert_eq!(live.next_counts().await.unwrap().1, 4);
        let started = Instant::now();
        let e = live.counts_reaching(5).await.unwrap_err();
        assert!(e.0.contains("ended the live stream"), "{e}");
        assert!(started.elapsed() < WAIT);
    }
}
