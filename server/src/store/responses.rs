//! Respondents' sessions: each step, the completion, the lead details.

use super::SqlStore;
use super::answer_batch::{AnswerWrite, bind_answer};
use super::segments::{Changed, PLACED_STAY, Recheck, act_on_placement, entry_actions, hand_off};
use super::sql::bind_all;
use super::sql::{BeginWrite, db_err, notify_changes, numbered_rows, with_pool};
use async_trait::async_trait;
use quizfunnel::action::ActionKind;
use quizfunnel::quiz::{Answers, Scores};
use quizfunnel::rule::{Rule, compile};
use quizfunnel::store::{
    AnsweredStep, Placement, QuizSession, ResponseStore, StoreError, StoreResult,
};
use std::collections::BTreeMap;

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    contact_id: i64,
    quiz_id: i64,
    version_id: i64,
    started_at: i64,
    completed_at: Option<i64>,
    current_question: Option<String>,
    answers: String,
    score: Option<f64>,
    lead_email: Option<String>,
}

impl SessionRow {
    fn into_session(self) -> StoreResult<QuizSession> {
        let answers: Answers = serde_json::from_str(&self.answers)
            .map_err(|e| StoreError::Internal(format!("answers of session {}: {e}", self.id)))?;
        Ok(QuizSession {
            id: self.id,
            contact_id: self.contact_id,
            quiz_id: self.quiz_id,
            version_id: self.version_id,
            started_at: self.started_at,
            completed_at: self.completed_at,
            current_question: self.current_question,
            answers,
            score: self.score,
            lead_email: self.lead_email,
        })
    }
}

/// A visitor's contact (its id and when it was last seen) and a browser's
/// latest session of a quiz, from one read; every column of the session
/// is NULL when the browser has none.
#[derive(sqlx::FromRow)]
struct VisitRow {
    known_id: Option<i64>,
    known_seen: Option<i64>,
    id: Option<i64>,
    contact_id: Option<i64>,
    quiz_id: Option<i64>,
    version_id: Option<i64>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    current_question: Option<String>,
    answers: Option<String>,
    score: Option<f64>,
    lead_email: Option<String>,
}

impl VisitRow {
    fn known(&self) -> Option<(i64, i64)> {
        self.known_id.zip(self.known_seen)
    }

    fn session(self) -> Option<SessionRow> {
        Some(SessionRow {
            id: self.id?,
            contact_id: self.contact_id?,
            quiz_id: self.quiz_id?,
            version_id: self.version_id?,
            started_at: self.started_at?,
            completed_at: self.completed_at,
            current_question: self.current_question,
            answers: self.answers?,
            score: self.score,
            lead_email: self.lead_email,
        })
    }
}

/// `$1` the visitor, `$2` the browser's key (NULL for none), `$3` the quiz.
const VISIT: &str = "SELECT c.id AS known_id, c.last_seen AS known_seen, s.id, s.contact_id, \
    s.quiz_id, s.version_id, s.started_at, s.completed_at, s.current_question, s.answers, \
    s.score, s.lead_email \
    FROM (SELECT 1 AS one) k \
    LEFT JOIN contact_visitors v ON v.visitor_id = $1 \
    LEFT JOIN contacts c ON c.id = v.contact_id \
    LEFT JOIN quiz_sessions s ON s.id = (SELECT id FROM quiz_sessions \
        WHERE browser_key = $2 AND quiz_id = $3 ORDER BY started_at DESC, id DESC LIMIT 1)";

const SESSION_COLUMNS: &str = "id, contact_id, quiz_id, version_id, started_at, completed_at, current_question, answers, score, lead_email";

/// A session's events among its contact's (`$1`), found by the keys its
/// steps gave them (`$2`..`$4`, from [`session_event_keys`]): the contact's
/// index finds them, where the keys alone would be a scan of every event.
const SESSION_EVENTS: &str =
    "contact_id = $1 AND (idempotency_key IN ($2, $3) OR idempotency_key LIKE $4)";

fn session_event_keys(session_id: i64) -> [String; 3] {
    [
        format!("quiz_started:{session_id}"),
        format!("quiz_completed:{session_id}"),
        format!("question_answered:{session_id}:%"),
    ]
}

