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

impl SpamPolicy {
    /// When a first question was shown, as the page carries it: the time
    /// and this key's signature over it, the quiz and the browser, so a
    /// post cannot date its start back or borrow another browser's.
    pub fn start_token(&self, quiz_id: i64, browser: &str, at: i64) -> String {
        use hmac::Mac;
        let signed = self.start_mac(quiz_id, browser, at).finalize().into_bytes();
        format!("{at}.{}", quizfunnel::hex::encode(&signed))
    }

    /// The time a token names, when this key signed it for this quiz and
    /// browser.
    pub fn start_from_token(&self, quiz_id: i64, browser: &str, token: &str) -> Option<i64> {
        use hmac::Mac;
        let (at, signature) = token.split_once('.')?;
        let at: i64 = at.parse().ok()?;
        let signature = quizfunnel::hex::decode(signature)?;
        // In constant time: how long a refusal takes says nothing.
        self.start_mac(quiz_id, browser, at)
            .verify_slice(&signature)
            .ok()
            .map(|()| at)
    }

    fn start_mac(&self, quiz_id: i64, browser: &str, at: i64) -> hmac::Hmac<sha2::Sha256> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.start_key)
            .expect("HMAC takes a key of any length");
        mac.update(format!("quiz-start:{quiz_id}:{browser}:{at}").as_bytes());
        mac
    }
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

#[cfg(test)]
mod tests {
    use super::SpamPolicy;

    #[test]
    fn a_start_token_names_its_time_only_for_its_quiz_browser_and_key() {
        let spam = SpamPolicy {
            start_key: [7u8; 32],
            ..Default::default()
        };
        let token = spam.start_token(3, "browser-a", 1_700_000_000_000);
        assert_eq!(
            spam.start_from_token(3, "browser-a", &token),
            Some(1_700_000_000_000)
        );
        assert_eq!(spam.start_from_token(4, "browser-a", &token), None);
        assert_eq!(spam.start_from_token(3, "browser-b", &token), None);
        let other = SpamPolicy {
            start_key: [8u8; 32],
            ..spam
        };
        assert_eq!(other.start_from_token(3, "browser-a", &token), None);
        let (_, signature) = token.split_once('.').unwrap();
        let earlier = format!("1600000000000.{signature}");
        assert_eq!(spam.start_from_token(3, "browser-a", &earlier), None);
        for damaged in ["", "1700000000000", "x.y", "1700000000000.", "1.é"] {
            assert_eq!(spam.start_from_token(3, "browser-a", damaged), None);
        }
    }
}
