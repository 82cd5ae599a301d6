//! Quizzes and their published versions.

use super::SqlStore;
use super::sql::{conflict_as, db_err, with_pool};
use async_trait::async_trait;
use quizfunnel::quiz::QuizDefinition;
use quizfunnel::store::{PublishedQuiz, QuizStore, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct VersionRow {
    quiz_id: i64,
    version_id: i64,
    slug: String,
    definition: String,
}

impl VersionRow {
    fn into_published(self) -> StoreResult<PublishedQuiz> {
        let definition: QuizDefinition = serde_json::from_str(&self.definition).map_err(|e| {
            StoreError::Internal(format!("stored quiz version {}: {e}", self.version_id))
        })?;
        Ok(PublishedQuiz {
            quiz_id: self.quiz_id,
            version_id: self.version_id,
            slug: self.slug,
            definition,
        })
    }
}

const VERSION_SELECT: &str = "SELECT q.id AS quiz_id, v.id AS version_id, q.slug, v.definition \
     FROM quiz_versions v JOIN quizzes q ON q.id = v.quiz_id";

fn to_json(def: &QuizDefinition) -> StoreResult<String> {
    serde_json::to_string(def).map_err(|e| StoreError::Internal(e.to_string()))
}

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

    async fn create_quiz(&self, slug: &str, draft: &QuizDefinition, now: i64) -> StoreResult<i64> {
        let json = to_json(draft)?;
        with_pool!(self.db(), write, |pool| {
            sqlx::query_scalar(
                "INSERT INTO quizzes (slug, title, status, draft, draft_revision, created_at, updated_at) \
                 VALUES ($1, $2, 'draft', $3, 1, $4, $4) RETURNING id",
            )
            .bind(slug)
            .bind(&draft.title)
            .bind(&json)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(conflict_as("another quiz uses that slug"))
        })
    }

    async fn publish_quiz(&self, quiz_id: i64, now: i64) -> StoreResult<PublishedQuiz> {
        let version_id: i64 = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin().await.map_err(db_err)?;
            let version_id: i64 = sqlx::query_scalar(
                "INSERT INTO quiz_versions (quiz_id, version, definition, published_at) \
                 SELECT id, COALESCE((SELECT max(version) FROM quiz_versions WHERE quiz_id = $1), 0) + 1, draft, $2 \
                 FROM quizzes WHERE id = $1 RETURNING id",
            )
            .bind(quiz_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            sqlx::query(
                "UPDATE quizzes SET status = 'published', published_version_id = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(version_id)
            .bind(now)
            .bind(quiz_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(version_id)
        })?;
        self.quiz_version(version_id).await
    }

    async fn published_quiz(&self, slug: &str) -> StoreResult<Option<PublishedQuiz>> {
        let sql = format!(
            "{VERSION_SELECT} WHERE q.slug = $1 AND q.status = 'published' AND v.id = q.published_version_id"
        );
        let row: Option<VersionRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(slug)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(VersionRow::into_published).transpose()
    }

    async fn quiz_version(&self, version_id: i64) -> StoreResult<PublishedQuiz> {
        let sql = format!("{VERSION_SELECT} WHERE v.id = $1");
        let row: VersionRow = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(version_id)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        row.into_published()
    }

    async fn quiz_id_by_slug(&self, slug: &str) -> StoreResult<Option<i64>> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT id FROM quizzes WHERE slug = $1")
                .bind(slug)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })
    }
}
