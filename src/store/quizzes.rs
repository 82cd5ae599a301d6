use super::StoreResult;
use crate::quiz::QuizDefinition;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One published version of a quiz, as respondents are given it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedQuiz {
    pub quiz_id: i64,
    pub version_id: i64,
    pub slug: String,
    pub definition: QuizDefinition,
}

/// Quizzes: drafts and their immutable published versions.
#[async_trait]
pub trait QuizStore: Send + Sync {
    /// Every quiz as (id, slug, title, status), newest first.
    async fn quiz_summaries(&self) -> StoreResult<Vec<(i64, String, String, String)>>;

    /// A new draft; `Conflict` when the slug is taken.
    async fn create_quiz(&self, slug: &str, draft: &QuizDefinition, now: i64) -> StoreResult<i64>;

    /// Freezes the current draft as the next version and serves it from now
    /// on. Callers validate the draft first.
    async fn publish_quiz(&self, quiz_id: i64, now: i64) -> StoreResult<PublishedQuiz>;

    /// The version respondents get at `/q/{slug}`, if the quiz is published.
    async fn published_quiz(&self, slug: &str) -> StoreResult<Option<PublishedQuiz>>;

    /// A version by id, published or since replaced: answers point to it.
    async fn quiz_version(&self, version_id: i64) -> StoreResult<PublishedQuiz>;

    /// The quiz id behind a slug, whatever its status.
    async fn quiz_id_by_slug(&self, slug: &str) -> StoreResult<Option<i64>>;
}
