//! SQLite's answers, written several respondents at a time.
//!
//! Every write on SQLite goes through one connection, and each statement is
//! a hand-over to that connection's thread and back. An answer in a
//! transaction of its own takes five (the pool, `BEGIN`, the session, the
//! rows, `COMMIT`), each a wait for every respondent behind it. Answers
//! that arrive while the writer is busy wait together instead and go in
//! one transaction: one script each, one `BEGIN` and one `COMMIT` for all.

use super::SqlStore;
use super::segments::{Recheck, SyncStep};
use super::sql::{BeginWrite, db_err};
use quizfunnel::store::{StoreError, StoreResult};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Most answers in one transaction: enough for every connection of a busy
/// server at once, few enough that the writer is soon free for others.
const MOST_PER_BATCH: usize = 64;

/// One answer to store, owned, so it can wait for its batch.
pub(super) struct AnswerWrite {
    pub session_id: i64,
    pub question: String,
    /// Each stored row: the option chosen, or the value as text.
    pub rows: Vec<(String, Option<String>)>,
    pub answers_json: String,
    pub next_question: Option<String>,
    /// The options chosen, as the event's JSON array.
    pub options_json: String,
    pub event_key: String,
    pub now: i64,
    /// The segments that may change for the respondent's contact.
    pub recheck: Vec<SyncStep>,
}

/// The contact whose session took the answer; `None` when the session was
/// finished (or gone) and nothing was stored.
type Stored = StoreResult<Option<i64>>;

struct Pending {
    write: AnswerWrite,
    done: oneshot::Sender<Stored>,
}

#[derive(Default)]
struct QueueState {
    pending: Vec<Pending>,
    /// Whether a task is writing batches; it takes whatever is pending.
    draining: bool,
}

/// The answers waiting for the writer, shared by a store's clones.
#[derive(Clone, Default)]
pub(super) struct AnswerQueue(Arc<Mutex<QueueState>>);

impl std::fmt::Debug for AnswerQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnswerQueue")
    }
}

impl AnswerQueue {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Fails whatever still waits when a draining task ends other than by
/// finding the queue empty (a panic, or the runtime shutting down), and
/// lets the next answer start a new task, so no answer waits for a task
/// that is gone.
struct DrainGuard {
    queue: AnswerQueue,
    /// Cleared once the task has handed the queue back itself.
    armed: bool,
}

impl Drop for DrainGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let abandoned = {
            let mut state = self.queue.state();
            state.draining = false;
            std::mem::take(&mut state.pending)
        };
        for p in abandoned {
            let _ = p.done.send(Err(StoreError::Internal(
                "the answer could not be stored".into(),
            )));
        }
    }
}

/// `$1` session, `$2` question, `$3` now, `$4` the answers, `$5` the next
/// question, `$6` the options as JSON, `$7` the event's key, then each
/// row's option and value. Each statement stores only into a session not
/// yet finished, so a finished one takes nothing; the session's update
/// returns its contact.
fn answer_script(rows: usize) -> String {
    const OPEN: &str =
        "EXISTS (SELECT 1 FROM quiz_sessions WHERE id = $1 AND completed_at IS NULL)";
    let mut script = format!(
        "UPDATE quiz_sessions SET answers = $4, current_question = $5 \
         WHERE id = $1 AND completed_at IS NULL RETURNING contact_id;\n\
         DELETE FROM answers WHERE session_id = $1 AND question_key = $2 AND {OPEN};\n"
    );
    if rows > 0 {
        let values = (0..rows)
            .map(|i| format!("(${}, ${})", 8 + 2 * i, 9 + 2 * i))
            .collect::<Vec<_>>()
            .join(", ");
        script.push_str(&format!(
            "INSERT INTO answers (session_id, question_key, option_key, value_text, answered_at) \
             SELECT $1, $2, v.column1, v.column2, $3 FROM (VALUES {values}) v WHERE {OPEN};\n"
        ));
    }
    // The keys in the order the other events' properties have them.
    script.push_str(
        "INSERT INTO events (contact_id, name, properties, occurred_at, idempotency_key) \
         SELECT s.contact_id, 'question_answered', json_object('options', json($6), \
         'question', $2, 'quiz_id', s.quiz_id, 'session_id', s.id, 'version_id', s.version_id), \
         $3, $7 FROM quiz_sessions s WHERE s.id = $1 AND s.completed_at IS NULL \
         ON CONFLICT (idempotency_key) DO NOTHING",
    );
    script
}