fn finished_already() -> StoreError {
    StoreError::Conflict("this quiz was finished already".into())
}

fn answers_json(answers: &Answers) -> StoreResult<String> {
    serde_json::to_string(answers).map_err(|e| StoreError::Internal(e.to_string()))
}

/// On Postgres, an answer as one statement, numbered as SQLite's
/// `answer_script`: the session's update, its rows and its event, each
/// only into a session not yet finished. Returns the session's contact and
/// the segments' plan version as this statement saw it.
fn answer_statement(rows: usize) -> String {
    // The old rows go first: the new ones wait on `gone`, as two parts of
    // one statement run in no set order.
    let kept = if rows == 0 {
        String::new()
    } else {
        format!(
            "kept AS (INSERT INTO answers (session_id, question_key, option_key, value_text, answered_at) \
             SELECT $1, $2, v.option_key, v.value_text, $3 FROM s, (VALUES {}) v (option_key, value_text) \
             WHERE (SELECT count(*) FROM gone) >= 0), ",
            numbered_rows(rows, 2, |n| format!("(${}, ${})", n + 7, n + 8))
        )
    };
    format!(
        "WITH s AS (UPDATE quiz_sessions SET answers = $4, current_question = $5 \
         WHERE id = $1 AND completed_at IS NULL RETURNING contact_id, quiz_id, version_id), \
         gone AS (DELETE FROM answers WHERE session_id = $1 AND question_key = $2 \
         AND EXISTS (SELECT 1 FROM s) RETURNING 1), {kept}\
         e AS (INSERT INTO events (contact_id, name, properties, occurred_at, idempotency_key) \
         SELECT s.contact_id, 'question_answered', jsonb_build_object('options', CAST($6 AS JSONB), \
         'question', $2, 'quiz_id', s.quiz_id, 'session_id', $1, 'version_id', s.version_id), $3, $7 \
         FROM s ON CONFLICT (idempotency_key) DO NOTHING) \
         SELECT s.contact_id, (SELECT version FROM segment_plan_version) FROM s"
    )
}

impl SqlStore {
    async fn session_by_id(&self, id: i64) -> StoreResult<QuizSession> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM quiz_sessions WHERE id = $1");
        // A read after a commit sees it (WAL starts each read at the newest
        // commit), so this takes no turn at the writer.
        let row: SessionRow = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(id)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        row.into_session()
    }
}

