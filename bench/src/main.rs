//! `quizfunnel-bench`: generate data, or run the suite and print its table.

use clap::{Args, Parser, Subcommand, ValueEnum};
use quizfunnel_bench::generate::{self, Plan};
use quizfunnel_bench::suite::{self, SuiteConfig};
use quizfunnel_bench::{BenchResult, now_ms, server};
use quizfunnel_bench::{report, segments};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "quizfunnel-bench",
    about = "The quizfunnel benchmark (SPEC §7)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Size {
    /// 20,000 contacts, 200,000 events, 5 s per load run
    Small,
    /// 1,000,000 contacts, 10,000,000 events, 15 s per load run
    Full,
}

/// The server under load, and where its files go.
#[derive(Debug, Args)]
struct Served {
    /// Where the server's log (and the suite's SQLite database) goes
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// The `quizfunnel` binary (default: beside this one)
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The built site (`cargo leptos build --release`)
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: PathBuf,
}

impl Served {
    /// The server binary, which must exist.
    fn server_bin(&self) -> BenchResult<PathBuf> {
        let bin = self
            .server_bin
            .clone()
            .unwrap_or_else(suite::default_server_bin);
        suite::require_file(&bin, "the quizfunnel binary")?;
        Ok(bin)
    }
}

/// One load, on a data set `generate` wrote.
#[derive(Debug, Args)]
struct OneLoad {
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Seconds per load run (closed, then open loop)
    #[arg(long, default_value_t = 15)]
    duration: u64,
    #[arg(long, default_value_t = 50)]
    connections: usize,
    #[command(flatten)]
    served: Served,
}

impl OneLoad {
    /// The suite's settings for this load, and the database it runs on.
    fn config(self) -> BenchResult<(SuiteConfig, String)> {
        let config = SuiteConfig {
            contacts: 0,
            events: 0,
            seed: 0,
            duration: Duration::from_secs(self.duration),
            connections: self.connections,
            max_jobs: u64::MAX,
            server_bin: self.served.server_bin()?,
            work_dir: self.served.work_dir,
            site_root: self.served.site_root,
            postgres_admin_url: None,
            progress: true,
        };
        Ok((config, self.database_url))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write generated contacts, quiz sessions and events into a database
    Generate {
        /// sqlite://path or postgres://…; migrated first
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[arg(long, default_value_t = 1_000_000)]
        contacts: u64,
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Only the segment figures, on a data set `generate` wrote (it adds a
    /// segment, so use a copy to measure twice)
    Segments {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
    /// Only the quiz page and its baseline, on a data set `generate` wrote
    /// (each run adds the visitors it makes: give each server compared a
    /// copy)
    Page(OneLoad),
    /// Only the completions load, on a data set `generate` wrote (each run
    /// adds the respondents it makes: give each server compared a copy)
    Completions(OneLoad),
    /// Generate, measure every figure against its baseline, print the table
    Suite {
        #[arg(long, value_enum, default_value_t = Size::Small)]
        size: Size,
        /// Overrides the size's contacts
        #[arg(long)]
        contacts: Option<u64>,
        /// Overrides the size's events
        #[arg(long)]
        events: Option<u64>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds per load run (each scenario runs closed, then open loop)
        #[arg(long)]
        duration: Option<u64>,
        #[arg(long, default_value_t = 50)]
        connections: usize,
        /// Stop a load run after this many jobs even if time is left
        #[arg(long, default_value_t = 2_000_000)]
        max_jobs: u64,
        #[command(flatten)]
        served: Served,
        /// A Postgres URL that may create databases; the Postgres rows need it
        #[arg(long, env = "BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// The baseline server (started by the suite)
    #[command(hide = true)]
    BaselineServer {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        bytes: usize,
    },
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("quizfunnel-bench: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> BenchResult<()> {
    match cli.command {
        Command::Generate {
            database_url,
            contacts,
            events,
            seed,
        } => {
            let plan = Plan {
                contacts,
                events,
                seed,
                progress: true,
            };
            let g = generate::generate(&database_url, &plan, now_ms()).await?;
            println!(
                "{} contacts, {} events, {} quiz sessions ({} completed): {} rows in {:.1} s",
                g.contacts,
                g.events,
                g.sessions,
                g.completed,
                g.rows,
                g.elapsed.as_secs_f64()
            );
        }
        Command::Segments { database_url } => {
            quizfunnel_server::store::SqlStore::connect(&database_url)
                .await?
                .migrate()
                .await?;
            let f = segments::measure(&database_url, now_ms()).await?;
            println!("{f:#?}");
        }
        Command::Page(load) => {
            let (config, database_url) = load.config()?;
            let figures = suite::page_only(&config, &database_url).await?;
            println!("{}", suite::render_page(&config, &figures));
        }
        Command::Completions(load) => {
            let (config, database_url) = load.config()?;
            let (closed, open) = suite::completions_only(&config, &database_url).await?;
            println!("{}", report::describe("completions, closed", &closed));
            println!("{}", report::describe("completions, open", &open));
        }
        Command::Suite {
            size,
            contacts,
            events,
            seed,
            duration,
            connections,
            max_jobs,
            served,
            postgres_url,
        } => {
            let (c, e, d) = match size {
                Size::Small => (20_000, 200_000, 5),
                Size::Full => (1_000_000, 10_000_000, 15),
            };
            let config = SuiteConfig {
                contacts: contacts.unwrap_or(c),
                events: events.unwrap_or(e),
                seed,
                duration: Duration::from_secs(duration.unwrap_or(d)),
                connections,
                max_jobs,
                server_bin: served.server_bin()?,
                work_dir: served.work_dir,
                site_root: served.site_root,
                postgres_admin_url: postgres_url.filter(|u| !u.is_empty()),
                progress: true,
            };
            let run = suite::run(config).await?;
            println!("{}", suite::render(&run));
        }
        Command::BaselineServer { addr, bytes } => server::serve_baseline(addr, bytes).await?,
    }
    Ok(())
}
