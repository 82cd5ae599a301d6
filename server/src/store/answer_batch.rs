//! SQLite's answers, written several respondents at a time.
//!
//! Every write on SQLite goes through one connection, and each statement is
//! a hand-over to that connection's thread and back. An answer in a
//! transaction of its own takes five (the pool, `BEGIN`, the session, the
//! rows, `COMMIT`), each a wait for every respondent behind it. Answers
//! that arrive while the writer is busy wait together instead and go in
//! one transaction: one script each, one `BEGIN` and one `COMMIT` for all.

use super::SqlStore;
use super::segments::{Changed, Recheck};
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

/// For an answer whose drain ended before it was tried.
fn not_stored() -> StoreError {
    StoreError::Internal("the answer could not be stored".into())
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
            let _ = p.done.send(Err(not_stored()));
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
    // Keys sorted, as serde_json writes every other event's properties.
    script.push_str(
        "INSERT INTO events (contact_id, name, properties, occurred_at, idempotency_key) \
         SELECT s.contact_id, 'question_answered', json_object('options', json($6), \
         'question', $2, 'quiz_id', s.quiz_id, 'session_id', s.id, 'version_id', s.version_id), \
         $3, $7 FROM quiz_sessions s WHERE s.id = $1 AND s.completed_at IS NULL \
         ON CONFLICT (idempotency_key) DO NOTHING",
    );
    script
}

/// `$query` with `$write`'s values bound as [`answer_script`] numbers
/// them (Postgres's one statement an answer numbers them alike).
macro_rules! bind_answer {
    ($query:expr, $write:expr) => {{
        let w: &AnswerWrite = $write;
        let mut query = $query
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
        query
    }};
}
pub(super) use bind_answer;

/// Why a batch was not stored: one answer's script failed (the others may
/// be fine alone), or the transaction around them did.
enum Failed {
    Answer(StoreError),
    Batch(StoreError),
}

