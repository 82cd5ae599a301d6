//! Contacts, identity and events.

use super::SqlStore;
use super::sql::{db_err, with_pool};
use async_trait::async_trait;
use quizfunnel::store::{ContactStore, StoreResult};
use std::collections::BTreeMap;

#[async_trait]
impl ContactStore for SqlStore {
    async fn contact_for_visitor(
        &self,
        visitor_id: &str,
        first_visit_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<i64> {
        let fields = serde_json::to_string(first_visit_fields).unwrap_or_else(|_| "{}".into());
        // Insert-or-touch in one statement, so two first requests racing
        // from the same browser end up on one contact.
        with_pool!(self.db(), write, |pool| {
            sqlx::query_scalar(
                "INSERT INTO contacts (visitor_id, hidden_fields, first_seen, last_seen) \
                 VALUES ($1, $2, $3, $3) \
                 ON CONFLICT (visitor_id) DO UPDATE SET last_seen = excluded.last_seen \
                 RETURNING id",
            )
            .bind(visitor_id)
            .bind(&fields)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(db_err)
        })
    }
}
