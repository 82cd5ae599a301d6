//! Taking a quiz: the server side of every step, shared by the plain form
//! post and the server function.

use super::steps::{
    ViewInput, first_question, lead_question, next_after, previous, question_for, result_view,
    step_view,
};
use super::{PublicQuiz, ResultView};
use crate::error::AppError;
use crate::state::AppContext;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use quizfunnel::contact::{
    BROWSER_COOKIE, Identify, NewEvent, QuizView, Subject, VISITOR_COOKIE, VISITOR_PARAM,
    VisitorId, attribute_from_json,
};
use quizfunnel::quiz::{self, Answer, Answers, QuizDefinition};
use quizfunnel::store::{AnsweredStep, PublishedQuiz, QuizSession};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The step a plain form post produced, for the page rendered in reply.
#[derive(Debug, Clone)]
pub struct Posted(pub PublicQuiz);

/// The result page a refused plain-form post on it produced.
#[derive(Debug, Clone)]
pub struct PostedResult(pub ResultView);

/// Hidden fields travel in the form as `hidden.<name>`.
const HIDDEN_PREFIX: &str = "hidden.";

#[derive(Debug, Clone)]
pub struct Visitor {
    pub id: String,
    /// Query parameters of this request (UTM and others).
    pub query: BTreeMap<String, String>,
    /// The secret this browser's quiz sessions are bound to.
    pub browser: String,
    /// The browser key was made for this request: no session holds it.
    pub new_browser: bool,
}

impl Visitor {
    fn new(query: BTreeMap<String, String>) -> Visitor {
        Visitor {
            id: crate::auth::ssr::new_visitor_id(),
            query,
            browser: crate::auth::ssr::new_visitor_id(),
            new_browser: true,
        }
    }

    /// This browser's latest session of the quiz, finished or not.
    async fn session(
        &self,
        ctx: &AppContext,
        quiz_id: i64,
    ) -> Result<Option<QuizSession>, AppError> {
        self.session_of(ctx, quiz_id, false).await
    }

    async fn session_of(
        &self,
        ctx: &AppContext,
        quiz_id: i64,
        finished: bool,
    ) -> Result<Option<QuizSession>, AppError> {
        if self.new_browser {
            return Ok(None);
        }
        Ok(ctx
            .store
            .browser_session(&self.browser, quiz_id, finished)
            .await?)
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<VisitorId> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .and_then(|(_, value)| VisitorId::parse(value).ok())
}

/// How the visitor and browser cookies are kept. Over https they also
/// reach a quiz embedded in another site's page, where browsers send only
/// `SameSite=None; Secure` cookies, kept apart per embedding site
/// (`Partitioned`); plain http allows first-party `Lax` ones only.
fn cookie_attributes(secure: bool) -> &'static str {
    if secure {
        "Path=/; Max-Age=63072000; Secure; SameSite=None; Partitioned"
    } else {
        "Path=/; Max-Age=63072000; SameSite=Lax"
    }
}

/// Whether a query or hidden field (UTM and others) is kept with the
/// visit: short enough, and no NUL, which Postgres refuses in text.
fn keeps_field(key: &str, value: &str) -> bool {
    key.len() <= 64 && value.len() <= 512 && !key.contains('\0') && !value.contains('\0')
}

/// Reads the visitor and browser cookies, making what is missing, with
/// the cookies to set (`secure` when served over https).
pub fn visitor_from(headers: &HeaderMap, uri: &Uri, secure: bool) -> (Visitor, Vec<HeaderValue>) {
    let pairs = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default();
    // A link from the marketer's site (decorated by /t.js) carries the
    // visitor id the site knows them by: the quiz continues that history.
    // It names who the answers are about, never which answers are shown:
    // that is the browser key's part.
    let from_link = pairs
        .iter()
        .find(|(k, _)| k == VISITOR_PARAM)
        .and_then(|(_, v)| VisitorId::parse(v).ok());
    let query = pairs
        .into_iter()
        .filter(|(k, v)| k != VISITOR_PARAM && keeps_field(k, v))
        .take(20)
        .collect();
    let attributes = cookie_attributes(secure);
    let mut set = Vec::new();
    // Ids are made only for what the browser lacks: this runs on every
    // quiz page and answer.
    let known = cookie(headers, VISITOR_COOKIE);
    let id = from_link
        .or_else(|| known.clone())
        .map_or_else(crate::auth::ssr::new_visitor_id, |v| v.as_str().to_string());
    if known.as_ref().map(VisitorId::as_str) != Some(id.as_str()) {
        set.push(format!("{VISITOR_COOKIE}={id}; {attributes}"));
    }
    let (browser, new_browser) = match cookie(headers, BROWSER_COOKIE) {
        Some(key) => (key.as_str().to_string(), false),
        None => {
            let key = crate::auth::ssr::new_visitor_id();
            set.push(format!("{BROWSER_COOKIE}={key}; HttpOnly; {attributes}"));
            (key, true)
        }
    };
    let visitor = Visitor {
        id,
        query,
        browser,
        new_browser,
    };
    let set = set
        .into_iter()
        .filter_map(|c| HeaderValue::from_str(&c).ok())
        .collect();
    (visitor, set)
}