impl SqlStore {
    /// Stores an answer on SQLite with the others waiting for the writer.
    pub(super) async fn queue_answer(&self, write: AnswerWrite) -> Stored {
        let (done, stored) = oneshot::channel();
        let start = {
            let mut state = self.answers.state();
            state.pending.push(Pending { write, done });
            !std::mem::replace(&mut state.draining, true)
        };
        if start {
            // A task of its own, not the request's: a respondent who
            // leaves mid-batch does not take the others' answers along.
            let store = self.clone();
            tokio::spawn(async move { store.drain_answers().await });
        }
        stored.await.unwrap_or_else(|_| {
            Err(StoreError::Internal(
                "the answer could not be stored".into(),
            ))
        })
    }

    async fn drain_answers(&self) {
        let mut guard = DrainGuard {
            queue: self.answers.clone(),
            armed: true,
        };
        loop {
            let batch: Vec<Pending> = {
                let mut state = self.answers.state();
                // Under the same lock as the check, so an answer queued
                // after it finds no task and starts one.
                if state.pending.is_empty() {
                    state.draining = false;
                    guard.armed = false;
                    return;
                }
                let take = state.pending.len().min(MOST_PER_BATCH);
                state.pending.drain(..take).collect()
            };
            let writes: Vec<&AnswerWrite> = batch.iter().map(|p| &p.write).collect();
            let stored = self.store_batch(&writes).await;
            for (pending, stored) in batch.into_iter().zip(stored) {
                let _ = pending.done.send(stored);
            }
        }
    }

    /// Stores `writes` together; when that fails, each alone, so one
    /// answer's failure does not cost the others theirs. A result each.
    async fn store_batch(&self, writes: &[&AnswerWrite]) -> Vec<Stored> {
        match self.write_answers(writes).await {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            Err(e) if writes.len() == 1 => vec![Err(e)],
            Err(_) => {
                let mut each = Vec::with_capacity(writes.len());
                for &write in writes {
                    each.push(
                        self.write_answers(&[write])
                            .await
                            .map(|s| s.into_iter().next().flatten()),
                    );
                }
                each
            }
        }
    }

