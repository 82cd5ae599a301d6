//! The suite: generate, measure each figure of SPEC §7 beside its baseline
//! in the same run, and print the table.
//!
//! The scenario functions take a base URL, so the smoke test can point
//! them at an in-process server; [`run`] starts the real binary.

use crate::generate::{self, Generated, Plan};
use crate::live::{self, LiveFigures};
use crate::load::{self, JobOutcome, LoadConfig, LoadReport, Pace};
use crate::report::{self, Row, ms, percent, rate, yes};
use crate::segments::{self, SegmentFigures};
use crate::server::{self, ServerProcess};
use crate::{BenchResult, fail, now_ms, writes};
use quizfunnel_server::store::{Db, SqlStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events per ingestion request.
pub const INGEST_BATCH: usize = 100;
/// Open-loop runs go at this share of the closed-loop rate just measured.
pub const OPEN_SHARE: f64 = 0.5;

#[derive(Debug, Clone)]
pub struct SuiteConfig {
    pub contacts: u64,
    pub events: u64,
    pub seed: u64,
    pub duration: Duration,
    pub connections: usize,
    pub max_jobs: u64,
    pub work_dir: PathBuf,
    pub server_bin: PathBuf,
    pub site_root: PathBuf,
    /// A Postgres URL allowed to create databases; no Postgres rows without.
    pub postgres_admin_url: Option<String>,
    pub progress: bool,
}

impl SuiteConfig {
    pub fn load(&self, pace: Pace) -> LoadConfig {
        LoadConfig {
            connections: self.connections,
            duration: self.duration,
            max_jobs: self.max_jobs,
            pace,
        }
    }
}

/// Runs the load twice: closed loop for the most it sustains, then open
/// loop at [`OPEN_SHARE`] of that rate for latency free of coordinated
/// omission.
pub async fn closed_then_open<F, Fut>(config: &LoadConfig, job: F) -> (LoadReport, LoadReport)
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = JobOutcome> + Send,
{
    let closed = load::run(config, job.clone()).await;
    let per_second = (closed.jobs_per_second() * OPEN_SHARE).max(1.0);
    let open_config = LoadConfig {
        pace: Pace::Open { per_second },
        // Later sequence numbers than the closed run: a quiz respondent
        // must not be reused.
        ..config.clone()
    };
    let offset = closed.jobs + 1_000_000;
    let open = load::run(&open_config, move |seq| job(seq + offset)).await;
    (closed, open)
}

fn page_job(
    client: reqwest::Client,
    url: String,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = JobOutcome> + Send>>
+ Send
+ Sync
+ Clone
+ 'static {
    move |_| {
        let (client, url) = (client.clone(), url.clone());
        Box::pin(async move {
            let mut outcome = JobOutcome::default();
            let sent = Instant::now();
            let res = client.get(&url).send().await;
            load::check(&mut outcome, sent, res, 200).await;
            outcome
        })
    }
}

/// `GET /q/growth` (or the baseline's same path) under load.
pub async fn page_load(base: &str, config: &LoadConfig) -> (LoadReport, LoadReport) {
    let client = load::client(config.connections);
    closed_then_open(config, page_job(client, format!("{base}/q/growth"))).await
}

/// The answers one respondent gives, varied by `seq` so completions land
/// in different tiers.
fn respondent_steps(seq: u64, nonce: u64) -> Vec<Vec<(&'static str, String)>> {
    let budget = ["low", "mid", "high"][(seq % 3) as usize];
    let team = ["solo", "small", "large"][(seq / 3 % 3) as usize];
    let q = |k: &'static str, v: &str| vec![("question", k.to_string()), ("answer", v.to_string())];
    vec![
        q(
            "stage",
            if seq.is_multiple_of(4) {
                "growing"
            } else {
                "scaling"
            },
        ),
        q("budget", budget),
        q("urgency", &(seq % 5 + 1).to_string()),
        vec![
            ("question", "channels".into()),
            ("answer", "ads".into()),
            ("answer", "seo".into()),
        ],
        q("blocker", "No pipeline"),
        q("team", team),
        vec![
            ("question", "contact".into()),
            ("email", format!("bench.{nonce}.{seq}@example.com")),
            ("name", "Bench".into()),
            ("company", "Bench Co".into()),
            ("consent", "on".into()),
        ],
    ]
}

/// One full respondent, as a browser without JavaScript takes the quiz:
/// the page, then one form post per step, the last placing them in a tier.
pub(crate) async fn respondent(
    client: &reqwest::Client,
    base: &str,
    nonce: u64,
    seq: u64,
) -> JobOutcome {
    let mut outcome = JobOutcome::default();
    let cookie = format!("qf_vid=bench-{nonce}-{seq}; qf_rk=bench-key-{nonce}-{seq}");
    let url = format!("{base}/q/growth");
    let sent = Instant::now();
    let res = client.get(&url).header("cookie", &cookie).send().await;
    if load::check(&mut outcome, sent, res, 200).await.is_none() {
        return outcome;
    }
    let steps = respondent_steps(seq, nonce);
    for (i, form) in steps.iter().enumerate() {
        let sent = Instant::now();
        let res = client
            .post(&url)
            .header("cookie", &cookie)
            .form(form)
            .send()
            .await;
        let Some(location) = load::check(&mut outcome, sent, res, 303).await else {
            return outcome;
        };
        let expected = if i + 1 == steps.len() {
            "/q/growth/result"
        } else {
            "/q/growth"
        };
        if location != expected {
            outcome.other_errors += 1;
            outcome
                .first_error
                .get_or_insert(format!("step {i} went to {location:?}, not {expected}"));
            return outcome;
        }
    }
    outcome
}

/// Quiz completions under load: each job is one full respondent.
pub async fn completion_load(base: &str, config: &LoadConfig) -> (LoadReport, LoadReport) {
    let client = load::client(config.connections);
    let base = base.to_string();
    let nonce = now_ms() as u64;
    closed_then_open(config, move |seq| {
        let (client, base) = (client.clone(), base.clone());
        async move { respondent(&client, &base, nonce, seq).await }
    })
    .await
}

/// `POST /api/v1/events` in batches of [`INGEST_BATCH`], for visitors
/// `gen-…` whose contact ids lie in `contacts`.
pub async fn ingest_load(
    base: &str,
    key: &str,
    contacts: (i64, i64),
    config: &LoadConfig,
) -> (LoadReport, LoadReport) {
    let client = load::client(config.connections);
    let url = format!("{base}/api/v1/events");
    let auth = format!("Bearer {key}");
    let (low, high) = contacts;
    closed_then_open(config, move |seq| {
        let (client, url, auth) = (client.clone(), url.clone(), auth.clone());
        async move {
            let mut rng = crate::Rng::new(seq);
            let batch: Vec<serde_json::Value> = (0..INGEST_BATCH)
                .map(|_| {
                    let id = low + rng.below((high - low + 1).max(1) as u64) as i64;
                    let name = *rng.pick(&["page_viewed", "page_viewed", "feature_used"]);
                    serde_json::json!({
                        "name": name,
                        "visitor_id": format!("gen-{id:08}"),
                        "properties": {"path": "/pricing"},
                    })
                })
                .collect();
            let mut outcome = JobOutcome::default();
            let sent = Instant::now();
            let res = client
                .post(&url)
                .header("authorization", &auth)
                .json(&batch)
                .send()
                .await;
            load::check(&mut outcome, sent, res, 202).await;
            outcome
        }
    })
    .await
}

/// The public quiz page and what it fetches before any WebAssembly.
#[derive(Debug, Clone, Default)]
pub struct PageWeight {
    pub html: usize,
    /// Same-origin CSS and JavaScript the page names, with their size when
    /// the server had them.
    pub assets: Vec<(String, Option<usize>)>,
    /// The WebAssembly the page loads next: its size, and its size as sent
    /// gzipped (`None` when the server never sent it so).
    pub wasm: Option<(usize, Option<usize>)>,
}

impl PageWeight {
    pub fn total(&self) -> usize {
        self.html + self.assets.iter().filter_map(|a| a.1).sum::<usize>()
    }

    pub fn missing(&self) -> Vec<&str> {
        self.assets
            .iter()
            .filter(|a| a.1.is_none())
            .map(|a| a.0.as_str())
            .collect()
    }
}

/// Same-origin CSS and JavaScript paths the page names, in attributes or
/// in its inline module script (the .wasm is left out on purpose).
fn assets_named(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for quote in ['"', '\''] {
        for path in html.split(quote) {
            let bare = path.split(['?', '#']).next().unwrap_or(path);
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains(char::is_whitespace)
                && (bare.ends_with(".css") || bare.ends_with(".js"))
                && !out.iter().any(|p| p == path)
            {
                out.push(path.to_string());
            }
        }
    }
    out
}

pub async fn page_weight(base: &str) -> BenchResult<PageWeight> {
    let client = load::client(1);
    let html = client
        .get(format!("{base}/q/growth"))
        .send()
        .await?
        .text()
        .await?;
    let mut weight = PageWeight {
        html: html.len(),
        assets: Vec::new(),
        wasm: None,
    };
    for path in assets_named(&html) {
        let res = client.get(format!("{base}{path}")).send().await?;
        let size = if res.status().is_success() {
            Some(res.bytes().await?.len())
        } else {
            None
        };
        weight.assets.push((path, size));
    }
    let wasm = html
        .split(['"', '\''])
        .find(|p| p.starts_with("/pkg/") && p.ends_with(".wasm"));
    if let Some(path) = wasm {
        weight.wasm = wasm_weight(&client, &format!("{base}{path}")).await?;
    }
    Ok(weight)
}

/// The server gzips a built file in the background after its first
/// request and sends it as it is until then: waits (up to a minute) for
/// the gzipped form.
async fn wasm_weight(
    client: &reqwest::Client,
    url: &str,
) -> BenchResult<Option<(usize, Option<usize>)>> {
    let res = client.get(url).send().await?;
    if !res.status().is_success() {
        return Ok(None);
    }
    let raw = res.bytes().await?.len();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let res = client
            .get(url)
            .header(reqwest::header::ACCEPT_ENCODING, "gzip")
            .send()
            .await?;
        let gzipped = res
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .is_some();
        let size = res.bytes().await?.len();
        if gzipped || std::time::Instant::now() > deadline {
            return Ok(Some((raw, gzipped.then_some(size))));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An API key for the ingestion API, issued as `quizfunnel key create` does.
pub async fn issue_key(database_url: &str) -> BenchResult<String> {
    let store = SqlStore::connect(database_url).await?;
    let ctx = quizfunnel_app::state::AppContext {
        store: Arc::new(store),
        clock: Default::default(),
        sessions: Default::default(),
        spam: Default::default(),
        views: Default::default(),
    };
    Ok(quizfunnel_server::accounts::create_key(&ctx, "benchmark").await?)
}

/// The id range of generated contacts (visitor ids `gen-…`).
pub async fn generated_contacts(database_url: &str) -> BenchResult<(i64, i64)> {
    const RANGE: &str = "SELECT COALESCE(min(id), 0), COALESCE(max(id), 0) FROM contacts WHERE visitor_id LIKE 'gen-%'";
    let store = SqlStore::connect(database_url).await?;
    Ok(match store.db() {
        Db::Sqlite(db) => sqlx::query_as(RANGE).fetch_one(db.reader()).await?,
        Db::Postgres(pool) => sqlx::query_as(RANGE).fetch_one(pool).await?,
    })
}

/// A new database beside the one `admin_url` names.
pub async fn fresh_postgres_database(admin_url: &str, name: &str) -> BenchResult<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    Ok(format!("{base}/{name}"))
}

/// Everything measured on one database.
pub struct BackendRun {
    pub name: &'static str,
    pub generated: Generated,
    pub segments: SegmentFigures,
    pub raw_inserts: LoadReport,
    pub completions: (LoadReport, LoadReport),
    pub ingest: Option<(LoadReport, LoadReport)>,
    pub peak_rss_kib: Option<u64>,
    /// Completion → live count; why not, when the step failed.
    pub live: Result<LiveFigures, String>,
}

/// The public quiz page under load beside a bare handler answering as many
/// bytes, measured one after the other.
pub struct PageFigures {
    pub page: (LoadReport, LoadReport),
    pub baseline: (LoadReport, LoadReport),
    pub weight: PageWeight,
}

pub struct SuiteRun {
    pub config: SuiteConfig,
    pub page: PageFigures,
    pub site_built: bool,
    pub sqlite: BackendRun,
    pub postgres: Option<BackendRun>,
    /// Why the Postgres rows are missing, when they were asked for.
    pub postgres_error: Option<String>,
}

fn say(config: &SuiteConfig, what: &str) {
    if config.progress {
        eprintln!("[suite] {what}");
    }
}

/// Runs the whole suite; see docs/BENCHMARKS.md for what each row means.
pub async fn run(config: SuiteConfig) -> BenchResult<SuiteRun> {
    std::fs::create_dir_all(&config.work_dir)?;
    let db_path = config.work_dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
    }
    let sqlite_url = format!("sqlite://{}", db_path.display());
    let log = config.work_dir.join("server-sqlite.log");

    // The page and its baseline first, on a fresh seeded server.
    say(&config, "generating the SQLite data set");
    let (sqlite, page) = {
        let generated = generate_into(&config, &sqlite_url).await?;
        say(&config, "segment figures on SQLite");
        let segments = segments::measure(&sqlite_url, now_ms()).await?;
        say(&config, "raw single-row inserts on SQLite");
        let raw_inserts = writes::raw_inserts(&sqlite_url, &config.load(Pace::Closed)).await?;
        let key = issue_key(&sqlite_url).await?;
        let contacts = generated_contacts(&sqlite_url).await?;
        let (page, app) = page_figures(&config, &sqlite_url, &log).await?;
        let (completions, ingest, peak_rss_kib, live) =
            server_loads(&config, app, "SQLite", &sqlite_url, &key, contacts).await;
        (
            BackendRun {
                name: "SQLite",
                generated,
                segments,
                raw_inserts,
                completions,
                ingest: Some(ingest),
                peak_rss_kib,
                live,
            },
            page,
        )
    };

    // A failure on Postgres still leaves the SQLite figures to report.
    let mut postgres_error = None;
    let postgres = match &config.postgres_admin_url {
        None => None,
        Some(admin) => {
            say(&config, "generating the Postgres data set");
            let attempt = async {
                let url = fresh_postgres_database(admin, "qf_bench").await?;
                postgres_run(&config, &url).await
            };
            match attempt.await {
                Ok(run) => Some(run),
                Err(e) => {
                    postgres_error = Some(e.to_string());
                    None
                }
            }
        }
    };
    Ok(SuiteRun {
        site_built: config.site_root.join("pkg").exists(),
        config,
        page,
        sqlite,
        postgres,
        postgres_error,
    })
}

/// The page's weight, the bare handler answering that many bytes, then
/// the page under load on a server started for it on `url`, which is
/// handed back for the loads after it.
async fn page_figures(
    config: &SuiteConfig,
    url: &str,
    log: &Path,
) -> BenchResult<(PageFigures, ServerProcess)> {
    // The page's size decides the baseline's, so look once first.
    let probe = server::start_quizfunnel(&config.server_bin, url, &config.site_root, log).await?;
    let weight = page_weight(&probe.url("")).await?;
    probe.stop().await;
    say(config, "baseline: a bare axum handler");
    let base = server::start_baseline(weight.html).await?;
    let baseline = page_load(&base.url(""), &config.load(Pace::Closed)).await;
    base.stop().await;

    let app = server::start_quizfunnel(&config.server_bin, url, &config.site_root, log).await?;
    warm_up(config, &app).await;
    say(config, "the public quiz page");
    let page = page_load(&app.url(""), &config.load(Pace::Closed)).await;
    Ok((
        PageFigures {
            page,
            baseline,
            weight,
        },
        app,
    ))
}

/// Only the page and its baseline, on a data set already generated at
/// `url`. Every run adds the new visitors it makes, so servers compared
/// should each start from a copy.
pub async fn page_only(config: &SuiteConfig, url: &str) -> BenchResult<PageFigures> {
    std::fs::create_dir_all(&config.work_dir)?;
    let log = config.work_dir.join("server-page.log");
    let (figures, app) = page_figures(config, url, &log).await?;
    app.stop().await;
    Ok(figures)
}

/// Only the completions load, on a data set already generated at `url`,
/// to compare two servers' completions in a few minutes. Each run adds the
/// respondents it makes, so servers compared should each start from a copy.
pub async fn completions_only(
    config: &SuiteConfig,
    url: &str,
) -> BenchResult<(LoadReport, LoadReport)> {
    std::fs::create_dir_all(&config.work_dir)?;
    let log = config.work_dir.join("server-completions.log");
    let app = server::start_quizfunnel(&config.server_bin, url, &config.site_root, &log).await?;
    warm_up(config, &app).await;
    say(config, "quiz completions");
    let completions = completion_load(&app.url(""), &config.load(Pace::Closed)).await;
    app.stop().await;
    Ok(completions)
}

async fn postgres_run(config: &SuiteConfig, url: &str) -> BenchResult<BackendRun> {
    let generated = generate_into(config, url).await?;
    say(config, "segment figures on Postgres");
    let segments = segments::measure(url, now_ms()).await?;
    say(config, "raw single-row inserts on Postgres");
    let raw_inserts = writes::raw_inserts(url, &config.load(Pace::Closed)).await?;
    let key = issue_key(url).await?;
    let contacts = generated_contacts(url).await?;
    let log = config.work_dir.join("server-postgres.log");
    let app = server::start_quizfunnel(&config.server_bin, url, &config.site_root, &log).await?;
    warm_up(config, &app).await;
    let (completions, ingest, peak_rss_kib, live) =
        server_loads(config, app, "Postgres", url, &key, contacts).await;
    Ok(BackendRun {
        name: "Postgres",
        generated,
        segments,
        raw_inserts,
        completions,
        ingest: Some(ingest),
        peak_rss_kib,
        live,
    })
}

/// The loads both databases get from a running server (completions,
/// ingestion, the live count), then its peak memory; stops the server.
async fn server_loads(
    config: &SuiteConfig,
    app: ServerProcess,
    name: &str,
    url: &str,
    key: &str,
    contacts: (i64, i64),
) -> (
    (LoadReport, LoadReport),
    (LoadReport, LoadReport),
    Option<u64>,
    Result<LiveFigures, String>,
) {
    say(config, &format!("quiz completions on {name}"));
    let completions = completion_load(&app.url(""), &config.load(Pace::Closed)).await;
    say(config, &format!("event ingestion on {name}"));
    let ingest = ingest_load(&app.url(""), key, contacts, &config.load(Pace::Closed)).await;
    say(config, &format!("completion → live count on {name}"));
    let background = live::background_load(&config.load(Pace::Closed), &completions.0);
    let live = live::measure(&app.url(""), url, live::SAMPLES, Some(background))
        .await
        .map_err(|e| e.to_string());
    let peak_rss_kib = app.peak_rss_kib();
    app.stop().await;
    (completions, ingest, peak_rss_kib, live)
}

async fn generate_into(config: &SuiteConfig, url: &str) -> BenchResult<Generated> {
    let plan = Plan {
        contacts: config.contacts,
        events: config.events,
        seed: config.seed,
        progress: config.progress,
    };
    generate::generate(url, &plan, now_ms()).await
}

/// One respondent and one page view before measuring, so connection
/// set-up and the first statements' preparation are not in the figures;
/// then a wait for the re-check of every segment the server runs at
/// start (see [`server::quiet`]).
async fn warm_up(config: &SuiteConfig, app: &ServerProcess) {
    let client = load::client(1);
    let _ = respondent(&client, &app.url(""), now_ms() as u64, u64::MAX / 2).await;
    let _ = client.get(app.url("/q/growth")).send().await;
    match server::quiet(Duration::from_secs(600)).await {
        Some(took) => say(
            config,
            &format!("the server settled after {:.0} s", took.as_secs_f64()),
        ),
        None => say(config, "the server did not settle within 10 minutes"),
    }
}

/// The markdown table and the details under it.
pub fn render(run: &SuiteRun) -> String {
    let c = &run.config;
    let mut rows = Vec::new();
    rows.push(page_row(c, &run.page));
    for b in std::iter::once(&run.sqlite).chain(run.postgres.as_ref()) {
        let (done, done_open) = &b.completions;
        let per_second = done.jobs_per_second();
        let raw = b.raw_inserts.jobs_per_second();
        let errors = done.locked + done.server_errors + done_open.locked + done_open.server_errors;
        rows.push(Row {
            what: format!(
                "quiz completions on {} (page + 7 posts, tier placement, segment sync, outbox; {} connections)",
                b.name, c.connections
            ),
            measured: format!(
                "{} completions/s ({} req/s); p99 per request {}, completing post {} (open loop at {}/s: whole respondent p99 {}); locked {}, 5xx {}",
                rate(per_second),
                rate(done.requests_per_second()),
                ms(done.request_latency.p99),
                ms(done.last_latency.p99),
                rate(per_second * OPEN_SHARE),
                ms(done_open.job_latency.p99),
                done.locked + done_open.locked,
                done.server_errors + done_open.server_errors,
            ),
            baseline: format!(
                "raw single-row inserts: {}/s, p99 {}",
                rate(raw),
                ms(b.raw_inserts.request_latency.p99)
            ),
            ratio: percent(per_second / raw.max(1e-9)),
            target: if b.name == "SQLite" {
                "≥ 2,000/s; p99 ≤ 20 ms; 0 locked".into()
            } else {
                "(same as SQLite)".into()
            },
            met: yes(per_second >= 2000.0
                && done.request_latency.p99 <= Duration::from_millis(20)
                && errors == 0),
        });
        if let Some((ingest, ingest_open)) = &b.ingest {
            let events = ingest.jobs_per_second() * INGEST_BATCH as f64;
            rows.push(Row {
                what: format!("event ingestion on {}, batches of {INGEST_BATCH}", b.name),
                measured: format!(
                    "{} events/s; p99 per batch {} (open loop: p99 {}); 5xx {}",
                    rate(events),
                    ms(ingest.request_latency.p99),
                    ms(ingest_open.job_latency.p99),
                    ingest.server_errors + ingest_open.server_errors
                ),
                baseline: format!("raw single-row inserts: {}/s", rate(raw)),
                ratio: percent(events / raw.max(1e-9)),
                target: "(none set)".into(),
                met: "—".into(),
            });
        }
        let s = &b.segments;
        let g = &b.generated;
        let size = format!("{} contacts, {} events", s.contacts, g.events);
        let plain = format!("`SELECT count(*) FROM contacts`: {}", ms(s.plain_count));
        let times = |d: Duration| {
            format!(
                "{:.1}×",
                d.as_secs_f64() / s.plain_count.as_secs_f64().max(1e-9)
            )
        };
        rows.push(Row {
            what: format!(
                "segment count served on {} ({size}; slowest of {} segments, from maintained memberships)",
                b.name,
                s.counts.len()
            ),
            measured: ms(s.slowest_count()),
            baseline: plain.clone(),
            ratio: times(s.slowest_count()),
            target: "≤ 50 ms".into(),
            met: yes(s.slowest_count() <= Duration::from_millis(50)),
        });
        rows.push(Row {
            what: format!("rule-builder preview on {} (count + 10 members)", b.name),
            measured: format!("{} ({} match)", ms(s.preview), s.preview_count),
            baseline: plain.clone(),
            ratio: times(s.preview),
            target: "≤ 1 s".into(),
            met: yes(s.preview <= Duration::from_secs(1)),
        });
        rows.push(Row {
            what: format!(
                "rebuild of a new rule on {} (the preview's rule saved as a segment, from empty)",
                b.name
            ),
            measured: format!(
                "{} (every one of {} segments from empty: {}; again, nothing to change: {})",
                ms(s.rebuild_new),
                s.segments,
                ms(s.rebuild_first),
                ms(s.rebuild_again)
            ),
            baseline: plain,
            ratio: times(s.rebuild_new),
            target: "≤ 10 s".into(),
            met: yes(s.rebuild_new <= Duration::from_secs(10)),
        });
        let rss = b.peak_rss_kib.map(|k| k as f64 / 1024.0);
        rows.push(Row {
            what: format!("server peak RSS (VmHWM) after the load on {}", b.name),
            measured: rss.map_or("not read".into(), |mb| format!("{mb:.0} MB")),
            baseline: "—".into(),
            ratio: "—".into(),
            target: "≤ 150 MB".into(),
            met: rss.map_or("—".into(), |mb| yes(mb <= 150.0)),
        });
    }
    let w = &run.page.weight;
    let missing = w.missing();
    let weight_note = if !run.site_built {
        " (site not built: HTML alone)".to_string()
    } else if !missing.is_empty() {
        format!(" (not served: {})", missing.join(", "))
    } else {
        String::new()
    };
    rows.push(Row {
        what: "public quiz page weight before WebAssembly (HTML + CSS + JS, uncompressed)".into(),
        measured: format!(
            "{:.1} KB{weight_note}: HTML {:.1} KB{}",
            w.total() as f64 / 1024.0,
            w.html as f64 / 1024.0,
            w.assets
                .iter()
                .map(|(p, s)| format!(
                    ", {p} {}",
                    s.map_or("missing".into(), |s| format!("{:.1} KB", s as f64 / 1024.0))
                ))
                .collect::<String>()
        ) + &match w.wasm {
            Some((raw, gzip)) => format!(
                "; then WebAssembly {:.2} MB, {} as sent",
                raw as f64 / 1e6,
                gzip.map_or("not gzipped".into(), |g| format!(
                    "{:.2} MB gzipped",
                    g as f64 / 1e6
                ))
            ),
            None => String::new(),
        },
        baseline: "—".into(),
        ratio: "—".into(),
        target: "≤ 60 KB".into(),
        met: if run.site_built && missing.is_empty() {
            yes(w.total() <= 60 * 1024)
        } else {
            "incomplete".into()
        },
    });
    rows.extend(
        std::iter::once(&run.sqlite)
            .chain(run.postgres.as_ref())
            .map(live::row),
    );
    let mut out = report::table(&rows);
    if let Some(e) = &run.postgres_error {
        out.push_str(&format!(
            "\nPostgres rows missing: the run failed with `{e}`."
        ));
    }
    out.push_str("\n### Details\n\n");
    let mut lines = page_details(&run.page);
    for b in std::iter::once(&run.sqlite).chain(run.postgres.as_ref()) {
        let g = &b.generated;
        lines.push(format!(
            "- **{} data set**: {} contacts, {} events, {} quiz sessions ({} completed), {} rows in {:.0} s ({:.0} rows/s)",
            b.name,
            g.contacts,
            g.events,
            g.sessions,
            g.completed,
            g.rows,
            g.elapsed.as_secs_f64(),
            g.rows as f64 / g.elapsed.as_secs_f64().max(1e-9)
        ));
        let listed = |counts: &[(String, Duration, i64)]| {
            counts
                .iter()
                .map(|(slug, d, n)| format!("`{slug}` {} ({n})", ms(*d)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        lines.push(format!(
            "- **{} segment counts** (median of 5), served: {}; worked out from the rule over every contact: {}; segment list ({} segments with counts): {}",
            b.name,
            listed(&b.segments.counts),
            listed(&b.segments.evaluated),
            b.segments.segments,
            ms(b.segments.list)
        ));
        lines.push(report::describe(
            &format!("raw inserts, {}", b.name),
            &b.raw_inserts,
        ));
        lines.push(report::describe(
            &format!("completions, {}, closed", b.name),
            &b.completions.0,
        ));
        lines.push(report::describe(
            &format!("completions, {}, open", b.name),
            &b.completions.1,
        ));
        if let Some((i, o)) = &b.ingest {
            lines.push(report::describe(
                &format!("ingestion, {}, closed", b.name),
                i,
            ));
            lines.push(report::describe(&format!("ingestion, {}, open", b.name), o));
        }
        lines.extend(live::details(b));
    }
    out.push_str(&lines.join("\n"));
    out.push('\n');
    out
}

fn page_row(c: &SuiteConfig, p: &PageFigures) -> Row {
    let (page, page_open) = &p.page;
    let (base, base_open) = &p.baseline;
    let share = page.requests_per_second() / base.requests_per_second().max(1e-9);
    Row {
        what: format!(
            "public quiz page SSR, `GET /q/growth` ({} connections)",
            c.connections
        ),
        measured: format!(
            "{} req/s; p99 {} (open loop at {}/s: p99 {})",
            rate(page.requests_per_second()),
            ms(page.request_latency.p99),
            rate(page.jobs_per_second() * OPEN_SHARE),
            ms(page_open.job_latency.p99)
        ),
        baseline: format!(
            "bare axum, same {} bytes: {} req/s; p99 {} (open: p99 {})",
            p.weight.html,
            rate(base.requests_per_second()),
            ms(base.request_latency.p99),
            ms(base_open.job_latency.p99)
        ),
        ratio: percent(share),
        target: "≥ 50%; p99 ≤ 10 ms".into(),
        met: yes(share >= 0.5 && page.request_latency.p99 <= Duration::from_millis(10)),
    }
}

fn page_details(p: &PageFigures) -> Vec<String> {
    vec![
        report::describe("baseline page, closed", &p.baseline.0),
        report::describe("baseline page, open", &p.baseline.1),
        report::describe("quiz page, closed", &p.page.0),
        report::describe("quiz page, open", &p.page.1),
    ]
}

/// The page's row and its details, as the suite prints them.
pub fn render_page(config: &SuiteConfig, p: &PageFigures) -> String {
    format!(
        "{}\n{}\n",
        report::table(&[page_row(config, p)]),
        page_details(p).join("\n")
    )
}

/// Where the server binary is: beside this one when built together.
pub fn default_server_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("quizfunnel")))
        .unwrap_or_else(|| PathBuf::from("target/release/quizfunnel"))
}

pub fn require_file(path: &Path, what: &str) -> BenchResult<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(fail(format!("{what} not found at {}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_weight_counts_css_and_js_but_not_wasm() {
        let html = r#"<link rel="stylesheet" href="/pkg/quizfunnel.css"><link rel="modulepreload" href="/pkg/quizfunnel.js"><link rel="preload" href="/pkg/quizfunnel_bg.wasm"><script src="https://cdn.example/x.js"></script><a href="/q/growth"><script type="module">import init from '/pkg/quizfunnel.js';</script>"#;
        assert_eq!(
            assets_named(html),
            ["/pkg/quizfunnel.css", "/pkg/quizfunnel.js"]
        );
    }
}
