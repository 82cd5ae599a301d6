//! The storage interface. `app` talks to this trait; the server crate
//! implements it once per database.

mod accounts;
mod actions;
mod contacts;
mod dashboard;
mod leads;
mod quizzes;
mod responses;
mod segments;

pub use accounts::AccountStore;
pub use actions::{ActionStore, Delivery, DeliveryOutcome, DueDelivery};
pub use contacts::ContactStore;
pub use dashboard::{
    DashboardStore, Funnel, FunnelFilter, FunnelQuestion, LiveCounts, SegmentCount, StoppedHere,
    TierCount, Trend,
};
pub use leads::{LeadStore, LeadTier};
pub use quizzes::{
    PublishedQuiz, QuizDraft, QuizStatus, QuizStore, QuizSummary, QuizVersionSummary,
};
pub use responses::{AnsweredStep, Placement, QuizSession, ResponseStore};
pub use segments::{Rebuild, SegmentStore, SegmentSummary, Stay, Tier, TierSummary};

use async_trait::async_trait;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the message names what clashed.
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// Anything the caller cannot act on; logged, never shown verbatim.
    #[error("storage failure: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Why the store is not ready to serve, when it is not.
pub type Readiness = Result<(), String>;

/// Everything the app keeps. One supertrait per area, each in a file of
/// its own here and implemented in a file of its own in the server.
#[async_trait]
pub trait Store:
    AccountStore
    + ActionStore
    + ContactStore
    + DashboardStore
    + LeadStore
    + QuizStore
    + ResponseStore
    + SegmentStore
    + Send
    + Sync
    + 'static
{
    /// Which database this is, for logs and the readiness answer.
    fn backend(&self) -> &'static str;

    /// The database answers and every migration is applied.
    async fn readiness(&self) -> Readiness;
}
