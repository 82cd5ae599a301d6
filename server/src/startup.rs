//! Building the HTTP application and running it until asked to stop.

use crate::config::ServeConfig;
use crate::error::StartupError;
use crate::http;
use crate::store::SqlStore;
use quizfunnel::store::Store;
use quizfunnel_app::state::{AppContext, Clock};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: axum::Router,
}

impl Application {
    /// Connects, migrates and binds; nothing is served until
    /// [`Application::run_until_stopped`].
    pub async fn build(config: ServeConfig) -> Result<Self, StartupError> {
        let store = SqlStore::connect(&config.database_url).await?;
        store.migrate().await?;
        let listener = bind(&config.addr).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartupError::Other(format!("cannot read the listening address: {e}")))?;
        let store: Arc<dyn Store> = Arc::new(store);
        if let Some(every) = config.retention_every {
            tokio::spawn(retention_job(store.clone(), config.clock.clone(), every));
        }
        let ctx = AppContext {
            store,
            clock: config.clock,
            sessions: config.sessions,
            spam: config.spam,
        };
        let router = http::router(ctx, addr, &config.site_root, config.quiz_posts_per_minute);
        Ok(Self {
            listener,
            addr,
            router,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        tracing::info!(addr = %self.addr, "serving");
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| StartupError::Other(format!("the server stopped: {e}")))?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Deletes anonymous visitors idle past the retention setting, now and then
/// every `every`. The work is the store's; this only keeps time.
async fn retention_job(store: Arc<dyn Store>, clock: Clock, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.purge_stale_visitors(clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "retention: deleted idle anonymous visitors"),
            Err(e) => tracing::warn!(error = %e, "retention job failed; retrying next period"),
        }
    }
}

async fn bind(addr: &str) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => StartupError::AddrInUse {
            addr: addr.to_string(),
        },
        _ => StartupError::Bind {
            addr: addr.to_string(),
            reason: e.to_string(),
        },
    })
}

/// Resolves on Ctrl-C or SIGTERM, so requests in flight can finish.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
