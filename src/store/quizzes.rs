use super::StoreResult;
use crate::quiz::QuizDefinition;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One published version of a quiz, as respondents are given it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedQuiz {
    pub quiz_id: i64,
    pub version_id: i64,
    pub slug: String,
    pub definition: QuizDefinition,
}

/// Where a quiz stands. A published quiz may have a draft with unpublished
/// changes; an archived one is served to nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuizStatus {
    Draft,
    Published,
    Archived,
}

impl QuizStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuizStatus::Draft => "draft",
            QuizStatus::Published => "published",
            QuizStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(QuizStatus::Draft),
            "published" => Some(QuizStatus::Published),
            "archived" => Some(QuizStatus::Archived),
            _ => None,
        }
    }
}

/// A row of the quiz list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub status: QuizStatus,
    /// The draft differs from the version respondents get.
    pub unpublished_changes: bool,
    /// Sessions started, on any version.
    pub responses: i64,
    /// Sessions finished.
    pub completions: i64,
    pub updated_at: i64,
}

impl QuizSummary {
    /// Completions per response, from 0 to 1; `None` before any response.
    pub fn completion_rate(&self) -> Option<f64> {
        (self.responses > 0).then(|| self.completions as f64 / self.responses as f64)
    }
}

/// A quiz as the builder edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizDraft {
    pub id: i64,
    pub slug: String,
    pub status: QuizStatus,
    pub draft: QuizDefinition,
    /// Moves on every save; a save names the revision it started from.
    pub draft_revision: i64,
    /// The number (1, 2, …) of the version respondents get, if any.
    pub published_version: Option<i64>,
    pub unpublished_changes: bool,
    pub updated_at: i64,
}

/// A row of a quiz's version history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizVersionSummary {
    /// 1, 2, … in the order published.
    pub version: i64,
    pub published_at: i64,
    pub title: String,
    pub questions: usize,
    /// Sessions started on this version, and those finished.
    pub responses: i64,
    pub completions: i64,
    /// Respondents get this version now.
    pub live: bool,
    /// The draft is this version as it was published.
    pub same_as_draft: bool,
}

/// Quizzes: drafts and their immutable published versions.
#[async_trait]
pub trait QuizStore: Send + Sync {
    /// Every quiz with its response counts, newest first.
    async fn quiz_summaries(&self) -> StoreResult<Vec<QuizSummary>>;

    /// A new draft; `Conflict` when the slug is taken.
    async fn create_quiz(&self, slug: &str, draft: &QuizDefinition, now: i64) -> StoreResult<i64>;

    /// Freezes the current draft as the next version and serves it from now
    /// on. Callers validate the draft first.
    async fn publish_quiz(&self, quiz_id: i64, now: i64) -> StoreResult<PublishedQuiz>;

    /// The version respondents get at `/q/{slug}`, if the quiz is published.
    /// Shared, as every visitor's page asks for it: copying the whole
    /// definition each time took about 5% of the server's time on the
    /// quiz page.
    async fn published_quiz(&self, slug: &str) -> StoreResult<Option<Arc<PublishedQuiz>>>;

    /// A version by id, published or since replaced: answers point to it.
    async fn quiz_version(&self, version_id: i64) -> StoreResult<PublishedQuiz>;

    /// The address now of the quiz that had `slug` before a rename, when
    /// no quiz has that address any more.
    async fn renamed_quiz(&self, slug: &str) -> StoreResult<Option<String>>;

    /// Every version ever published, of every quiz (archived ones too),
    /// newest first: answers given on any of them stay nameable in rules.
    async fn published_versions(&self) -> StoreResult<Vec<PublishedQuiz>>;

    /// The quiz id behind a slug, whatever its status.
    async fn quiz_id_by_slug(&self, slug: &str) -> StoreResult<Option<i64>>;

    /// The quiz as the builder edits it; `NotFound` when there is none.
    async fn quiz(&self, quiz_id: i64) -> StoreResult<QuizDraft>;

    /// Replaces the draft (and slug) if nobody saved since `expected_revision`
    /// and returns the new revision. `Conflict` when someone did, unless they
    /// saved exactly this, or when the slug belongs to another quiz. Saving
    /// what is already stored changes nothing, not even the revision.
    async fn save_draft(
        &self,
        quiz_id: i64,
        slug: &str,
        draft: &QuizDefinition,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<i64>;

    /// Publishes the draft if it is still at `expected_revision` (the one the
    /// caller validated); `Conflict` otherwise. Publishing a draft identical
    /// to the served version returns that version instead of a copy.
    async fn publish_draft(
        &self,
        quiz_id: i64,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<PublishedQuiz>;

    /// Puts the served version back as the draft if nobody saved since
    /// `expected_revision`, and returns the new revision: the changes since
    /// the last publish are dropped. `Conflict` when someone saved in
    /// between, or when the quiz was never published. A draft that is the
    /// served version already stays at its revision.
    async fn discard_draft(
        &self,
        quiz_id: i64,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<i64>;

    /// The quiz's published versions, newest first; empty for a quiz never
    /// published, `NotFound` for no quiz.
    async fn quiz_versions(&self, quiz_id: i64) -> StoreResult<Vec<QuizVersionSummary>>;

    /// Copies published version `version` into the draft, as
    /// `discard_draft` does the served one, with the same guard and
    /// return; `NotFound` when the quiz has no such version. Respondents
    /// keep the served version until the draft is published.
    async fn load_version(
        &self,
        quiz_id: i64,
        version: i64,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<i64>;

    /// Stops serving the quiz; its versions and answers stay.
    async fn archive_quiz(&self, quiz_id: i64, now: i64) -> StoreResult<()>;

    /// Undoes `archive_quiz`: published again if it had a version, else a draft.
    async fn restore_quiz(&self, quiz_id: i64, now: i64) -> StoreResult<()>;

    /// A new draft quiz with a copy of this one's draft, under a new slug and
    /// title; `Conflict` when the slug is taken.
    async fn duplicate_quiz(
        &self,
        quiz_id: i64,
        slug: &str,
        title: &str,
        now: i64,
    ) -> StoreResult<i64>;
}
