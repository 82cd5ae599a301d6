use super::StoreResult;
use crate::quiz::{Answer, Answers, Scores};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A respondent's pass through one version of a quiz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizSession {
    pub id: i64,
    pub contact_id: i64,
    pub quiz_id: i64,
    pub version_id: i64,
    pub started_at: i64,
    pub completed_at: Option<i64>,
    /// The step the respondent is on; `None` once every question is done.
    pub current_question: Option<String>,
    pub answers: Answers,
    pub score: Option<f64>,
    /// The email given on the result page for this session, if any.
    pub lead_email: Option<String>,
}

/// One answered step, written with its event in one transaction.
#[derive(Debug, Clone)]
pub struct AnsweredStep<'a> {
    pub session_id: i64,
    pub question: &'a str,
    pub answer: &'a Answer,
    /// All answers after this one, as the session keeps them.
    pub answers: &'a Answers,
    /// Where the respondent goes next; `None` when the questions are done.
    pub next_question: Option<&'a str>,
    /// Replays of the same step carry the same key and store nothing new.
    pub event_key: &'a str,
    pub now: i64,
}

/// The tier a completion landed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub segment_slug: String,
    pub next_step: String,
    pub outcome_key: Option<String>,
    pub placed_at: i64,
}

/// Respondents' sessions, answers and completions.
#[async_trait]
pub trait ResponseStore: Send + Sync {
    /// What a quiz post starts from, read together: the contact behind
    /// `visitor_id`, as [`super::ContactStore::contact_for_visitor`] gives
    /// it, and the latest session of this quiz started in the browser
    /// holding `browser_key` (none for a browser new to us), finished or
    /// not.
    async fn visitor_and_session(
        &self,
        visitor_id: &str,
        browser_key: Option<&str>,
        quiz_id: i64,
        first_visit_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<(i64, Option<QuizSession>)>;

    /// The latest session of this quiz started in the browser holding
    /// `browser_key` (the latest finished one when `finished`): what that
    /// browser may see.
    async fn browser_session(
        &self,
        browser_key: &str,
        quiz_id: i64,
        finished: bool,
    ) -> StoreResult<Option<QuizSession>>;

    /// Starts a session on this version at its first question and records
    /// `quiz_started`, carrying the visit's hidden fields (UTM and others).
    /// A browser whose latest session of the quiz is still open (a double
    /// click) gets that session back. `None` is a session no browser
    /// resumes, such as demo data.
    #[allow(clippy::too_many_arguments)]
    async fn start_session(
        &self,
        contact_id: i64,
        browser_key: Option<&str>,
        quiz_id: i64,
        version_id: i64,
        first_question: Option<&str>,
        hidden_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<QuizSession>;

    /// Stores the step's answer, with the session's answers and next
    /// question as the step gives them. A finished session refuses it
    /// (`Conflict`) and nothing is stored.
    async fn save_answer(&self, step: AnsweredStep<'_>) -> StoreResult<()>;

    /// Moves the respondent to another question (back), answers kept.
    async fn move_to(&self, session_id: i64, question: &str) -> StoreResult<()>;

    /// Finishes the session with its scores and records `quiz_completed`,
    /// in one transaction; a second call changes nothing. `counted` are
    /// the answers on the path the respondent finished by: the session
    /// keeps only those, so rules see the answers its score saw, not
    /// those of a branch left by going back.
    /// Also places the contact in the first tier of the playbook whose
    /// segment they match, in the same transaction.
    async fn complete_session(
        &self,
        session_id: i64,
        counted: &Answers,
        scores: &Scores,
        now: i64,
    ) -> StoreResult<()>;

    /// The tier a completed session was placed in, if any matched.
    async fn placement(&self, session_id: i64) -> StoreResult<Option<Placement>>;

    /// Throws away a session a bot filled in (honeypot, too fast).
    async fn discard_session(&self, session_id: i64, now: i64) -> StoreResult<()>;

    /// Gives a session, with its events and placement, to contact `to`: on
    /// a shared device, the person who types their email at the lead gate
    /// is the one who answered, not whoever the browser knew before. Their
    /// lead takes the session's tier when it is their newest; the first
    /// contact's lead goes back to their own latest placement, if any.
    async fn hand_session_to(&self, session_id: i64, to: i64, now: i64) -> StoreResult<()>;

    /// Notes the email given on the session's result page.
    async fn note_lead_email(&self, session_id: i64, email: &str) -> StoreResult<()>;
}
