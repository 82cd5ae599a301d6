//! The `quizfunnel` command line (SPEC §5).

use crate::config::{DEFAULT_DATABASE_URL, ServeConfig};
use crate::error::StartupError;
use crate::{startup, store, telemetry};
use clap::{Parser, Subcommand};
use quizfunnel_app::state::{Clock, SessionPolicy};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "quizfunnel",
    version,
    about = "Quiz funnels with live behavioral segments"
)]
struct Cli {
    /// sqlite://path/to/file.db (the default) or postgres://user:password@host/db
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// Log filter, e.g. `info` or `quizfunnel_server=debug,info`
    #[arg(long, env = "QUIZFUNNEL_LOG", default_value = "info", global = true)]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the app
    Serve {
        /// Address to listen on
        #[arg(long, env = "QUIZFUNNEL_ADDR", default_value = "127.0.0.1:3000")]
        addr: String,
        /// Directory holding the built stylesheet and WebAssembly
        #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
        site_root: PathBuf,
        /// Sign admin users out after this many minutes without a request
        #[arg(long, env = "QUIZFUNNEL_IDLE_TIMEOUT_MINUTES", default_value_t = 30)]
        idle_timeout_minutes: i64,
        /// And after this many hours in any case
        #[arg(long, env = "QUIZFUNNEL_ABSOLUTE_TIMEOUT_HOURS", default_value_t = 12)]
        absolute_timeout_hours: i64,
        /// Mark the session cookie Secure (set when served over https)
        #[arg(long, env = "QUIZFUNNEL_SECURE_COOKIES")]
        secure_cookies: bool,
    },
    /// Apply database migrations to DATABASE_URL
    Migrate,
}

pub async fn run() -> Result<(), StartupError> {
    let cli = Cli::parse();
    telemetry::init(&cli.log);
    match cli.command {
        Command::Serve {
            addr,
            site_root,
            idle_timeout_minutes,
            absolute_timeout_hours,
            secure_cookies,
        } => {
            let config = ServeConfig {
                database_url: cli.database_url,
                addr,
                site_root,
                sessions: SessionPolicy {
                    idle_timeout_ms: idle_timeout_minutes.max(1) * 60_000,
                    absolute_timeout_ms: absolute_timeout_hours.max(1) * 3_600_000,
                    secure_cookie: secure_cookies,
                },
                clock: Clock::default(),
            };
            let app = startup::Application::build(config).await?;
            println!("quizfunnel is serving on http://{}", app.addr());
            app.run_until_stopped(startup::shutdown_signal()).await
        }
        Command::Migrate => {
            let store = store::SqlStore::connect(&cli.database_url).await?;
            store.migrate().await?;
            println!("migrations applied to {}", store.describe());
            Ok(())
        }
    }
}