#[async_trait]
impl ResponseStore for SqlStore {
    async fn visitor_and_session(
        &self,
        visitor_id: &str,
        browser_key: Option<&str>,
        quiz_id: i64,
        first_visit_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<(i64, Option<QuizSession>)> {
        // Both on a reader (see `browser_session`), in one statement: each
        // is a round trip, and a quiz post needs both.
        let row: VisitRow = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(VISIT)
                .bind(visitor_id)
                .bind(browser_key)
                .bind(quiz_id)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        let known = row.known();
        let session = row.session().map(SessionRow::into_session).transpose()?;
        let contact = self
            .visitor_contact_after(visitor_id, known, first_visit_fields, now)
            .await?;
        Ok((contact, session))
    }

    async fn browser_session(
        &self,
        browser_key: &str,
        quiz_id: i64,
        finished: bool,
    ) -> StoreResult<Option<QuizSession>> {
        let only = if finished {
            "AND completed_at IS NOT NULL"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM quiz_sessions WHERE browser_key = $1 AND quiz_id = $2 {only} \
             ORDER BY started_at DESC, id DESC LIMIT 1"
        );
        // A reader sees every committed step (WAL on SQLite), and keeps
        // page views and steps off the single writer.
        let row: Option<SessionRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(browser_key)
                .bind(quiz_id)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(SessionRow::into_session).transpose()
    }

    async fn start_session(
        &self,
        contact_id: i64,
        browser_key: Option<&str>,
        quiz_id: i64,
        version_id: i64,
        first_question: Option<&str>,
        hidden_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<QuizSession> {
        let event_sql = super::contacts::insert_event_sql(self.db());
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            // Two copies of a first answer (a double click) both find no
            // session and both start one. Taking the contact's row lock
            // queues the second behind the first, which then finds the
            // session the first opened and answers into it.
            sqlx::query("UPDATE contacts SET last_seen = last_seen WHERE id = $1")
                .bind(contact_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            // The browser's latest session of the quiz, and whether it is
            // finished.
            let latest: Option<(i64, bool)> = match browser_key {
                Some(key) => sqlx::query_as(
                    "SELECT id, completed_at IS NOT NULL FROM quiz_sessions \
                     WHERE browser_key = $1 AND quiz_id = $2 ORDER BY started_at DESC, id DESC LIMIT 1",
                )
                .bind(key)
                .bind(quiz_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?,
                None => None,
            };
            if let Some((id, false)) = latest {
                tx.commit().await.map_err(db_err)?;
                // A double click's second copy continues the first's session.
                self.session_by_id(id).await
            } else {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO quiz_sessions (contact_id, quiz_id, version_id, started_at, current_question, browser_key) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(contact_id)
                .bind(quiz_id)
                .bind(version_id)
                .bind(now)
                .bind(first_question)
                .bind(browser_key)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                let props = serde_json::json!({
                    "quiz_id": quiz_id,
                    "version_id": version_id,
                    "session_id": id,
                    "hidden_fields": hidden_fields,
                });
                sqlx::query(event_sql)
                    .bind(contact_id)
                    .bind("quiz_started")
                    .bind(props.to_string())
                    .bind(now)
                    .bind(format!("quiz_started:{id}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if latest.is_some() {
                    // Taken again: rules read the answers of the latest
                    // session, which has none yet.
                    let recheck = self.recheck_plan(Changed::Answer, now).await;
                    tx.commit_rechecked(self, &recheck, &[contact_id], now)
                        .await?;
                } else {
                    tx.commit().await.map_err(db_err)?;
                }
                // Everything it holds was just written: no need to read it.
                Ok(QuizSession {
                    id,
                    contact_id,
                    quiz_id,
                    version_id,
                    started_at: now,
                    completed_at: None,
                    current_question: first_question.map(str::to_string),
                    answers: Default::default(),
                    score: None,
                    lead_email: None,
                })
            }
        })
    }

    async fn save_answer(&self, step: AnsweredStep<'_>) -> StoreResult<()> {
        let write = AnswerWrite {
            session_id: step.session_id,
            question: step.question.to_string(),
            rows: step.answer.rows(),
            answers_json: answers_json(step.answers)?,
            next_question: step.next_question.map(str::to_string),
            options_json: serde_json::to_string(step.answer.options())
                .map_err(|e| StoreError::Internal(e.to_string()))?,
            event_key: step.event_key.to_string(),
            now: step.now,
        };
        let pool = match self.db() {
            super::Db::Postgres(pool) => pool,
            super::Db::Sqlite(_) => {
                self.queue_answer(write)
                    .await?
                    .ok_or_else(finished_already)?;
                return Ok(());
            }
        };
        let sql = answer_statement(write.rows.len());
        let query = bind_answer!(sqlx::query_as::<_, (i64, i64)>(&sql), &write);
        // Most quizzes' answers change no segment: then the answer is one
        // statement, committed alone, and what it returns tells whether a
        // segment that reads answers was saved since the plan was read.
        if let Some(planned) = self.known_to_change_nothing(Changed::Answer) {
            let (contact_id, version) = query
                .fetch_optional(pool)
                .await
                .map_err(db_err)?
                .ok_or_else(finished_already)?;
            if version != planned {
                self.contact_changed(contact_id, Changed::Answer, step.now)
                    .await;
            }
            return Ok(());
        }
        let recheck = self.recheck_plan(Changed::Answer, step.now).await;
        let mut tx = pool.begin_write().await.map_err(db_err)?;
        let (contact_id, _) = query
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or_else(finished_already)?;
        tx.commit_rechecked(self, &recheck, &[contact_id], step.now)
            .await
    }

    async fn move_to(&self, session_id: i64, question: &str) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query(
                "UPDATE quiz_sessions SET current_question = $1 WHERE id = $2 AND completed_at IS NULL",
            )
            .bind(question)
            .bind(session_id)
            .execute(pool)
            .await
            .map_err(db_err)
            .map(|_| ())
        })
    }

