use super::StoreResult;
use crate::contact::ContactSummary;
use crate::rule::Rule;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub rule: Rule,
    /// Contacts in the segment: its stored memberships, kept current as
    /// contacts change, as time windows pass and (after a rule changes) as
    /// the rebuild goes.
    pub count: i64,
    pub updated_at: i64,
}

/// One step of the playbook: a segment and what happens to its contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub segment_id: i64,
    /// `fast_track`, `nurture`, `disqualify` or a custom label.
    pub next_step: String,
    /// The quiz outcome shown to contacts placed here, when set.
    pub outcome_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierSummary {
    pub segment: SegmentSummary,
    pub next_step: String,
    pub outcome_key: Option<String>,
    /// Contacts placed in this tier: matching it and no tier before it.
    pub placed: i64,
}

/// One stay of a contact in a segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stay {
    pub segment_slug: String,
    pub segment_name: String,
    pub contact_id: i64,
    pub entered_at: i64,
    /// `None` while the contact is still in the segment.
    pub exited_at: Option<i64>,
}

/// How far a segment's rebuild has come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rebuild {
    /// Contact ids gone through, of `total`.
    pub done: i64,
    pub total: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Why it stopped, when it failed.
    pub error: Option<String>,
}

impl Rebuild {
    /// Percent done, 0 to 100.
    pub fn percent(&self) -> i64 {
        if self.finished_at.is_some() && self.error.is_none() {
            return 100;
        }
        if self.total <= 0 {
            return 0;
        }
        (self.done.clamp(0, self.total) * 100) / self.total
    }
}

/// Segments, their counts and the tier playbook.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// `Conflict` when the slug is taken, or when a segment the rule names
    /// is gone (checked in the same transaction). Callers validate the rule
    /// first.
    async fn create_segment(
        &self,
        slug: &str,
        name: &str,
        description: &str,
        rule: &Rule,
        now: i64,
    ) -> StoreResult<i64>;

    /// Changes a segment's name, description and rule. `NotFound` when
    /// there is no such segment; `Conflict` when a segment the rule names
    /// is gone. Callers validate the rule first.
    async fn update_segment(
        &self,
        id: i64,
        name: &str,
        description: &str,
        rule: &Rule,
        now: i64,
    ) -> StoreResult<()>;

    /// One segment with its count.
    async fn segment(&self, id: i64) -> StoreResult<SegmentSummary>;

    /// Every segment with its count, by name.
    async fn segments(&self) -> StoreResult<Vec<SegmentSummary>>;

    /// How many contacts a rule matches at `now` (the builder's preview).
    async fn count_matching(&self, rule: &Rule, now: i64) -> StoreResult<i64>;

    /// What rules can ask about one contact, for explaining them: its
    /// attributes, quiz sessions, segment stays, and its events of these
    /// names only (a contact may have a very long history of others).
    async fn contact_facts(
        &self,
        contact_id: i64,
        event_names: &[String],
    ) -> StoreResult<crate::rule::ContactFacts>;

    /// Brings the stored stays in line with the rules at `now`: for one
    /// contact (after something about them changed) or for everyone (a
    /// rule changed, or time windows passed). Segments a rule refers to are
    /// brought up to date before the rules that use them.
    async fn sync_memberships(&self, contact: Option<i64>, now: i64) -> StoreResult<()>;

    /// The periodic catch-up, cheaper than syncing everyone: rules with
    /// time windows for everyone (time alone changes them), every rule
    /// for contacts with ids above `checked_up_to` (new since the last
    /// sweep; `never(..)` may hold for them). Everything else changes only
    /// through writes that re-check their contact at once. `0` syncs every
    /// rule for everyone. Returns the `checked_up_to` for the next sweep.
    async fn sweep_memberships(&self, checked_up_to: i64, now: i64) -> StoreResult<i64>;

    /// Marks a segment's rebuild as started, at 0%, so pages show it at
    /// once; [`SegmentStore::rebuild_segment`] then does the work.
    async fn begin_rebuild(&self, segment_id: i64, now: i64) -> StoreResult<()>;

    /// Brings one segment's stays (and those of segments using it) in line
    /// with its rule for everyone, a slice of contacts at a time, recording
    /// its progress for [`SegmentStore::rebuild_state`]. Until it is done,
    /// the stays of contacts not reached yet are those of the old rule.
    async fn rebuild_segment(&self, segment_id: i64, now: i64) -> StoreResult<()>;

    /// The latest rebuild of a segment, if it ever had one.
    async fn rebuild_state(&self, segment_id: i64) -> StoreResult<Option<Rebuild>>;

    /// A contact's stays, newest first.
    async fn contact_stays(&self, contact_id: i64) -> StoreResult<Vec<Stay>>;

    /// The latest entries to and exits from a segment, newest first.
    async fn segment_stays(&self, segment_id: i64, limit: u32) -> StoreResult<Vec<Stay>>;

    /// The rule of the segment with this slug.
    async fn segment_rule(&self, slug: &str) -> StoreResult<Option<Rule>>;

    /// Up to `limit` contacts a rule matches at `now`, by id, after the
    /// contact `after` (0 for the first page).
    async fn members_matching(
        &self,
        rule: &Rule,
        now: i64,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ContactSummary>>;

    /// Up to `limit` distinct names of the events stored, in order: what the
    /// rule builder offers for `event` and `never`.
    async fn event_names(&self, limit: u32) -> StoreResult<Vec<String>>;

    /// Up to `limit` distinct contact attribute keys in use, in order: what
    /// the rule builder offers for `attr`.
    async fn attribute_keys(&self, limit: u32) -> StoreResult<Vec<String>>;

    /// Replaces the playbook with these tiers, in this order.
    async fn set_playbook(&self, tiers: &[Tier]) -> StoreResult<()>;

    /// The playbook in order, each tier with the contacts it places.
    async fn playbook(&self, now: i64) -> StoreResult<Vec<TierSummary>>;

    /// The slugs of the playbook's segments, in order: what outcomes by
    /// tier may name.
    async fn tier_slugs(&self, now: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .playbook(now)
            .await?
            .into_iter()
            .map(|t| t.segment.slug)
            .collect())
    }

    /// Tiers holding fewer contacts than this are flagged as too small to
    /// act on or measure (30 until a marketer sets it).
    async fn small_tier(&self) -> StoreResult<i64>;

    async fn set_small_tier(&self, below: i64) -> StoreResult<()>;

    /// Deletes the segment with its stays, actions and their pending
    /// deliveries, counts and rebuilds, in one transaction; leads and
    /// placements keep the tier's name. `Conflict` while it is a tier or
    /// another segment's rule uses it, saying which.
    async fn delete_segment(&self, id: i64) -> StoreResult<()>;
}
