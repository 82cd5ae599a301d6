//! Settings from flags and the environment.

use quizfunnel_app::state::{Clock, SessionPolicy, SpamPolicy};
use std::path::PathBuf;

/// Where the database lives when DATABASE_URL is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/quizfunnel.db";

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub database_url: String,
    pub addr: String,
    /// The built site (stylesheet, WebAssembly) that cargo-leptos writes.
    pub site_root: PathBuf,
    pub sessions: SessionPolicy,
    pub spam: SpamPolicy,
    /// Public quiz posts allowed per address per minute (0: no limit).
    pub quiz_posts_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: quizfunnel::net::TrustedProxies,
    /// Tests move this clock forward instead of sleeping.
    pub clock: Clock,
    /// How often the retention job deletes idle anonymous visitors;
    /// `None` runs no job.
    pub retention_every: Option<std::time::Duration>,
    /// How long a stop waits for requests in flight, then again for
    /// background work in progress.
    pub shutdown_timeout: std::time::Duration,
}
