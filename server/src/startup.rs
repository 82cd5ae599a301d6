//! Building the HTTP application and running it until asked to stop.

use crate::config::ServeConfig;
use crate::error::StartupError;
use crate::http;
use crate::store::SqlStore;
use quizfunnel::contact::QuizView;
use quizfunnel::store::Store;
use quizfunnel_app::state::{AppContext, SpamPolicy, ViewQueue};
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: axum::Router,
    store: SqlStore,
    /// Turns true when the server begins to stop: background work and live
    /// streams end on it.
    stopping: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
    shutdown_timeout: Duration,
    /// How many membership sweeps have finished.
    sweeps_done: watch::Receiver<u64>,
}

impl Application {
    /// Connects, migrates and binds; nothing is served until
    /// [`Application::run_until_stopped`].
    pub async fn build(config: ServeConfig) -> Result<Self, StartupError> {
        let store = SqlStore::connect(&config.database_url).await?;
        store.migrate().await?;
        let spam = SpamPolicy {
            start_key: quiz_start_key(&store, &config.spam).await?,
            ..config.spam
        };
        store.listen();
        let changes = store.count_changes();
        let listener = bind(&config.addr).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartupError::Other(format!("cannot read the listening address: {e}")))?;
        let sql_store = store.clone();
        let store: Arc<dyn Store> = Arc::new(store);
        let (stopping, _) = watch::channel(false);
        let mut workers = Vec::new();
        if let Some(every) = config.retention_every {
            let (store, clock) = (store.clone(), config.clock.clone());
            workers.push(periodically(every, "retention", &stopping, move || {
                let (store, clock) = (store.clone(), clock.clone());
                async move {
                    let n = store.purge_stale_visitors(clock.now()).await?;
                    if n > 0 {
                        tracing::info!(deleted = n, "retention: deleted idle anonymous visitors");
                    }
                    Ok(())
                }
            }));
        }
        // Rules with time windows stop (or start) matching as time passes,
        // with nothing stored to say so: re-check them each minute. Every
        // rule for everyone once an hour (and at start) catches what a
        // failed per-contact re-check left behind.
        let (sweep_store, sweep_clock) = (store.clone(), config.clock.clone());
        let sweeps = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (swept, sweeps_done) = watch::channel(0u64);
        let swept = Arc::new(swept);
        let checked_up_to = Arc::new(std::sync::atomic::AtomicI64::new(0));
        workers.push(periodically(
            MEMBERSHIP_SWEEP,
            "segment membership sweep",
            &stopping,
            move || {
                let (store, clock) = (sweep_store.clone(), sweep_clock.clone());
                let (sweeps, checked_up_to) = (sweeps.clone(), checked_up_to.clone());
                let swept = swept.clone();
                async move {
                    use std::sync::atomic::Ordering::Relaxed;
                    let full = sweeps.fetch_add(1, Relaxed) % FULL_SWEEP_EVERY == 0;
                    let from = if full { 0 } else { checked_up_to.load(Relaxed) };
                    let reached = store.sweep_memberships(from, clock.now()).await;
                    swept.send_modify(|n| *n += 1);
                    checked_up_to.store(reached?, Relaxed);
                    store.record_daily_counts(TREND_DAYS, clock.now()).await
                }
            },
        ));
        let (outbox_store, outbox_clock) = (store.clone(), config.clock.clone());
        workers.push(periodically(
            OUTBOX_EVERY,
            "webhook outbox",
            &stopping,
            move || {
                let (store, clock) = (outbox_store.clone(), outbox_clock.clone());
                async move { crate::outbox::deliver_due(&store, &clock).await.map(|_| ()) }
            },
        ));
        if sql_store.is_postgres() {
            let counts_store = sql_store.clone();
            workers.push(periodically(
                crate::store::FOLD_COUNTS_EVERY,
                "count folding",
                &stopping,
                move || {
                    let store = counts_store.clone();
                    async move { store.fold_counts().await }
                },
            ));
        }
        let (views, queued) = ViewQueue::bounded(VIEW_QUEUE);
        workers.push(store_views(
            store.clone(),
            config.clock.clone(),
            queued,
            &stopping,
        ));
        let ctx = AppContext {
            store,
            clock: config.clock,
            sessions: config.sessions,
            spam,
            views,
        };
        let router = http::router(
            ctx,
            addr,
            &config.site_root,
            config.quiz_posts_per_minute,
            config.trusted_proxies,
            changes,
            stopping.subscribe(),
        );
        Ok(Self {
            listener,
            addr,
            router,
            store: sql_store,
            stopping,
            workers,
            shutdown_timeout: config.shutdown_timeout,
            sweeps_done,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Resolves once the sweep at start has finished (or failed). It syncs
    /// at the time it began, so work that moves time on must wait for it
    /// or race it.
    pub async fn first_sweep(&self) {
        let _ = self.sweeps_done.clone().wait_for(|n| *n > 0).await;
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets the
    /// requests in flight finish (for up to the shutdown timeout), lets the
    /// background work in progress (an outbox run recording what it sent)
    /// finish the same way, and closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        tracing::info!(addr = %self.addr, "serving");
        let stopping = self.stopping.clone();
        let signal = async move {
            shutdown.await;
            stopping.send_replace(true);
        };
        let serve = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .into_future();
        let mut stopped = self.stopping.subscribe();
        let limit = self.shutdown_timeout;
        let drain_deadline = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(limit).await;
        };
        tokio::select! {
            served = serve => {
                served.map_err(|e| StartupError::Other(format!("the server stopped: {e}")))?;
            }
            () = drain_deadline => {
                tracing::warn!(timeout = ?limit, "requests still open at the shutdown timeout were cut off");
            }
        }
        // A signal-less end (the listener failing) stops the workers too.
        self.stopping.send_replace(true);
        let workers = futures_util::future::join_all(self.workers);
        if tokio::time::timeout(limit, workers).await.is_err() {
            tracing::warn!(timeout = ?limit, "background work still running at the shutdown timeout was cut off");
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The key quiz pages sign their start time with, shared by every
/// instance on the database: the one this start drew, unless one is stored.
async fn quiz_start_key(store: &SqlStore, spam: &SpamPolicy) -> Result<[u8; 32], StartupError> {
    let fresh = quizfunnel::hex::encode(&spam.start_key);
    let stored = store
        .instance_key("quiz_start", &fresh)
        .await
        .map_err(|e| StartupError::Other(format!("cannot read the instance keys: {e}")))?;
    quizfunnel::hex::decode(&stored)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| {
            StartupError::Other(
                "the stored quiz_start key in instance_keys is damaged: delete that row to make a new one"
                    .into(),
            )
        })
}

/// Quiz views waiting to be stored; past this a page waits for room.
const VIEW_QUEUE: usize = 10_000;
/// At most this many views in one transaction. Room in a full queue comes
/// a batch at a time, so a page waiting for it waits up to one batch.
const VIEW_BATCH: usize = 500;

/// Stores queued quiz views, as many as have gathered per transaction.
/// When the server stops, the queue is closed (later views are stored at
/// once by their requests) and what is in it is stored before the end.
fn store_views(
    store: Arc<dyn Store>,
    clock: quizfunnel_app::state::Clock,
    mut queued: tokio::sync::mpsc::Receiver<QuizView>,
    stopping: &watch::Sender<bool>,
) -> JoinHandle<()> {
    let mut stopping = stopping.subscribe();
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(VIEW_BATCH);
        loop {
            tokio::select! {
                n = queued.recv_many(&mut batch, VIEW_BATCH) => if n == 0 { return },
                _ = stopping.wait_for(|s| *s) => break,
            }
            store_batch(&*store, &mut batch, clock.now()).await;
        }
        queued.close();
        while queued.recv_many(&mut batch, VIEW_BATCH).await > 0 {
            store_batch(&*store, &mut batch, clock.now()).await;
        }
    })
}

async fn store_batch(store: &dyn Store, batch: &mut Vec<QuizView>, now: i64) {
    if let Err(e) = store.record_quiz_views(batch, now).await {
        tracing::warn!(error = %e, views = batch.len(), "quiz views not counted");
    }
    batch.clear();
}

const MEMBERSHIP_SWEEP: Duration = Duration::from_secs(60);
/// Every this many sweeps, one syncs every rule for everyone.
const FULL_SWEEP_EVERY: u64 = 60;
/// The longest trend the dashboard draws.
const TREND_DAYS: u32 = 90;
/// Webhooks leave within about this long of the entry that fires them.
const OUTBOX_EVERY: Duration = Duration::from_secs(1);

/// Runs `work` now and then every `every` until the server stops; a
/// failure is logged and the work tried again next period. A run in
/// progress is never cut short by the stop, so what it did is recorded.
fn periodically<F, Fut>(
    every: Duration,
    what: &'static str,
    stopping: &watch::Sender<bool>,
    work: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), quizfunnel::store::StoreError>> + Send,
{
    let mut stopping = stopping.subscribe();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
            if let Err(e) = work().await {
                tracing::warn!(error = %e, "{what} failed; retrying next period");
            }
        }
    })
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