    /// One transaction for `writes`, their contacts re-checked at its end
    /// with the newest answer's plan; all stored, or none.
    async fn write_answers(&self, writes: &[&AnswerWrite]) -> StoreResult<Vec<Option<i64>>> {
        let super::Db::Sqlite(sqlite) = self.db() else {
            return Err(StoreError::Internal(
                "answers are queued on SQLite only".into(),
            ));
        };
        let mut tx = sqlite.writer().begin_write().await.map_err(db_err)?;
        let mut stored = Vec::with_capacity(writes.len());
        for w in writes {
            let script = answer_script(w.rows.len());
            let mut query = sqlx::query_scalar::<_, i64>(&script)
                .bind(w.session_id)
                .bind(&w.question)
                .bind(w.now)
                .bind(&w.answers_json)
                .bind(&w.next_question)
                .bind(&w.options_json)
                .bind(&w.event_key);
            for (option, value) in &w.rows {
                query = query.bind(option).bind(value);
            }
            // Not `fetch_optional`: it stops the script at the first row.
            let contact = query.fetch_all(&mut *tx).await.map_err(db_err)?;
            stored.push(contact.first().copied());
        }
        let contacts: Vec<i64> = stored.iter().flatten().copied().collect();
        match writes.iter().max_by_key(|w| w.now) {
            Some(newest) => {
                tx.commit_rechecked(self, &newest.recheck, &contacts, newest.now)
                    .await?
            }
            None => tx.commit().await.map_err(db_err)?,
        }
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::{AnswerWrite, SqlStore};
    use quizfunnel::quiz::Scores;
    use quizfunnel::store::{ContactStore, QuizStore, ResponseStore, StoreError};
    use std::collections::BTreeMap;

    const NOW: i64 = 1_800_000_000_000;

    fn answer(session_id: i64, text: &str) -> AnswerWrite {
        AnswerWrite {
            session_id,
            question: "blocker".into(),
            rows: vec![(String::new(), Some(text.into()))],
            answers_json: format!(r#"{{"blocker":{{"text":{{"text":"{text}"}}}}}}"#),
            next_question: Some("team".into()),
            options_json: "[]".into(),
            event_key: format!("question_answered:{session_id}:blocker"),
            now: NOW,
            recheck: Vec::new(),
        }
    }

    async fn scalar(store: &SqlStore, sql: &str, session: i64) -> i64 {
        let super::super::Db::Sqlite(db) = store.db() else {
            panic!("a SQLite store")
        };
        sqlx::query_scalar(sql)
            .bind(session)
            .fetch_one(db.reader())
            .await
            .unwrap()
    }

    /// An answer the database refuses, in a batch with others: they are
    /// stored, it gets its error, and nothing of it is half-written. A
    /// finished session takes nothing and says so.
    #[tokio::test]
    async fn one_refused_answer_costs_the_others_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("batch.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        crate::demo::seed(&store, NOW).await.unwrap();
        let quiz = store.published_quiz("growth").await.unwrap().unwrap();
        let mut sessions = Vec::new();
        for visitor in ["v1", "v2", "v3", "v4"] {
            let contact = store
                .contact_for_visitor(visitor, &BTreeMap::new(), NOW)
                .await
                .unwrap();
            let session = store
                .start_session(
                    contact,
                    quiz.quiz_id,
                    quiz.version_id,
                    Some("blocker"),
                    &BTreeMap::new(),
                    NOW,
                )
                .await
                .unwrap();
            sessions.push((session.id, contact));
        }
        let finished = sessions[3].0;
        store
            .complete_session(finished, &Scores::default(), NOW)
            .await
            .unwrap();
        let super::super::Db::Sqlite(db) = store.db() else {
            panic!("a SQLite store")
        };
        sqlx::query(
            "CREATE TRIGGER refuse BEFORE INSERT ON answers WHEN NEW.value_text = 'refused' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(db.writer())
        .await
        .unwrap();

        let writes = [
            answer(sessions[0].0, "No pipeline"),
            answer(sessions[1].0, "refused"),
            answer(sessions[2].0, "No time"),
            answer(finished, "Too late"),
        ];
        let stored = store.store_batch(&writes.iter().collect::<Vec<_>>()).await;

        assert_eq!(stored[0].as_ref().ok(), Some(&Some(sessions[0].1)));
        assert!(
            matches!(stored[1], Err(StoreError::Internal(_))),
            "{:?}",
            stored[1]
        );
        assert_eq!(stored[2].as_ref().ok(), Some(&Some(sessions[2].1)));
        assert_eq!(stored[3].as_ref().ok(), Some(&None));
        let rows = "SELECT count(*) FROM answers WHERE session_id = $1";
        let events = "SELECT count(*) FROM events WHERE name = 'question_answered' \
                      AND json_extract(properties, '$.session_id') = $1";
        let moved =
            "SELECT count(*) FROM quiz_sessions WHERE id = $1 AND current_question = 'team'";
        for (session, kept) in [
            (sessions[0].0, 1),
            (sessions[1].0, 0),
            (sessions[2].0, 1),
            (finished, 0),
        ] {
            assert_eq!(
                scalar(&store, rows, session).await,
                kept,
                "answers of {session}"
            );
            assert_eq!(
                scalar(&store, events, session).await,
                kept,
                "events of {session}"
            );
            assert_eq!(
                scalar(&store, moved, session).await,
                kept,
                "session {session}"
            );
        }
    }
}
