use super::StoreResult;
use crate::contact::{
    ContactFilter, ContactList, ContactProfile, Erasure, Identified, Identify, IngestReport,
    ListCursor, NewEvent, QuizView, TimelinePage, TrackingSettings,
};
use crate::email::Email;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Contacts: anonymous visitors and identified people, with their events.
///
/// A contact has any number of visitor ids (one per browser it was seen
/// in); identifying a visitor by email moves its anonymous history onto the
/// contact with that email.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// The contact behind a first-party visitor id, created on first sight
    /// with the query parameters of that first visit (UTM and others) as
    /// its hidden fields. Follows the visitor to whatever contact it was
    /// stitched or merged into.
    async fn contact_for_visitor(
        &self,
        visitor_id: &str,
        first_visit_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<i64>;

    /// Stores quiz views in one transaction, each with its visitor's
    /// contact (made if new). A contact made before its view was stored
    /// (a first answer can beat it) still gets the view's query parameters
    /// when it has none.
    async fn record_quiz_views(&self, views: &[QuizView], now: i64) -> StoreResult<()>;

    /// Stores a batch of valid events (the `usize` is each one's index in
    /// the request) in one transaction: contacts are found or created for
    /// their visitor id or email; an event whose idempotency key was seen
    /// before counts as a duplicate; one naming a contact id that does not
    /// exist is rejected.
    async fn ingest_events(
        &self,
        events: &[(usize, NewEvent)],
        now: i64,
    ) -> StoreResult<IngestReport>;

    /// Upserts the contact with this email, sets its name, consent and
    /// attributes, and stitches the visitor id (if any) to it: an anonymous
    /// contact behind the visitor is merged in; a visitor last used by
    /// someone else's identified contact now points here (shared device),
    /// and that contact keeps its history. One transaction.
    async fn identify(&self, who: &Identify, now: i64) -> StoreResult<Identified>;

    /// Moves everything of `absorb` (events, quiz sessions and answers,
    /// segment stays, visitor ids, missing attributes, email if `keep` has
    /// none) onto `keep` and deletes `absorb`. One transaction.
    async fn merge_contacts(&self, keep: i64, absorb: i64, now: i64) -> StoreResult<()>;

    async fn contact_id_by_email(&self, email: &Email) -> StoreResult<Option<i64>>;

    /// The admin list: filtered, newest activity first, one page.
    async fn contacts(&self, filter: &ContactFilter) -> StoreResult<ContactList>;

    /// Everything about one contact except its events; `NotFound` if none.
    async fn contact(&self, id: i64) -> StoreResult<ContactProfile>;

    /// A contact's events, newest first, strictly older than `before`.
    async fn timeline(
        &self,
        contact_id: i64,
        before: Option<ListCursor>,
        limit: u32,
    ) -> StoreResult<TimelinePage>;

    /// Deletes the contact and everything stored about them, in one
    /// transaction; `NotFound` if there is no such contact.
    async fn erase_contact(&self, id: i64) -> StoreResult<Erasure>;

    async fn tracking_settings(&self) -> StoreResult<TrackingSettings>;

    async fn save_tracking_settings(
        &self,
        allowed_origins: &[String],
        retention_days: i64,
    ) -> StoreResult<TrackingSettings>;

    /// The retention job: deletes anonymous contacts (no email) not seen
    /// for the configured number of days before `now`. Returns how many.
    async fn purge_stale_visitors(&self, now: i64) -> StoreResult<u64>;
}