    async fn complete_session(
        &self,
        session_id: i64,
        counted: &Answers,
        scores: &Scores,
        now: i64,
    ) -> StoreResult<()> {
        let counted_json = answers_json(counted)?;
        // `$1` the session, then each question still counted.
        let drop_uncounted = format!(
            "DELETE FROM answers WHERE session_id = $1{}",
            if counted.is_empty() {
                String::new()
            } else {
                format!(
                    " AND question_key NOT IN ({})",
                    (2..counted.len() + 2)
                        .map(|n| format!("${n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        let event_sql = super::contacts::insert_event_sql(self.db());
        let dialect = self.dialect();
        let pg = self.is_postgres();
        let recheck = self.recheck_plan(Changed::Completion, now).await;
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let finished: Option<(i64, i64, i64)> = sqlx::query_as(
                "UPDATE quiz_sessions SET completed_at = $1, score = $2, current_question = NULL, \
                 answers = $4 WHERE id = $3 AND completed_at IS NULL \
                 RETURNING contact_id, quiz_id, version_id",
            )
            .bind(now)
            .bind(scores.total)
            .bind(session_id)
            .bind(&counted_json)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if let Some((contact_id, quiz_id, version_id)) = finished {
                let mut drop = sqlx::query(&drop_uncounted).bind(session_id);
                for question in counted.keys() {
                    drop = drop.bind(question);
                }
                drop.execute(&mut *tx).await.map_err(db_err)?;
                // One statement for them all: each is a wait on the writer.
                if !scores.categories.is_empty() {
                    let sql = format!(
                        "INSERT INTO session_category_scores (session_id, category, score) VALUES {}",
                        numbered_rows(scores.categories.len(), 2, |n| {
                            format!("($1, ${}, ${})", n + 1, n + 2)
                        })
                    );
                    let mut insert = sqlx::query(&sql).bind(session_id);
                    for (category, points) in &scores.categories {
                        insert = insert.bind(category).bind(points);
                    }
                    insert.execute(&mut *tx).await.map_err(db_err)?;
                }
                // The chosen options' tags go to the contact with the
                // completion, as a segment's tag action gives one.
                if !scores.tags.is_empty() {
                    let sql = format!(
                        "INSERT INTO contact_tags (contact_id, tag, added_at) VALUES {} \
                         ON CONFLICT (contact_id, tag) DO NOTHING",
                        numbered_rows(scores.tags.len(), 1, |n| format!("($1, ${}, $2)", n + 2))
                    );
                    let mut insert = sqlx::query(&sql).bind(contact_id).bind(now);
                    for tag in &scores.tags {
                        insert = insert.bind(tag);
                    }
                    insert.execute(&mut *tx).await.map_err(db_err)?;
                }
                let props = serde_json::json!({
                    "quiz_id": quiz_id,
                    "version_id": version_id,
                    "session_id": session_id,
                    "score": scores.total,
                    "categories": scores.categories,
                });
                sqlx::query(event_sql)
                    .bind(contact_id)
                    .bind("quiz_completed")
                    .bind(props.to_string())
                    .bind(now)
                    .bind(format!("quiz_completed:{session_id}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                // Tiers in order, first match wins: the rule's SQL asked of
                // this one contact, inside this transaction, so the
                // placement and the completion are stored together.
                let tiers: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT s.id, s.slug, s.rule, t.next_step, t.outcome_key FROM tiers t \
                     JOIN segments s ON s.id = t.segment_id ORDER BY t.position",
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                let tiers: Vec<_> = tiers
                    .into_iter()
                    .filter_map(|(segment_id, slug, rule, next_step, outcome_key)| {
                        match serde_json::from_str::<Rule>(&rule) {
                            Ok(rule) => Some((segment_id, slug, rule, next_step, outcome_key)),
                            Err(_) => {
                                tracing::error!(segment = %slug, "a tier's rule cannot be read");
                                None
                            }
                        }
                    })
                    .collect();
                // A tier rule reading `in_segment` must see the respondent's
                // segments as they are now: those this completion changes,
                // and those a contact made moments ago by their first page
                // view (not yet re-checked) is in. Their actions wait for
                // the re-check below, when the placement is known.
                if tiers
                    .iter()
                    .any(|(_, _, rule, _, _)| !rule.referenced_segments().is_empty())
                {
                    let memberships = self.memberships_plan(now).await;
                    tx.recheck(&memberships, &[contact_id], now).await?;
                }
                // The tier the lead moved to, when it moved.
                let mut moved_to = None;
                for (segment_id, slug, rule, next_step, outcome_key) in tiers {
                    let predicate = compile(&rule, dialect, now, 2);
                    let sql = format!(
                        "SELECT count(*) FROM contacts c WHERE c.id = $1 AND ({})",
                        predicate.sql
                    );
                    let q = sqlx::query_scalar::<_, i64>(&sql).bind(contact_id);
                    let matched: i64 = bind_all!(q, &predicate.params)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    if matched > 0 {
                        sqlx::query(
                            "INSERT INTO placements (session_id, contact_id, segment_id, segment_slug, next_step, outcome_key, placed_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(session_id)
                        .bind(contact_id)
                        .bind(segment_id)
                        .bind(&slug)
                        .bind(&next_step)
                        .bind(&outcome_key)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                        let was: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
                            "SELECT l.segment_id, s.quiz_id FROM leads l \
                             LEFT JOIN quiz_sessions s ON s.id = l.session_id WHERE l.contact_id = $1",
                        )
                        .bind(contact_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                        let same_tier = was.is_some_and(|(s, _)| s == Some(segment_id));
                        if !same_tier {
                            moved_to = Some(segment_id);
                        }
                        // The lead lists follow the latest placement; the
                        // status sales gave the lead stays. A lead that
                        // stays in its tier keeps when it entered it, and
                        // the score it got there unless this is the same
                        // quiz taken again: another quiz's score is not
                        // what placed it.
                        let keep_score = same_tier && was.is_some_and(|(_, q)| q != Some(quiz_id));
                        sqlx::query(
                            "INSERT INTO leads (contact_id, segment_id, tier_slug, next_step, session_id, score, placed_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7) \
                             ON CONFLICT (contact_id) DO UPDATE SET segment_id = excluded.segment_id, \
                             tier_slug = excluded.tier_slug, next_step = excluded.next_step, \
                             session_id = CASE WHEN $8 THEN leads.session_id ELSE excluded.session_id END, \
                             score = CASE WHEN $8 THEN leads.score ELSE excluded.score END, \
                             placed_at = CASE WHEN $9 THEN leads.placed_at ELSE excluded.placed_at END",
                        )
                        .bind(contact_id)
                        .bind(segment_id)
                        .bind(&slug)
                        .bind(&next_step)
                        .bind(session_id)
                        .bind(scores.total)
                        .bind(now)
                        .bind(keep_score)
                        .bind(same_tier)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                        break;
                    }
                }
                sqlx::query("UPDATE contacts SET last_seen = $1 WHERE id = $2")
                    .bind(now)
                    .bind(contact_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.recheck(&recheck, &[contact_id], now).await?;
                // A stay the re-check just opened took the tier's actions
                // there; one begun before this placement takes them here.
                if let Some(segment) = moved_to {
                    act_on_placement!(tx, segment, contact_id, now);
                }
                notify_changes!(tx, pg);
            }
            tx.commit().await.map_err(db_err)
        })?;
        // A completion places a lead in a tier: the dashboard counts it.
        self.counts_changed();
        Ok(())
    }

    async fn placement(&self, session_id: i64) -> StoreResult<Option<Placement>> {
        let row: Option<(String, String, Option<String>, i64)> = with_pool!(
            self.db(),
            read,
            |pool| {
                sqlx::query_as(
                "SELECT segment_slug, next_step, outcome_key, placed_at FROM placements WHERE session_id = $1",
            )
            .bind(session_id)
            .fetch_optional(pool)
            .await
            .map_err(db_err)
            }
        )?;
        Ok(row.map(
            |(segment_slug, next_step, outcome_key, placed_at)| Placement {
                segment_slug,
                next_step,
                outcome_key,
                placed_at,
            },
        ))
    }

    async fn hand_session_to(&self, session_id: i64, to: i64, now: i64) -> StoreResult<()> {
        let recheck = self.recheck_plan(Changed::Everything, now).await;
        let pg = self.is_postgres();
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let from: Option<i64> = sqlx::query_scalar(
                "SELECT contact_id FROM quiz_sessions WHERE id = $1 AND contact_id <> $2",
            )
            .bind(session_id)
            .bind(to)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let Some(from) = from else {
                return Ok(());
            };
            for sql in [
                "UPDATE quiz_sessions SET contact_id = $2 WHERE id = $1",
                "UPDATE placements SET contact_id = $2 WHERE session_id = $1",
            ] {
                sqlx::query(sql)
                    .bind(session_id)
                    .bind(to)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let [started, completed, answered] = session_event_keys(session_id);
            sqlx::query(&format!(
                "UPDATE events SET contact_id = $5 WHERE {SESSION_EVENTS}"
            ))
            .bind(from)
            .bind(started)
            .bind(completed)
            .bind(answered)
            .bind(to)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            // A lead the session made (a result page's gate comes after the
            // placement) goes back to the first contact's latest other
            // placement, or goes; the contact handed it takes it when it
            // is their newest.
            for sql in [
                "UPDATE leads SET segment_id = a.segment_id, tier_slug = a.segment_slug, \
                 next_step = a.next_step, session_id = a.session_id, score = a.score, \
                 placed_at = a.placed_at \
                 FROM (SELECT p.segment_id, p.segment_slug, p.next_step, p.session_id, \
                    COALESCE(s.score, 0) AS score, p.placed_at \
                    FROM placements p JOIN quiz_sessions s ON s.id = p.session_id \
                    WHERE p.contact_id = $1 ORDER BY p.placed_at DESC, p.session_id DESC LIMIT 1) a \
                 WHERE leads.contact_id = $1 AND leads.session_id = $2",
                "DELETE FROM leads WHERE contact_id = $1 AND session_id = $2",
            ] {
                sqlx::query(sql)
                    .bind(from)
                    .bind(session_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let placed: Option<Option<i64>> = sqlx::query_scalar(
                "INSERT INTO leads (contact_id, segment_id, tier_slug, next_step, session_id, score, placed_at) \
                 SELECT p.contact_id, p.segment_id, p.segment_slug, p.next_step, p.session_id, \
                    COALESCE(s.score, 0), p.placed_at \
                 FROM placements p JOIN quiz_sessions s ON s.id = p.session_id \
                 WHERE p.session_id = $1 \
                 ON CONFLICT (contact_id) DO UPDATE SET segment_id = excluded.segment_id, \
                 tier_slug = excluded.tier_slug, next_step = excluded.next_step, \
                 session_id = excluded.session_id, score = excluded.score, \
                 placed_at = excluded.placed_at WHERE leads.placed_at <= excluded.placed_at \
                 RETURNING segment_id",
            )
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.recheck(&recheck, &[from, to], now).await?;
            if let Some(Some(segment)) = placed {
                act_on_placement!(tx, segment, to, now);
            }
            notify_changes!(tx, pg);
            tx.commit().await.map_err(db_err)
        })?;
        self.counts_changed();
        Ok(())
    }

    async fn note_lead_email(&self, session_id: i64, email: &str) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query("UPDATE quiz_sessions SET lead_email = $2 WHERE id = $1")
                .bind(session_id)
                .bind(email)
                .execute(pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }

    async fn discard_session(&self, session_id: i64, now: i64) -> StoreResult<()> {
        let recheck = self.recheck_plan(Changed::Everything, now).await;
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let contact: Option<i64> =
                sqlx::query_scalar("DELETE FROM quiz_sessions WHERE id = $1 RETURNING contact_id")
                    .bind(session_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            let Some(contact) = contact else {
                return Ok(());
            };
            // Its events go too: a bot's visit should not count anywhere.
            let [started, completed, answered] = session_event_keys(session_id);
            sqlx::query(&format!("DELETE FROM events WHERE {SESSION_EVENTS}"))
                .bind(contact)
                .bind(started)
                .bind(completed)
                .bind(answered)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            // What its answers brought the contact into, they leave.
            tx.commit_rechecked(self, &recheck, &[contact], now).await
        })
    }
}
