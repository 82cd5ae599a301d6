use super::StoreResult;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The counts the dashboard shows and pushes as they change, read from
/// counts the database keeps (never counted per request).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveCounts {
    /// The playbook's tiers in order.
    pub tiers: Vec<TierCount>,
    /// Every segment, by name.
    pub segments: Vec<SegmentCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierCount {
    pub segment_id: i64,
    pub slug: String,
    pub name: String,
    pub next_step: String,
    /// Contacts whose latest completion placed them here.
    pub leads: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentCount {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub members: i64,
    /// Percent done while its memberships are being rebuilt.
    pub rebuilding: Option<i64>,
}

/// A tier's members at the end of each day, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub slug: String,
    pub name: String,
    /// (the day's first millisecond, UTC; members at its end, or now for today)
    pub days: Vec<(i64, i64)>,
}

/// Where a quiz's respondents got to, in the order they go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    /// Visitors who opened the quiz (each counted once).
    pub views: i64,
    /// Respondents who answered at least one question.
    pub starts: i64,
    /// Each question in the quiz's order: how many reached it (answered it
    /// or stopped there) and how many stopped there. A question a branch
    /// skipped is neither.
    pub questions: Vec<FunnelQuestion>,
    pub completions: i64,
    /// Completions whose contact gave an email.
    pub captured: i64,
    /// Completions per tier they were placed in, by tier slug.
    pub tiers: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelQuestion {
    pub key: String,
    pub reached: i64,
    pub stopped: i64,
}

/// Which respondents a funnel counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunnelFilter {
    /// Sessions started from (inclusive) and until (inclusive), UTC ms.
    pub from: Option<i64>,
    pub until: Option<i64>,
    /// Only respondents whose first visit came with this `utm_source`.
    pub utm_source: Option<String>,
}

/// A funnel's "stopped" count at one question, in sessions and people.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoppedHere {
    pub sessions: i64,
    pub people: i64,
}

#[async_trait]
pub trait DashboardStore: Send + Sync {
    async fn live_counts(&self) -> StoreResult<LiveCounts>;

    /// Fills in each segment's end-of-day counts for the last `days` days
    /// that are missing (from the stays' history) and today's (now).
    async fn record_daily_counts(&self, days: u32, now: i64) -> StoreResult<()>;

    /// Each tier's daily counts over the last `days` days, today included.
    async fn tier_trends(&self, days: u32, now: i64) -> StoreResult<Vec<Trend>>;

    /// How many unfinished sessions a funnel's "stopped" count counted at
    /// one question, and by how many people: the contact list of a stop
    /// shows each person once.
    async fn stopped_here(&self, stop: &crate::contact::StoppedAt) -> StoreResult<StoppedHere>;

    /// The funnel of the quiz with this slug, its questions in `order`.
    async fn funnel(
        &self,
        quiz_slug: &str,
        order: &[String],
        filter: &FunnelFilter,
    ) -> StoreResult<Funnel>;
}