/// The visitor of the request being rendered or served.
pub fn visitor() -> Visitor {
    use leptos::prelude::use_context;
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return Visitor::new(BTreeMap::new());
    };
    let secure = use_context::<AppContext>().is_some_and(|ctx| ctx.sessions.secure_cookie);
    let (visitor, cookies) = visitor_from(&parts.headers, &parts.uri, secure);
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        for cookie in cookies {
            res.append_header(header::SET_COOKIE, cookie);
        }
    }
    visitor
}

/// The definition a session was given on (older versions stay readable):
/// the live one is borrowed, as nearly every post is on it.
async fn definition_for<'a>(
    ctx: &AppContext,
    published: &'a quizfunnel::store::PublishedQuiz,
    session: &QuizSession,
) -> Result<Cow<'a, QuizDefinition>, AppError> {
    if session.version_id == published.version_id {
        Ok(Cow::Borrowed(&published.definition))
    } else {
        Ok(Cow::Owned(
            ctx.store.quiz_version(session.version_id).await?.definition,
        ))
    }
}

/// The contact details given at the lead gate: this visitor is the person
/// with this email, and their history so far joins that contact.
pub fn lead_details(
    visitor_id: &str,
    email: &quizfunnel::email::Email,
    name: &str,
    company: &str,
    consent: bool,
) -> Identify {
    let mut who = Identify::email(email.clone());
    who.visitor_id = VisitorId::parse(visitor_id).ok();
    who.name = (!name.is_empty()).then(|| name.to_string());
    who.consent = Some(consent);
    if !company.is_empty()
        && let Ok(change) =
            attribute_from_json("company", &serde_json::Value::String(company.into()))
    {
        who.attributes.push(change);
    }
    who
}

