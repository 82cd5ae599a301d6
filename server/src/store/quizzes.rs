//! Quizzes and their published versions.

use super::SqlStore;
use super::sql::{BeginWrite, conflict_as, db_err, with_pool};
use async_trait::async_trait;
use quizfunnel::quiz::QuizDefinition;
use quizfunnel::store::{
    PublishedQuiz, QuizDraft, QuizStatus, QuizStore, QuizSummary, QuizVersionSummary, StoreError,
    StoreResult,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long another instance's publish or archive may take to reach this
/// one's pages: the page read by every visitor is served from memory
/// meanwhile. A change made through this instance reaches it at once.
const PUBLISHED_FOR: Duration = Duration::from_secs(1);

/// Published quizzes by slug, as last read.
#[derive(Clone, Default)]
pub(super) struct PublishedCache(Arc<PublishedInner>);

#[derive(Default)]
pub(super) struct PublishedInner {
    /// Moves on every change made here (under the map's lock, which
    /// empties), so a read that began before a change cannot keep what it
    /// read once the change is done.
    generation: AtomicU64,
    quizzes: Mutex<HashMap<String, (Instant, Arc<PublishedQuiz>)>>,
}

impl std::fmt::Debug for PublishedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublishedCache")
    }
}

impl PublishedCache {
    /// Taken before reading the database; see [`Self::put`].
    fn read_at(&self) -> u64 {
        self.0.generation.load(Ordering::Acquire)
    }

    fn get(&self, slug: &str) -> Option<Arc<PublishedQuiz>> {
        let quizzes = self.0.quizzes.lock().unwrap_or_else(|e| e.into_inner());
        quizzes
            .get(slug)
            .filter(|(at, _)| at.elapsed() < PUBLISHED_FOR)
            .map(|(_, quiz)| quiz.clone())
    }

    /// Keeps what a read begun at `generation` found, unless a change was
    /// made here since. Only published quizzes are kept, so the map holds
    /// no more slugs than there are quizzes, whatever visitors ask for.
    fn put(&self, quiz: &Arc<PublishedQuiz>, generation: u64) {
        let mut quizzes = self.0.quizzes.lock().unwrap_or_else(|e| e.into_inner());
        if self.read_at() == generation {
            quizzes.insert(quiz.slug.clone(), (Instant::now(), quiz.clone()));
        }
    }

    fn changed(&self) {
        let mut quizzes = self.0.quizzes.lock().unwrap_or_else(|e| e.into_inner());
        self.0.generation.fetch_add(1, Ordering::AcqRel);
        quizzes.clear();
    }
}

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

fn from_json(quiz_id: i64, json: &str) -> StoreResult<QuizDefinition> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Internal(format!("stored draft of quiz {quiz_id}: {e}")))
}

fn status(s: &str) -> StoreResult<QuizStatus> {
    QuizStatus::parse(s).ok_or_else(|| StoreError::Internal(format!("unknown quiz status {s:?}")))
}

const SLUG_TAKEN: &str = "another quiz uses that slug";
const SAVED_BY_SOMEONE_ELSE: &str = "this quiz was changed since you opened it; reload to see the latest version, then make your edits again";
const DISCARD_AFTER_SOMEONE_ELSE: &str =
    "this quiz was changed since you opened it; reload to see the latest version before discarding";
const LOAD_AFTER_SOMEONE_ELSE: &str = "this quiz was changed since you opened it; reload to see the latest version before loading another";

