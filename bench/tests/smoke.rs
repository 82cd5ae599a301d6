//! The suite at a tiny size: every step runs and yields a figure. No
//! figure is compared with a target here; timing belongs to the real run
//! on a quiet machine (docs/BENCHMARKS.md).
//!
//! The server runs in this process (the `quizfunnel` binary is not built
//! for another crate's tests); Postgres is exercised when
//! `TEST_DATABASE_URL` names a server that lets us create a database.

use quizfunnel_app::state::SpamPolicy;
use quizfunnel_bench::generate::{self, Plan};
use quizfunnel_bench::load::{LoadConfig, Pace};
use quizfunnel_bench::suite::{self, BackendRun, PageFigures, SuiteConfig, SuiteRun};
use quizfunnel_bench::{live, now_ms, segments, server, writes};
use quizfunnel_server::config::ServeConfig;
use quizfunnel_server::startup::Application;
use std::time::Duration;

fn tiny_load() -> LoadConfig {
    LoadConfig {
        connections: 4,
        duration: Duration::from_millis(500),
        max_jobs: 200,
        pace: Pace::Closed,
    }
}

/// `quizfunnel serve` in this process, as the suite starts it.
async fn serve(
    database_url: &str,
    site: &std::path::Path,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let app = Application::build(ServeConfig {
        database_url: database_url.into(),
        addr: "127.0.0.1:0".into(),
        site_root: site.to_path_buf(),
        sessions: Default::default(),
        spam: SpamPolicy {
            min_quiz_ms: 0,
            ..Default::default()
        },
        quiz_posts_per_minute: 0,
        trusted_proxies: Default::default(),
        clock: Default::default(),
        retention_every: None,
        shutdown_timeout: std::time::Duration::from_secs(10),
    })
    .await
    .expect("the server starts");
    let base = format!("http://{}", app.addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    (base, stop)
}

async fn backend_run(name: &'static str, url: &str, site: &std::path::Path) -> BackendRun {
    let plan = Plan {
        contacts: 200,
        events: 2_000,
        seed: 1,
        progress: false,
    };
    let generated = generate::generate(url, &plan, now_ms()).await.unwrap();
    assert_eq!(generated.contacts, 200);
    assert!(generated.events > 0 && generated.completed > 0);

    let figures = segments::measure(url, now_ms()).await.unwrap();
    assert_eq!(
        figures.contacts, 500,
        "200 generated and 300 demo respondents"
    );
    assert_eq!(figures.counts.len(), generate::BENCH_SEGMENTS.len());
    let members = |counts: &[(String, std::time::Duration, i64)]| {
        counts
            .iter()
            .map(|(slug, _, n)| (slug.clone(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        members(&figures.counts),
        members(&figures.evaluated),
        "the served counts are the rules' counts"
    );

    let raw_inserts = writes::raw_inserts(url, &tiny_load()).await.unwrap();
    assert!(raw_inserts.jobs > 0 && raw_inserts.failed_jobs == 0);

    let key = suite::issue_key(url).await.unwrap();
    let contacts = suite::generated_contacts(url).await.unwrap();
    let (base, _stop) = serve(url, site).await;
    let completions = suite::completion_load(&base, &tiny_load()).await;
    for r in [&completions.0, &completions.1] {
        assert!(r.jobs > 0, "{r:?}");
        assert_eq!(r.failed_jobs, 0, "{:?}", r.first_error);
    }
    let ingest = suite::ingest_load(&base, &key, contacts, &tiny_load()).await;
    // Refusals are part of the figure (the table counts them), not a
    // reason to stop here.
    assert!(ingest.0.jobs > 0, "{:?}", ingest.0.first_error);

    // Three samples are enough to show the step works end to end.
    let background = live::background_load(&tiny_load(), &completions.0);
    let live_count = live::measure(&base, url, 3, Some(background))
        .await
        .unwrap_or_else(|e| panic!("the live count on {name} is measured: {e}"));
    assert_eq!(live_count.idle.from_answer.samples, 3);
    assert_eq!(live_count.idle.from_sent.samples, 3);
    let (during, load) = live_count.loaded.as_ref().expect("timed under load too");
    assert!((1..=3).contains(&during.from_answer.samples), "{during:?}");
    assert!(load.jobs > 0, "{load:?}");
    assert_eq!(load.failed_jobs, 0, "{:?}", load.first_error);
    BackendRun {
        name,
        generated,
        segments: figures,
        raw_inserts,
        completions,
        ingest: Some(ingest),
        // The server shares this process here.
        peak_rss_kib: server::peak_rss_kib(std::process::id()),
        live: Ok(live_count),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_figure_of_the_suite_is_produced_at_a_tiny_size() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sqlite = backend_run("SQLite", &url, &site).await;
    assert!(sqlite.peak_rss_kib.is_some());

    let (base, _stop) = serve(&url, &site).await;
    let weight = suite::page_weight(&base).await.unwrap();
    assert!(weight.html > 1_000, "the quiz page renders");
    let page = suite::page_load(&base, &tiny_load()).await;
    assert!(
        page.0.jobs > 0 && page.0.failed_jobs == 0,
        "{:?}",
        page.0.first_error
    );
    let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_base = format!("http://{}", bare.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(bare, server::baseline_router(weight.html)).await });
    let baseline = suite::page_load(&bare_base, &tiny_load()).await;
    assert!(baseline.0.jobs > 0 && baseline.0.failed_jobs == 0);

    let postgres = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("qf_bench_smoke_{}", std::process::id());
            let url = suite::fresh_postgres_database(&admin, &name).await.unwrap();
            Some(backend_run("Postgres", &url, &site).await)
        }
        _ => None,
    };

    let run = SuiteRun {
        config: SuiteConfig {
            contacts: 200,
            events: 2_000,
            seed: 1,
            duration: tiny_load().duration,
            connections: 4,
            max_jobs: 200,
            work_dir: dir.path().into(),
            server_bin: suite::default_server_bin(),
            site_root: site,
            postgres_admin_url: None,
            progress: false,
        },
        page: PageFigures {
            page,
            baseline,
            weight,
        },
        site_built: false,
        sqlite,
        postgres,
        postgres_error: None,
    };
    let table = suite::render(&run);
    assert!(table.contains("public quiz page SSR"), "{table}");
    let page_alone = suite::render_page(&run.config, &run.page);
    assert!(
        page_alone.contains("| public quiz page SSR"),
        "{page_alone}"
    );
    assert!(page_alone.contains("**quiz page, open**"), "{page_alone}");
    for b in std::iter::once(&run.sqlite).chain(run.postgres.as_ref()) {
        let row = format!("| completion → SSE count update on {} ", b.name);
        let line = table.lines().find(|l| l.starts_with(&row));
        let line = line.unwrap_or_else(|| panic!("a live count row for {}: {table}", b.name));
        assert!(line.contains(" one at a time: p50 "), "{line}");
        assert!(
            line.ends_with("| yes |") || line.ends_with("| **no** |"),
            "{line}"
        );
        assert!(table.contains(&format!("**live count, {}, idle**", b.name)));
    }
}