/// What the visitor sees at `/q/{slug}` now.
pub async fn current(
    ctx: &AppContext,
    visitor: &Visitor,
    slug: &str,
) -> Result<PublicQuiz, AppError> {
    // A refused plain-form post renders the page with the step it produced.
    if let Some(Posted(step)) = leptos::prelude::use_context::<Posted>() {
        return Ok(step);
    }
    let Some(published) = ctx.store.published_quiz(slug).await? else {
        return Ok(PublicQuiz::NotFound);
    };
    let now = ctx.clock.now();
    let hidden: Vec<(String, String)> = visitor.query.clone().into_iter().collect();
    let published = &published;
    let first_view = |hidden| async move {
        let view = QuizView {
            visitor_id: visitor.id.clone(),
            first_visit_fields: visitor.query.clone(),
            quiz_id: published.quiz_id,
            slug: slug.into(),
            at: now,
        };
        ctx.views.record(&*ctx.store, view, now).await;
        let def = &published.definition;
        let current = first_question(def).unwrap_or_default();
        let mut view = step_view(ViewInput {
            slug,
            def,
            answers: &Answers::new(),
            current: &current,
            error: None,
            values: None,
            hidden,
        });
        if let PublicQuiz::Step(step) = &mut view {
            step.started = Some(
                ctx.spam
                    .start_token(published.quiz_id, &visitor.browser, now),
            );
        }
        view
    };
    // Nothing is stored for a browser new to us, so there is nothing to
    // look up: their first view is the only write, and it waits in a queue.
    match visitor.session(ctx, published.quiz_id).await? {
        Some(s) if s.completed_at.is_some() => Ok(PublicQuiz::Finished { slug: slug.into() }),
        Some(s) => {
            let def = definition_for(ctx, published, &s).await?;
            let current = s
                .current_question
                .clone()
                .or_else(|| first_question(&def))
                .unwrap_or_default();
            Ok(step_view(ViewInput {
                slug,
                def: &def,
                answers: &s.answers,
                current: &current,
                error: None,
                values: None,
                hidden,
            }))
        }
        None => Ok(first_view(hidden).await),
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A stable short hash of an answer, so a replayed step maps to the same
/// event key and a changed answer to a new one.
fn answer_hash(answer: &Answer) -> u64 {
    let text = serde_json::to_string(answer).unwrap_or_default();
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether `question` comes before `current` on the respondent's path
/// (the lead gate's step, off the quiz's questions, comes after them all).
fn answered_before(def: &QuizDefinition, answers: &Answers, question: &str, current: &str) -> bool {
    let path = quiz::path(def, answers);
    let at = |key: &str| path.iter().position(|k| k == key);
    match (at(question), at(current)) {
        (Some(q), Some(c)) => q < c,
        (Some(_), None) => current == quizfunnel::quiz::draft::LEAD_STEP,
        _ => false,
    }
}

/// Takes one posted step: an answer, `action=back`, or `action=restart`
/// on a finished quiz. Refused answers come back as the same step with
/// the message and the posted values; nothing is stored for them.
pub async fn submit(
    ctx: &AppContext,
    visitor: &Visitor,
    slug: &str,
    fields: &[(String, String)],
) -> Result<PublicQuiz, AppError> {
    let Some(published) = ctx.store.published_quiz(slug).await? else {
        return Ok(PublicQuiz::NotFound);
    };
    let now = ctx.clock.now();
    let action = field(fields, "action").unwrap_or("answer");
    let hidden: BTreeMap<String, String> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(HIDDEN_PREFIX)
                .map(|k| (k.to_string(), v.clone()))
        })
        .filter(|(k, v)| keeps_field(k, v))
        .take(20)
        .collect();
    let browser = (!visitor.new_browser).then_some(visitor.browser.as_str());
    let (contact, mut session) = ctx
        .store
        .visitor_and_session(&visitor.id, browser, published.quiz_id, &hidden, now)
        .await?;
    if session.as_ref().is_some_and(|s| s.completed_at.is_some()) {
        if action != "restart" {
            return Ok(PublicQuiz::Finished { slug: slug.into() });
        }
        // Taking it again starts a new session on the current version.
        let first = first_question(&published.definition);
        let fresh = ctx
            .store
            .start_session(
                contact,
                Some(&visitor.browser),
                published.quiz_id,
                published.version_id,
                first.as_deref(),
                &hidden,
                now,
            )
            .await?;
        session = Some(fresh);
    }
    let def = match &session {
        Some(s) => definition_for(ctx, &published, s).await?,
        None => Cow::Borrowed(&published.definition),
    };
    let hidden_list: Vec<(String, String)> = hidden.clone().into_iter().collect();
    let answers = session
        .as_ref()
        .map(|s| s.answers.clone())
        .unwrap_or_default();
    let current = session
        .as_ref()
        .and_then(|s| s.current_question.clone())
        .or_else(|| first_question(&def))
        .unwrap_or_default();
    // When the first question was shown, as the page posted it back: a
    // respondent is timed from there, not from their first answer. A post
    // without it (or with one this server did not sign for this browser,
    // or from the future or yesterday) starts now.
    let posted_start = field(fields, "started").map(|t| {
        ctx.spam
            .start_from_token(published.quiz_id, &visitor.browser, t)
    });
    let started = posted_start
        .flatten()
        .filter(|t| (now - 86_400_000..=now).contains(t))
        .unwrap_or(now);
    let not_started = session.is_none();
    let view = |answers: &Answers, current: &str, error, values| {
        let mut view = step_view(ViewInput {
            slug,
            def: &def,
            answers,
            current,
            error,
            values,
            hidden: hidden_list.clone(),
        });
        if let (PublicQuiz::Step(step), true) = (&mut view, not_started) {
            step.started = Some(
                ctx.spam
                    .start_token(published.quiz_id, &visitor.browser, started),
            );
        }
        view
    };

    // A bot fills the field people never see: drop its visit, say nothing.
    if field(fields, "website").is_some_and(|v| !v.is_empty()) {
        if let Some(s) = &session {
            ctx.store.discard_session(s.id, now).await?;
        }
        return Ok(PublicQuiz::Finished { slug: slug.into() });
    }
    // A browser that sent no key with a post from past the first question,
    // or with a first page signed for the key it was given, dropped the
    // cookie (cookies off, or blocked in a quiz embedded in another site):
    // say so rather than start over silently, or time it from each post.
    let posted = field(fields, "question");
    let key_dropped = posted.is_some_and(|q| q != current) || posted_start == Some(None);
    if visitor.new_browser && action != "restart" && key_dropped {
        let lost = (
            "answer".to_string(),
            "This browser did not keep the quiz cookie, so your place was lost. \
             Allow cookies for this site (or open the quiz in its own tab), then answer again."
                .to_string(),
        );
        return Ok(view(&answers, &current, Some(lost), None));
    }
    // A post for an earlier question on the respondent's path (the
    // browser's Back to a page without JavaScript, then a changed answer;
    // or a double click) answers that question again, and goes on from it.
    let current = match posted {
        Some(q) if action != "restart" && answered_before(&def, &answers, q, &current) => {
            q.to_string()
        }
        _ => current,
    };
    // A replayed post for a step not on the path (any more): show where
    // the respondent really is, store nothing.
    if action == "restart" || posted != Some(current.as_str()) {
        return Ok(view(&answers, &current, None, None));
    }
    if action == "back" {
        if let (Some(s), Some(prev)) = (&session, previous(&def, &answers, &current)) {
            ctx.store.move_to(s.id, &prev).await?;
            return Ok(view(&answers, &prev, None, None));
        }
        return Ok(view(&answers, &current, None, None));
    }
    let Some(question) = question_for(&def, &answers, &current) else {
        return Ok(view(&answers, &current, None, None));
    };
    let answer = match quiz::parse_step(&question, fields) {
        Ok(a) => a,
        Err(e) => {
            let posted: Vec<(String, String)> = fields.to_vec();
            return Ok(view(
                &answers,
                &current,
                Some((e.field, e.message)),
                Some(posted),
            ));
        }
    };
    let session = match session {
        Some(s) => s,
        None => {
            ctx.store
                .start_session(
                    contact,
                    Some(&visitor.browser),
                    published.quiz_id,
                    published.version_id,
                    Some(&current),
                    &hidden,
                    started,
                )
                .await?
        }
    };
    let mut answers = session.answers.clone();
    answers.insert(current.clone(), answer.clone());
    let next = next_after(&def, &answers, &current);
    // Faster than people read: asked again, with the choice kept and
    // nothing stored, so a quick person gets there on the second try while
    // a script firing posts is left with an unfinished session.
    if next.is_none() && now - session.started_at < ctx.spam.min_quiz_ms {
        let quick = (
            "answer".to_string(),
            "That was quick! Check your answers, then send them again.".to_string(),
        );
        return Ok(view(
            &session.answers,
            &current,
            Some(quick),
            Some(fields.to_vec()),
        ));
    }
    let event_key = format!(
        "question_answered:{}:{}:{:016x}",
        session.id,
        current,
        answer_hash(&answer)
    );
    let saved = ctx
        .store
        .save_answer(AnsweredStep {
            session_id: session.id,
            question: &current,
            answer: &answer,
            answers: &answers,
            next_question: next.as_deref(),
            event_key: &event_key,
            now,
        })
        .await;
    match saved {
        // A second copy of the last step (a double click) that read the
        // session before the first finished it: the respondent is done.
        Err(quizfunnel::store::StoreError::Conflict(_)) => {
            return Ok(PublicQuiz::Finished { slug: slug.into() });
        }
        saved => saved?,
    }
    if let Answer::Contact {
        email: Some(email),
        name,
        company,
        consent,
    } = &answer
    {
        let who = lead_details(&visitor.id, email, name, company, *consent);
        give_lead(ctx, &who, &session, now).await?;
    }
    match next {
        Some(next) => Ok(view(&answers, &next, None, None)),
        None => {
            let scores = quiz::score(&def, &answers);
            let counted = quiz::answers_on_path(&def, &answers);
            ctx.store
                .complete_session(session.id, &counted, &scores, now)
                .await?;
            Ok(PublicQuiz::Finished { slug: slug.into() })
        }
    }
}

/// Stores the details a respondent gave at the lead gate; when they name
/// someone other than the contact the session is on (a shared device or
/// link), the session goes to them.
async fn give_lead(
    ctx: &AppContext,
    who: &Identify,
    session: &QuizSession,
    now: i64,
) -> Result<(), AppError> {
    let identified = ctx.store.identify(who, now).await?;
    if identified.contact_id != session.contact_id {
        ctx.store
            .hand_session_to(session.id, identified.contact_id, now)
            .await?;
    }
    Ok(())
}

/// The outcome for this browser's latest completed session of the quiz;
/// `NotFound` when no quiz is published at `slug`.
pub async fn result(
    ctx: &AppContext,
    visitor: &Visitor,
    slug: &str,
) -> Result<Option<ResultView>, AppError> {
    if let Some(PostedResult(view)) = leptos::prelude::use_context::<PostedResult>() {
        return Ok(Some(view));
    }
    match finished_session(ctx, visitor, slug).await? {
        Some((published, session)) => Ok(Some(outcome(ctx, slug, &published, &session).await?)),
        None => Ok(None),
    }
}

/// This browser's latest finished session of the quiz at `slug` (a result
/// stays while the quiz is taken again); `NotFound` when no quiz is
/// published there.
async fn finished_session(
    ctx: &AppContext,
    visitor: &Visitor,
    slug: &str,
) -> Result<Option<(std::sync::Arc<PublishedQuiz>, QuizSession)>, AppError> {
    let Some(published) = ctx.store.published_quiz(slug).await? else {
        return Err(AppError::NotFound);
    };
    Ok(visitor
        .session_of(ctx, published.quiz_id, true)
        .await?
        .map(|session| (published, session)))
}

/// The result page of a finished session.
async fn outcome(
    ctx: &AppContext,
    slug: &str,
    published: &PublishedQuiz,
    session: &QuizSession,
) -> Result<ResultView, AppError> {
    let def = definition_for(ctx, published, session).await?;
    let scores = quiz::score(&def, &session.answers);
    // The tier the respondent was placed in decides first: its own outcome
    // when the playbook names one, else an outcome chosen by that tier.
    let placement = ctx.store.placement(session.id).await?;
    let outcome = placement
        .as_ref()
        .and_then(|p| p.outcome_key.as_deref())
        .and_then(|key| def.outcome(key))
        .or_else(|| {
            quiz::choose_outcome(
                &def,
                &scores,
                placement.as_ref().map(|p| p.segment_slug.as_str()),
            )
        });
    // Only the email given on this session's result page (shown where the
    // page offers the form): the contact may be someone else's too (a
    // shared link or device).
    Ok(result_view(
        slug,
        &def,
        &session.answers,
        &scores,
        outcome,
        session.lead_email.clone(),
    ))
}

/// The event a request for the result by email leaves on the contact.
pub const RESULT_REQUESTED: &str = "result_requested";

/// The form on the result page of a quiz whose lead gate comes after the
/// result: the respondent asks for their result by email and becomes a
/// known contact. A refused email comes back with its message and what was
/// posted; nothing is stored for it.
pub async fn send_result(
    ctx: &AppContext,
    visitor: &Visitor,
    slug: &str,
    fields: &[(String, String)],
) -> Result<Option<ResultView>, AppError> {
    let Some((published, session)) = finished_session(ctx, visitor, slug).await? else {
        return Ok(None);
    };
    let mut view = outcome(ctx, slug, &published, &session).await?;
    let Some(offer) = view.lead.as_mut() else {
        return Ok(Some(view));
    };
    // A bot fills the field people never see: say nothing, keep nothing.
    if field(fields, "website").is_some_and(|v| !v.is_empty()) {
        return Ok(Some(view));
    }
    match quiz::parse_step(&lead_question(), fields) {
        Ok(Answer::Contact {
            email: Some(email),
            name,
            company,
            consent,
        }) => {
            let now = ctx.clock.now();
            let who = lead_details(&visitor.id, &email, &name, &company, consent);
            give_lead(ctx, &who, &session, now).await?;
            ctx.store
                .note_lead_email(session.id, email.as_str())
                .await?;
            // quizfunnel sends no mail itself: the request is an event on
            // the contact, which a segment's webhook to the email tool
            // acts on. Once per session and address, however often sent.
            let properties = serde_json::json!({
                "quiz": slug,
                "session_id": session.id,
                "result": view.title,
                "score": view.score,
            });
            let requested = NewEvent {
                subject: Subject::Email(email.clone()),
                name: RESULT_REQUESTED.into(),
                properties: properties.as_object().cloned().unwrap_or_default(),
                occurred_at: now,
                idempotency_key: Some(format!("{RESULT_REQUESTED}:{}:{email}", session.id)),
            };
            ctx.store.ingest_events(&[(0, requested)], now).await?;
            offer.sent_to = Some(email.to_string());
        }
        Ok(_) => {}
        Err(e) => {
            offer.error = Some((e.field, e.message));
            offer.values = fields.to_vec();
        }
    }
    Ok(Some(view))
}
