use super::StoreResult;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Contacts: anonymous visitors and identified people, with their events.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// The contact behind a first-party visitor id, created on first sight
    /// with the query parameters of that first visit (UTM and others) as
    /// its hidden fields.
    async fn contact_for_visitor(
        &self,
        visitor_id: &str,
        first_visit_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<i64>;
}
