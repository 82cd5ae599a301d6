//! Quizzes and their published versions.

use super::SqlStore;
use super::sql::{db_err, with_pool};
use async_trait::async_trait;
use quizfunnel::store::{QuizStore, StoreResult};

#[async_trait]
impl QuizStore for SqlStore {
    async fn quiz_summaries(&self) -> StoreResult<Vec<(i64, String, String, String)>> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT id, slug, title, status FROM quizzes ORDER BY created_at DESC, id DESC",
            )
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })
    }
}
