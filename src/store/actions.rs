use super::StoreResult;
use crate::action::{NewAction, SegmentAction};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A webhook due now, with what its body says. The body is written when it
/// is sent, so an erased contact's data never leaves after the erasure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DueDelivery {
    pub id: i64,
    pub idempotency_key: String,
    pub url: String,
    pub secret: String,
    /// Tries so far, this one included.
    pub attempts: u32,
    pub give_up_at: i64,
    pub action: String,
    pub segment_slug: String,
    pub segment_name: String,
    /// The playbook's next step when the segment is a tier.
    pub next_step: Option<String>,
    pub contact_id: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub owner_email: Option<String>,
    pub tags: Vec<String>,
    pub entered_at: i64,
}

/// How one try went, and when to try again if it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryOutcome {
    pub delivered: bool,
    /// The receiver's HTTP status, when it answered.
    pub code: Option<u16>,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// `None` after a failure: give up.
    pub retry_at: Option<i64>,
}

/// One row of a segment's delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub contact_id: i64,
    pub contact_email: Option<String>,
    pub url: String,
    pub idempotency_key: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
}

/// The actions segments take on entry, and the webhook outbox.
#[async_trait]
pub trait ActionStore: Send + Sync {
    /// `NotFound` when there is no such segment. Callers check the action
    /// first; webhooks come with their signing secret.
    async fn add_action(
        &self,
        segment_id: i64,
        action: &NewAction,
        secret: Option<&str>,
        now: i64,
    ) -> StoreResult<i64>;

    /// Removes an action and its deliveries; removing one already gone
    /// changes nothing.
    async fn remove_action(&self, segment_id: i64, action_id: i64) -> StoreResult<()>;

    async fn actions(&self, segment_id: i64) -> StoreResult<Vec<SegmentAction>>;

    /// Takes up to `limit` deliveries due at `now` and holds them until
    /// `lease_until`, so no other worker or instance sends them meanwhile; a
    /// worker that dies holding them leaves them to be taken again then.
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>>;

    /// Records how a claimed delivery went.
    async fn finish_delivery(
        &self,
        id: i64,
        outcome: &DeliveryOutcome,
        now: i64,
    ) -> StoreResult<()>;

    /// A segment's latest deliveries, newest first.
    async fn deliveries(&self, segment_id: i64, limit: u32) -> StoreResult<Vec<Delivery>>;

    /// Sends a delivery again (same idempotency key) from now, with a fresh
    /// day of retries. `NotFound` when the segment has no such delivery.
    async fn resend_delivery(&self, segment_id: i64, id: i64, now: i64) -> StoreResult<()>;

    /// The contact's tags, and its owner's email when it has one.
    async fn contact_tags_and_owner(
        &self,
        contact_id: i64,
    ) -> StoreResult<(Vec<String>, Option<String>)>;

    async fn allow_private_webhooks(&self) -> StoreResult<bool>;

    async fn set_allow_private_webhooks(&self, allow: bool) -> StoreResult<()>;
}
