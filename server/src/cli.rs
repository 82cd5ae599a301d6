//! The `quizfunnel` command line (SPEC §5).

use crate::config::{DEFAULT_DATABASE_URL, ServeConfig};
use crate::error::StartupError;
use crate::{accounts, startup, store, telemetry};
use clap::{Parser, Subcommand};
use quizfunnel::net::TrustedProxies;
use quizfunnel_app::state::AppContext;
use quizfunnel_app::state::{Clock, SessionPolicy, SpamPolicy};
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
        /// Mark cookies Secure, and let quizzes embedded in other sites keep
        /// theirs (set when served over https)
        #[arg(long, env = "QUIZFUNNEL_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Quiz completions faster than this many seconds are asked again
        #[arg(long, env = "QUIZFUNNEL_MIN_QUIZ_SECONDS", default_value_t = 3)]
        min_quiz_seconds: i64,
        /// Public quiz answers allowed per address per minute (0: no limit)
        #[arg(long, env = "QUIZFUNNEL_QUIZ_POSTS_PER_MINUTE", default_value_t = 120)]
        quiz_posts_per_minute: u32,
        /// Proxies or load balancers, as addresses or networks separated by
        /// commas (10.0.0.0/8,127.0.0.1), whose X-Forwarded-For names the
        /// client for the per-address limits
        #[arg(long, env = "QUIZFUNNEL_TRUSTED_PROXIES", default_value = "")]
        trusted_proxies: TrustedProxies,
        /// Run the retention job (deleting idle anonymous visitors) this often; 0 turns it off
        #[arg(long, env = "QUIZFUNNEL_RETENTION_EVERY_MINUTES", default_value_t = 60)]
        retention_every_minutes: u64,
        /// On SIGTERM or Ctrl-C, wait this long for requests in flight to finish
        #[arg(
            long,
            env = "QUIZFUNNEL_SHUTDOWN_TIMEOUT_SECONDS",
            default_value_t = 10
        )]
        shutdown_timeout_seconds: u64,
    },
    /// Apply database migrations to DATABASE_URL
    Migrate,
    /// Seed the demo: the published `growth` quiz and synthetic respondents
    Demo,
    /// Manage admin users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys for the ingestion API
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Copy the whole store to FILE while the server keeps running
    /// (SQLite: VACUUM INTO; Postgres: pg_dump, custom format)
    Backup { file: PathBuf },
    /// Restore a backup made by `quizfunnel backup` into an empty database
    Restore { file: PathBuf },
    /// Erase a contact and everything stored about them (events, answers,
    /// segment history), at once and for good
    Erase {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from stdin, or asked for at a terminal
    Create {
        #[arg(long)]
        email: String,
        /// owner, marketer or sales
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an API key and print it once
    Create {
        #[arg(long)]
        name: String,
    },
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
            min_quiz_seconds,
            quiz_posts_per_minute,
            trusted_proxies,
            retention_every_minutes,
            shutdown_timeout_seconds,
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
                spam: SpamPolicy {
                    min_quiz_ms: min_quiz_seconds.max(0) * 1000,
                    ..Default::default()
                },
                quiz_posts_per_minute,
                trusted_proxies,
                retention_every: (retention_every_minutes > 0)
                    .then(|| std::time::Duration::from_secs(retention_every_minutes * 60)),
                shutdown_timeout: std::time::Duration::from_secs(shutdown_timeout_seconds),
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
        Command::Demo => {
            let ctx = admin_context(&cli.database_url).await?;
            let seeded = crate::demo::seed(ctx.store.as_ref(), ctx.clock.now()).await?;
            if seeded.quiz_created {
                println!("published the demo quiz at /q/{}", crate::demo::DEMO_SLUG);
            }
            println!("{} demo respondents added", seeded.respondents_added);
            if seeded.playbook_created {
                println!("created the tier playbook: fast-track, nurture, disqualify");
            }
            if ctx.store.count_users().await.unwrap_or(0) == 0 {
                println!("no admin account yet: open /admin to create the owner");
            }
            Ok(())
        }
        Command::User {
            command: UserCommand::Create { email, role },
        } => {
            let ctx = admin_context(&cli.database_url).await?;
            let user = accounts::create_user(&ctx, &email, &role, read_password()?).await?;
            println!("created {} user {}", user.role, user.email);
            Ok(())
        }
        Command::Key {
            command: KeyCommand::Create { name },
        } => {
            let ctx = admin_context(&cli.database_url).await?;
            let key = accounts::create_key(&ctx, &name).await?;
            println!("{key}");
            eprintln!("API key \"{name}\" created. Copy it now: it is not shown again.");
            Ok(())
        }
        Command::Backup { file } => {
            let summary = crate::backup::backup(&cli.database_url, &file).await?;
            println!("backed up to {summary}");
            Ok(())
        }
        Command::Restore { file } => {
            let summary = crate::backup::restore(&cli.database_url, &file).await?;
            println!("restored {summary}");
            Ok(())
        }
        Command::Erase { email } => {
            let ctx = admin_context(&cli.database_url).await?;
            let erased = accounts::erase_contact(&ctx, &email).await?;
            println!(
                "erased contact #{}: {}",
                erased.contact_id,
                erased.audit_detail()
            );
            Ok(())
        }
    }
}

/// The store behind DATABASE_URL, migrated, for one-off commands.
async fn admin_context(database_url: &str) -> Result<AppContext, StartupError> {
    let store = store::SqlStore::connect(database_url).await?;
    store.migrate().await?;
    Ok(AppContext {
        store: std::sync::Arc::new(store),
        clock: Clock::default(),
        sessions: SessionPolicy::default(),
        spam: SpamPolicy::default(),
        views: Default::default(),
    })
}

fn read_password() -> Result<String, StartupError> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    }
    .map_err(|e| StartupError::Other(format!("cannot read the password: {e}")))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}