impl Failed {
    fn into_inner(self) -> StoreError {
        match self {
            Failed::Answer(e) | Failed::Batch(e) => e,
        }
    }
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
            // The guard is made here, so a task dropped before it first
            // runs still hands the queue back.
            let guard = DrainGuard {
                queue: self.answers.clone(),
                armed: true,
            };
            let store = self.clone();
            tokio::spawn(async move { store.drain_answers(guard).await });
        }
        stored.await.unwrap_or_else(|_| Err(not_stored()))
    }

    async fn drain_answers(&self, mut guard: DrainGuard) {
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

    /// Stores `writes` together. When one of their scripts fails, each
    /// alone, so one answer's failure does not cost the others theirs;
    /// when the transaction itself fails (the writer busy past its
    /// timeout, say), all of them, at once. A result each.
    async fn store_batch(&self, writes: &[&AnswerWrite]) -> Vec<Stored> {
        match self.write_answers(writes).await {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            Err(Failed::Answer(_)) if writes.len() > 1 => {
                let mut each = Vec::with_capacity(writes.len());
                for &write in writes {
                    let alone = self.write_answers(&[write]).await;
                    each.push(
                        alone
                            .map(|s| s.into_iter().next().flatten())
                            .map_err(Failed::into_inner),
                    );
                }
                each
            }
            Err(failed) => {
                let e = failed.into_inner();
                writes.iter().map(|_| Err(e.clone())).collect()
            }
        }
    }

    /// One transaction for `writes`, their contacts re-checked at its end
    /// as of the newest answer's time; all stored, or none. A re-check that
    /// fails leaves the batch's contacts to the sweep, as it would one.
    async fn write_answers(&self, writes: &[&AnswerWrite]) -> Result<Vec<Option<i64>>, Failed> {
        let super::Db::Sqlite(sqlite) = self.db() else {
            return Err(Failed::Batch(StoreError::Internal(
                "answers are queued on SQLite only".into(),
            )));
        };
        // One plan for the batch, made before the writer is taken: answers'
        // plans differ only in their time.
        let now = writes.iter().map(|w| w.now).max();
        let recheck = match now {
            Some(now) => self.recheck_plan(Changed::Answer, now).await,
            None => Vec::new(),
        };
        let batch = |e| Failed::Batch(db_err(e));
        let mut tx = sqlite.writer().begin_write().await.map_err(batch)?;
        let mut stored = Vec::with_capacity(writes.len());
        for w in writes {
            let script = answer_script(w.rows.len());
            let query = bind_answer!(sqlx::query_scalar::<_, i64>(&script), w);
            // Not `fetch_optional`: it stops the script at the first row.
            let contact = query
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| Failed::Answer(db_err(e)))?;
            stored.push(contact.first().copied());
        }
        let contacts: Vec<i64> = stored.iter().flatten().copied().collect();
        match now {
            Some(now) => tx
                .commit_rechecked(self, &recheck, &contacts, now)
                .await
                .map_err(Failed::Batch)?,
            None => tx.commit().await.map_err(batch)?,
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
        }
    }

    /// A migrated SQLite store with the demo quiz and `n` respondents
    /// at its `blocker` question: their (session, contact) pairs.
    async fn respondents(n: usize) -> (tempfile::TempDir, SqlStore, Vec<(i64, i64)>) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("batch.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        crate::demo::seed(&store, NOW).await.unwrap();
        let quiz = store.published_quiz("growth").await.unwrap().unwrap();
        let mut sessions = Vec::new();
        for i in 0..n {
            let contact = store
                .contact_for_visitor(&format!("visitor-{i}"), &BTreeMap::new(), NOW)
                .await
                .unwrap();
            let session = store
                .start_session(
                    contact,
                    None,
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
        (dir, store, sessions)
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

    const ROWS: &str = "SELECT count(*) FROM answers WHERE session_id = $1";
    const MOVED: &str =
        "SELECT count(*) FROM quiz_sessions WHERE id = $1 AND current_question = 'team'";
    /// The session's answer events whose quiz and version are the session's.
    const EVENTS: &str = "SELECT count(*) FROM events e JOIN quiz_sessions s \
        ON s.id = json_extract(e.properties, '$.session_id') \
        WHERE e.name = 'question_answered' AND s.id = $1 AND e.contact_id = s.contact_id \
        AND json_extract(e.properties, '$.quiz_id') = s.quiz_id \
        AND json_extract(e.properties, '$.version_id') = s.version_id \
        AND json_extract(e.properties, '$.question') = 'blocker'";

    /// Several answers in one transaction: each lands in its own session,
    /// with its rows and an event that names its session's quiz.
    #[tokio::test]
    async fn a_batch_stores_each_answer_in_its_own_session() {
        let (_dir, store, sessions) = respondents(3).await;
        let writes: Vec<AnswerWrite> = sessions
            .iter()
            .map(|&(session, _)| answer(session, "No pipeline"))
            .collect();
        let stored = store
            .write_answers(&writes.iter().collect::<Vec<_>>())
            .await
            .ok();
        let contacts: Vec<Option<i64>> = sessions.iter().map(|&(_, c)| Some(c)).collect();
        assert_eq!(stored, Some(contacts));
        for &(session, _) in &sessions {
            assert_eq!(
                scalar(&store, ROWS, session).await,
                1,
                "answers of {session}"
            );
            assert_eq!(
                scalar(&store, EVENTS, session).await,
                1,
                "events of {session}"
            );
            assert_eq!(scalar(&store, MOVED, session).await, 1, "session {session}");
        }
    }

    /// An answer the database refuses, in a batch with others: they are
    /// stored, it gets its error, and nothing of it is half-written. A
    /// finished session takes nothing and says so.
    #[tokio::test]
    async fn one_refused_answer_costs_the_others_nothing() {
        let (_dir, store, sessions) = respondents(4).await;
        let finished = sessions[3].0;
        store
            .complete_session(finished, &Default::default(), &Scores::default(), NOW)
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
        for (session, kept) in [
            (sessions[0].0, 1),
            (sessions[1].0, 0),
            (sessions[2].0, 1),
            (finished, 0),
        ] {
            assert_eq!(
                scalar(&store, ROWS, session).await,
                kept,
                "answers of {session}"
            );
            assert_eq!(
                scalar(&store, EVENTS, session).await,
                kept,
                "events of {session}"
            );
            assert_eq!(
                scalar(&store, MOVED, session).await,
                kept,
                "session {session}"
            );
        }
    }

    /// Answers queued from many threads at once, wave after wave, so
    /// drains end and start beside new answers: every one is stored and
    /// answered, none waits for a drain that is gone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_queued_from_many_threads_are_each_stored() {
        let (_dir, store, sessions) = respondents(60).await;
        for wave in sessions.chunks(12) {
            let mut queued = tokio::task::JoinSet::new();
            for &(session, contact) in wave {
                let store = store.clone();
                queued.spawn(async move {
                    (
                        contact,
                        store.queue_answer(answer(session, "No pipeline")).await,
                    )
                });
            }
            let waited = tokio::time::timeout(std::time::Duration::from_secs(60), async {
                while let Some(done) = queued.join_next().await {
                    let (contact, stored) = done.unwrap();
                    assert_eq!(stored.ok(), Some(Some(contact)));
                }
            });
            waited.await.expect("every queued answer is answered");
        }
        for &(session, _) in &sessions {
            assert_eq!(
                scalar(&store, EVENTS, session).await,
                1,
                "events of {session}"
            );
        }
    }
}
