use super::StoreResult;
use crate::lead::{Lead, LeadChange, LeadFilter, LeadStatus};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A tier as the lead lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTier {
    pub slug: String,
    pub name: String,
    pub leads: i64,
}

/// The sales lead lists, each lead's status and owner, and their history.
#[async_trait]
pub trait LeadStore: Send + Sync {
    /// Up to `limit` leads of the view, in its order, after its cursor;
    /// `me` is whose "my leads" are.
    async fn leads(&self, filter: &LeadFilter, me: i64, limit: u32) -> StoreResult<Vec<Lead>>;

    /// The tiers leads are in: the playbook's in its order, then any no
    /// longer in it, each with its number of leads.
    async fn lead_tiers(&self) -> StoreResult<Vec<LeadTier>>;

    /// The contact as a lead, if a completion placed it in a tier.
    async fn lead(&self, contact_id: i64) -> StoreResult<Option<Lead>>;

    /// Status and owner changes, newest first.
    async fn lead_history(&self, contact_id: i64) -> StoreResult<Vec<LeadChange>>;

    /// `NotFound` when the contact is not a lead.
    async fn set_lead_status(
        &self,
        contact_id: i64,
        status: LeadStatus,
        note: &str,
        actor: i64,
        now: i64,
    ) -> StoreResult<()>;

    /// Gives the contact to `owner` (an active user; callers check), or to
    /// nobody. `NotFound` when there is no such contact.
    async fn set_lead_owner(
        &self,
        contact_id: i64,
        owner: Option<i64>,
        note: &str,
        actor: i64,
        now: i64,
    ) -> StoreResult<()>;
}
