//! What server functions reach through Leptos context.

use quizfunnel::account::{DEFAULT_ABSOLUTE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS};
use quizfunnel::contact::QuizView;
use quizfunnel::store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Handed to every page render and server function by the server.
#[derive(Clone)]
pub struct AppContext {
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    pub sessions: SessionPolicy,
    pub spam: SpamPolicy,
    pub views: ViewQueue,
}

/// Where quiz views wait to be stored in batches, off the page's path: a
/// first view then takes no turn at the database's writer. When the queue
/// is full the page waits for room, as a batch stores views far faster
/// than pages each storing their own would; without a queue (or once it
/// is closed) a view is stored at once.
#[derive(Clone, Default)]
pub struct ViewQueue(Option<tokio::sync::mpsc::Sender<QuizView>>);

impl ViewQueue {
    /// A queue holding up to `capacity` views, and its receiving end for
    /// whoever stores them.
    pub fn bounded(capacity: usize) -> (Self, tokio::sync::mpsc::Receiver<QuizView>) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity);
        (Self(Some(tx)), rx)
    }

    /// A view only loses a count if storing it fails, so that is logged,
    /// never the page's error.
    pub async fn record(&self, store: &dyn Store, view: QuizView, now: i64) {
        let view = match &self.0 {
            Some(queue) => match queue.send(view).await {
                Ok(()) => return,
                Err(tokio::sync::mpsc::error::SendError(view)) => view,
            },
            None => view,
        };
        if let Err(e) = store.record_quiz_views(&[view], now).await {
            tracing::warn!(error = %e, "quiz view not counted");
        }
    }
}

/// What makes a quiz completion look like a bot's.
#[derive(Clone, Copy)]
pub struct SpamPolicy {
    /// Completions faster than this after the first question was shown
    /// are asked again.
    pub min_quiz_ms: i64,
    /// Signs the time a first question was shown, so a post cannot date
    /// its start back; the server stores one for all its instances.
    pub start_key: [u8; 32],
}

impl std::fmt::Debug for SpamPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpamPolicy")
            .field("min_quiz_ms", &self.min_quiz_ms)
            .finish_non_exhaustive()
    }
}

impl Default for SpamPolicy {
    fn default() -> Self {
        use rand_core::{OsRng, RngCore};
        let mut start_key = [0u8; 32];
        OsRng.fill_bytes(&mut start_key);
        Self {
            min_quiz_ms: 3_000,
            start_key,
        }
    }
}

impl AppContext {
    pub fn get() -> Self {
        leptos::prelude::expect_context::<Self>()
    }
}

/// How long a session lasts, configurable per deployment.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_timeout_ms: i64,
    pub absolute_timeout_ms: i64,
    /// Mark cookies `Secure` (when served over https); quiz cookies then
    /// also reach quizzes embedded in other sites.
    pub secure_cookie: bool,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            absolute_timeout_ms: DEFAULT_ABSOLUTE_TIMEOUT_MS,
            secure_cookie: false,
        }
    }
}

/// Wall-clock milliseconds, with an offset tests can move forward instead
/// of sleeping through timeouts.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        wall + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn advance(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}