/// Whether the draft differs from the served version, as 0 or 1 on both
/// databases (`q` is the quiz, `v` its published version).
const UNPUBLISHED_CHANGES: &str =
    "CAST(CASE WHEN v.id IS NOT NULL AND v.definition <> q.draft THEN 1 ELSE 0 END AS BIGINT)";

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    slug: String,
    title: String,
    status: String,
    unpublished_changes: i64,
    responses: i64,
    completions: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct DraftRow {
    id: i64,
    slug: String,
    status: String,
    draft: String,
    draft_revision: i64,
    published_version: Option<i64>,
    unpublished_changes: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct PublishRow {
    draft: String,
    draft_revision: i64,
    published_version_id: Option<i64>,
    published_definition: Option<String>,
}

/// Serves a version (`$1`) as the quiz's (`$3`) public one, as of `$2`.
const SERVE_VERSION: &str = "UPDATE quizzes SET status = 'published', published_version_id = $1, updated_at = $2 WHERE id = $3";

impl SqlStore {
    /// Puts a published version back as the draft: `version`, or the
    /// served one for `None`. Guarded by the revision the caller saw, so a
    /// save made since is never dropped unseen.
    async fn draft_from(
        &self,
        quiz_id: i64,
        version: Option<i64>,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<i64> {
        let changed_since = if version.is_some() {
            LOAD_AFTER_SOMEONE_ELSE
        } else {
            DISCARD_AFTER_SOMEONE_ELSE
        };
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let (revision, draft, source): (i64, String, Option<String>) = sqlx::query_as(
                "SELECT q.draft_revision, q.draft, v.definition FROM quizzes q \
                 LEFT JOIN quiz_versions v ON v.quiz_id = q.id \
                 AND CASE WHEN $2 IS NULL THEN v.id = q.published_version_id ELSE v.version = $2 END \
                 WHERE q.id = $1",
            )
            .bind(quiz_id)
            .bind(version)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            if revision != expected_revision {
                return Err(StoreError::Conflict(changed_since.into()));
            }
            let Some(source) = source else {
                return Err(match version {
                    Some(_) => StoreError::NotFound,
                    None => StoreError::Conflict(
                        "this quiz has no published version to go back to".into(),
                    ),
                });
            };
            // Nothing to change: like a save of what is stored, this
            // changes nothing, not even the revision.
            if draft == source {
                return Ok(revision);
            }
            let title = from_json(quiz_id, &source)?.title;
            // Guarded again: on Postgres a save may commit between the read
            // above and this write, and would be lost.
            let revision: i64 = sqlx::query_scalar(
                "UPDATE quizzes SET draft = $1, title = $2, draft_revision = draft_revision + 1, \
                 updated_at = $3 WHERE id = $4 AND draft_revision = $5 RETURNING draft_revision",
            )
            .bind(&source)
            .bind(&title)
            .bind(now)
            .bind(quiz_id)
            .bind(expected_revision)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or_else(|| StoreError::Conflict(changed_since.into()))?;
            tx.commit().await.map_err(db_err)?;
            Ok(revision)
        })
    }
}

#[derive(sqlx::FromRow)]
struct VersionHistoryRow {
    version: i64,
    published_at: i64,
    definition: String,
    live: i64,
    same_as_draft: i64,
    responses: i64,
    completions: i64,
}

