use super::StoreResult;
use async_trait::async_trait;

/// Quizzes and their published versions.
#[async_trait]
pub trait QuizStore: Send + Sync {
    /// Every quiz as (id, slug, title, status), newest first.
    async fn quiz_summaries(&self) -> StoreResult<Vec<(i64, String, String, String)>>;
}