#[async_trait]
impl QuizStore for SqlStore {
    async fn quiz_summaries(&self) -> StoreResult<Vec<QuizSummary>> {
        let sql = format!(
            "SELECT q.id, q.slug, q.title, q.status, {UNPUBLISHED_CHANGES} AS unpublished_changes, \
             COALESCE(s.responses, 0) AS responses, COALESCE(s.completions, 0) AS completions, q.updated_at \
             FROM quizzes q LEFT JOIN quiz_versions v ON v.id = q.published_version_id \
             LEFT JOIN (SELECT quiz_id, count(*) AS responses, count(completed_at) AS completions \
                        FROM quiz_sessions GROUP BY quiz_id) s ON s.quiz_id = q.id \
             ORDER BY q.created_at DESC, q.id DESC"
        );
        let rows: Vec<SummaryRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql).fetch_all(pool).await.map_err(db_err)
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(QuizSummary {
                    id: r.id,
                    slug: r.slug,
                    title: r.title,
                    status: status(&r.status)?,
                    unpublished_changes: r.unpublished_changes != 0,
                    responses: r.responses,
                    completions: r.completions,
                    updated_at: r.updated_at,
                })
            })
            .collect()
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
            .map_err(conflict_as(SLUG_TAKEN))
        })
    }

    async fn publish_quiz(&self, quiz_id: i64, now: i64) -> StoreResult<PublishedQuiz> {
        let version_id: i64 = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
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
            sqlx::query(SERVE_VERSION)
                .bind(version_id)
                .bind(now)
                .bind(quiz_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(version_id)
        })?;
        self.published.changed();
        self.quiz_version(version_id).await
    }

    async fn published_quiz(&self, slug: &str) -> StoreResult<Option<Arc<PublishedQuiz>>> {
        let read = self.published.read_at();
        if let Some(quiz) = self.published.get(slug) {
            return Ok(Some(quiz));
        }
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
        let quiz = row
            .map(VersionRow::into_published)
            .transpose()?
            .map(Arc::new);
        if let Some(quiz) = &quiz {
            self.published.put(quiz, read);
        }
        Ok(quiz)
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

    async fn renamed_quiz(&self, slug: &str) -> StoreResult<Option<String>> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar(
                "SELECT q.slug FROM quiz_slug_aliases a JOIN quizzes q ON q.id = a.quiz_id \
                 WHERE a.slug = $1 AND q.slug <> $1 \
                 AND NOT EXISTS (SELECT 1 FROM quizzes o WHERE o.slug = $1)",
            )
            .bind(slug)
            .fetch_optional(pool)
            .await
            .map_err(db_err)
        })
    }

    async fn published_versions(&self) -> StoreResult<Vec<PublishedQuiz>> {
        let sql = format!("{VERSION_SELECT} ORDER BY v.quiz_id, v.version DESC");
        let rows: Vec<VersionRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql).fetch_all(pool).await.map_err(db_err)
        })?;
        rows.into_iter().map(VersionRow::into_published).collect()
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

    async fn quiz(&self, quiz_id: i64) -> StoreResult<QuizDraft> {
        let sql = format!(
            "SELECT q.id, q.slug, q.status, q.draft, q.draft_revision, v.version AS published_version, \
             {UNPUBLISHED_CHANGES} AS unpublished_changes, q.updated_at \
             FROM quizzes q LEFT JOIN quiz_versions v ON v.id = q.published_version_id WHERE q.id = $1"
        );
        let row: DraftRow = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(quiz_id)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(QuizDraft {
            draft: from_json(row.id, &row.draft)?,
            id: row.id,
            slug: row.slug,
            status: status(&row.status)?,
            draft_revision: row.draft_revision,
            published_version: row.published_version,
            unpublished_changes: row.unpublished_changes != 0,
            updated_at: row.updated_at,
        })
    }

    async fn save_draft(
        &self,
        quiz_id: i64,
        slug: &str,
        draft: &QuizDefinition,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<i64> {
        let json = to_json(draft)?;
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let (current_slug, current, revision): (String, String, i64) =
                sqlx::query_as("SELECT slug, draft, draft_revision FROM quizzes WHERE id = $1")
                    .bind(quiz_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            let saved: Option<i64> = sqlx::query_scalar(
                "UPDATE quizzes SET slug = $1, title = $2, draft = $3, draft_revision = draft_revision + 1, \
                 updated_at = $4 WHERE id = $5 AND draft_revision = $6 AND NOT (slug = $1 AND draft = $3) \
                 RETURNING draft_revision",
            )
            .bind(slug)
            .bind(&draft.title)
            .bind(&json)
            .bind(now)
            .bind(quiz_id)
            .bind(expected_revision)
            .fetch_optional(&mut *tx)
            .await
            .map_err(conflict_as(SLUG_TAKEN))?;
            if let Some(revision) = saved {
                // Links and embeds with the old address still find the quiz.
                if current_slug != slug {
                    sqlx::query(
                        "INSERT INTO quiz_slug_aliases (slug, quiz_id, renamed_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (slug) DO UPDATE SET quiz_id = excluded.quiz_id, renamed_at = excluded.renamed_at",
                    )
                    .bind(&current_slug)
                    .bind(quiz_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                return Ok(revision);
            }
            // Nothing saved: someone saved in between, or nothing changed.
            // If what is stored is exactly this, nothing is lost and the
            // revision stays where it is.
            if current == json && current_slug == slug {
                Ok(revision)
            } else {
                Err(StoreError::Conflict(SAVED_BY_SOMEONE_ELSE.into()))
            }
        })
    }

    async fn publish_draft(
        &self,
        quiz_id: i64,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<PublishedQuiz> {
        let version_id: i64 = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let current: PublishRow = sqlx::query_as(
                "SELECT q.draft, q.draft_revision, q.published_version_id, v.definition AS published_definition \
                 FROM quizzes q LEFT JOIN quiz_versions v ON v.id = q.published_version_id WHERE q.id = $1",
            )
            .bind(quiz_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            if current.draft_revision != expected_revision {
                return Err(StoreError::Conflict(SAVED_BY_SOMEONE_ELSE.into()));
            }
            let unchanged = current.published_definition.as_deref() == Some(current.draft.as_str());
            let version_id = match current.published_version_id {
                Some(id) if unchanged => id,
                _ => {
                    // The guard on the revision freezes exactly what the
                    // caller validated, even if a save slipped in between.
                    let inserted: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO quiz_versions (quiz_id, version, definition, published_at) \
                         SELECT id, COALESCE((SELECT max(version) FROM quiz_versions WHERE quiz_id = $1), 0) + 1, draft, $2 \
                         FROM quizzes WHERE id = $1 AND draft_revision = $3 RETURNING id",
                    )
                    .bind(quiz_id)
                    .bind(now)
                    .bind(expected_revision)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(conflict_as(SAVED_BY_SOMEONE_ELSE))?;
                    inserted.ok_or_else(|| StoreError::Conflict(SAVED_BY_SOMEONE_ELSE.into()))?
                }
            };
            sqlx::query(SERVE_VERSION)
                .bind(version_id)
                .bind(now)
                .bind(quiz_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(version_id)
        })?;
        self.published.changed();
        self.quiz_version(version_id).await
    }

    async fn discard_draft(
        &self,
        quiz_id: i64,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<i64> {
        self.draft_from(quiz_id, None, expected_revision, now).await
    }

    async fn quiz_versions(&self, quiz_id: i64) -> StoreResult<Vec<QuizVersionSummary>> {
        let rows: Vec<VersionHistoryRow> = with_pool!(self.db(), read, |pool| {
            let known: Option<i64> = sqlx::query_scalar("SELECT id FROM quizzes WHERE id = $1")
                .bind(quiz_id)
                .fetch_optional(pool)
                .await
                .map_err(db_err)?;
            known.ok_or(StoreError::NotFound)?;
            sqlx::query_as(
                "SELECT v.version, v.published_at, v.definition, \
                 CAST(CASE WHEN v.id = q.published_version_id AND q.status = 'published' THEN 1 ELSE 0 END AS BIGINT) AS live, \
                 CAST(CASE WHEN v.definition = q.draft THEN 1 ELSE 0 END AS BIGINT) AS same_as_draft, \
                 COALESCE(s.responses, 0) AS responses, COALESCE(s.completions, 0) AS completions \
                 FROM quiz_versions v JOIN quizzes q ON q.id = v.quiz_id \
                 LEFT JOIN (SELECT version_id, count(*) AS responses, count(completed_at) AS completions \
                            FROM quiz_sessions WHERE quiz_id = $1 GROUP BY version_id) s ON s.version_id = v.id \
                 WHERE v.quiz_id = $1 ORDER BY v.version DESC",
            )
            .bind(quiz_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        rows.into_iter()
            .map(|r| {
                let definition = from_json(quiz_id, &r.definition)?;
                Ok(QuizVersionSummary {
                    version: r.version,
                    published_at: r.published_at,
                    title: definition.title,
                    questions: definition.questions.len(),
                    responses: r.responses,
                    completions: r.completions,
                    live: r.live != 0,
                    same_as_draft: r.same_as_draft != 0,
                })
            })
            .collect()
    }

    async fn load_version(
        &self,
        quiz_id: i64,
        version: i64,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<i64> {
        self.draft_from(quiz_id, Some(version), expected_revision, now)
            .await
    }

    async fn archive_quiz(&self, quiz_id: i64, now: i64) -> StoreResult<()> {
        let done = with_pool!(self.db(), write, |pool| {
            sqlx::query("UPDATE quizzes SET status = 'archived', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(quiz_id)
                .execute(pool)
                .await
                .map_err(db_err)
                .map(|r| r.rows_affected())
        })?;
        self.published.changed();
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn restore_quiz(&self, quiz_id: i64, now: i64) -> StoreResult<()> {
        let done = with_pool!(self.db(), write, |pool| {
            sqlx::query(
                "UPDATE quizzes SET updated_at = $1, status = CASE \
                 WHEN status <> 'archived' THEN status \
                 WHEN published_version_id IS NULL THEN 'draft' ELSE 'published' END \
                 WHERE id = $2",
            )
            .bind(now)
            .bind(quiz_id)
            .execute(pool)
            .await
            .map_err(db_err)
            .map(|r| r.rows_affected())
        })?;
        self.published.changed();
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn duplicate_quiz(
        &self,
        quiz_id: i64,
        slug: &str,
        title: &str,
        now: i64,
    ) -> StoreResult<i64> {
        let mut draft = self.quiz(quiz_id).await?.draft;
        draft.title = title.to_string();
        self.create_quiz(slug, &draft, now).await
    }
}
