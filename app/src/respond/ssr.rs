//! Taking a quiz: the server side of every step, shared by the plain form
//! post and the server function.

use super::{PublicQuiz, QuestionView, ResultView, StepView};
use crate::error::AppError;
use crate::state::AppContext;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use quizfunnel::contact::{
    Identify, VISITOR_COOKIE, VISITOR_PARAM, VisitorId, attribute_from_json,
};
use quizfunnel::quiz::{
    self, Answer, Answers, ContactField, LeadGate, Question, QuestionKind, QuizDefinition, Step,
};
use quizfunnel::store::{AnsweredStep, QuizSession};
use std::collections::BTreeMap;

/// The step a plain form post produced, for the page rendered in reply.
#[derive(Debug, Clone)]
pub struct Posted(pub PublicQuiz);

/// The key of the contact step added when the lead gate asks for details
/// before the result and the quiz has no question of its own for them.
const LEAD_STEP: &str = "lead";
/// Hidden fields travel in the form as `hidden.<name>`.
const HIDDEN_PREFIX: &str = "hidden.";

#[derive(Debug, Clone)]
pub struct Visitor {
    pub id: String,
    /// Query parameters of this request (UTM and others).
    pub query: BTreeMap<String, String>,
}

/// Reads the visitor cookie, or makes a new visitor and the cookie to set.
pub fn visitor_from(headers: &HeaderMap, uri: &Uri) -> (Visitor, Option<HeaderValue>) {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == VISITOR_COOKIE)
        .and_then(|(_, value)| VisitorId::parse(value).ok());
    let pairs = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default();
    // A link from the marketer's site (decorated by /t.js) carries the
    // visitor id the site knows them by: the quiz continues that history.
    let from_link = pairs
        .iter()
        .find(|(k, _)| k == VISITOR_PARAM)
        .and_then(|(_, v)| VisitorId::parse(v).ok());
    let query = pairs
        .into_iter()
        .filter(|(k, v)| k != VISITOR_PARAM && k.len() <= 64 && v.len() <= 512)
        .take(20)
        .collect();
    let set_cookie = |id: &str| {
        HeaderValue::from_str(&format!(
            "{VISITOR_COOKIE}={id}; Path=/; Max-Age=63072000; SameSite=Lax"
        ))
        .ok()
    };
    match (from_link, cookie) {
        (Some(link), cookie) if cookie.as_ref() != Some(&link) => {
            let id = link.as_str().to_string();
            let header = set_cookie(&id);
            (Visitor { id, query }, header)
        }
        (_, Some(known)) => (
            Visitor {
                id: known.as_str().to_string(),
                query,
            },
            None,
        ),
        (_, None) => {
            let id = crate::auth::ssr::new_token();
            let header = set_cookie(&id);
            (Visitor { id, query }, header)
        }
    }
}

/// The visitor of the request being rendered or served.
pub fn visitor() -> Visitor {
    use leptos::prelude::use_context;
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return Visitor {
            id: crate::auth::ssr::new_token(),
            query: BTreeMap::new(),
        };
    };
    let (visitor, cookie) = visitor_from(&parts.headers, &parts.uri);
    if let (Some(cookie), Some(res)) = (cookie, use_context::<leptos_axum::ResponseOptions>()) {
        res.append_header(header::SET_COOKIE, cookie);
    }
    visitor
}

fn lead_question() -> Question {
    Question {
        key: LEAD_STEP.into(),
        kind: QuestionKind::Contact {
            fields: vec![
                ContactField::Email,
                ContactField::Name,
                ContactField::Consent,
            ],
        },
        prompt: "Where should we send your result?".into(),
        help: "We use your email to send the result and follow up on it.".into(),
        required: true,
        options: vec![],
        branches: vec![],
    }
}

fn needs_lead_step(def: &QuizDefinition) -> bool {
    def.lead_gate == LeadGate::BeforeResult && !def.asks_for_email()
}

fn question_for(def: &QuizDefinition, key: &str) -> Option<Question> {
    if key == LEAD_STEP && needs_lead_step(def) {
        return Some(lead_question());
    }
    def.question(key).cloned()
}

fn first_question(def: &QuizDefinition) -> Option<String> {
    match quiz::first_step(def) {
        Step::Question(k) => Some(k),
        Step::Result => needs_lead_step(def).then(|| LEAD_STEP.to_string()),
    }
}

fn next_after(def: &QuizDefinition, answers: &Answers, current: &str) -> Option<String> {
    if current == LEAD_STEP {
        return None;
    }
    match quiz::next_step(def, answers, current) {
        Step::Question(k) => Some(k),
        Step::Result => needs_lead_step(def).then(|| LEAD_STEP.to_string()),
    }
}

fn previous(def: &QuizDefinition, answers: &Answers, current: &str) -> Option<String> {
    if current == LEAD_STEP {
        return quiz::path(def, answers).last().cloned();
    }
    quiz::previous(def, answers, current)
}

fn answer_values(answer: Option<&Answer>) -> Vec<(String, String)> {
    let pair = |k: &str, v: String| (k.to_string(), v);
    match answer {
        Some(Answer::Choice { options }) => {
            options.iter().map(|o| pair("answer", o.clone())).collect()
        }
        Some(Answer::Scale { value }) => vec![pair("answer", value.to_string())],
        Some(Answer::Text { text }) => vec![pair("answer", text.clone())],
        Some(Answer::Contact {
            email,
            name,
            company,
            consent,
        }) => {
            let mut v = vec![pair("name", name.clone()), pair("company", company.clone())];
            if let Some(e) = email {
                v.push(pair("email", e.to_string()));
            }
            if *consent {
                v.push(pair("consent", "on".into()));
            }
            v
        }
        _ => vec![],
    }
}

struct ViewInput<'a> {
    slug: &'a str,
    def: &'a QuizDefinition,
    answers: &'a Answers,
    current: &'a str,
    error: Option<(String, String)>,
    values: Option<Vec<(String, String)>>,
    hidden: Vec<(String, String)>,
}

fn step_view(input: ViewInput<'_>) -> PublicQuiz {
    let ViewInput {
        slug,
        def,
        answers,
        current,
        error,
        values,
        hidden,
    } = input;
    let Some(q) = question_for(def, current) else {
        return PublicQuiz::Finished { slug: slug.into() };
    };
    let gate = usize::from(needs_lead_step(def));
    let (done, total) = if current == LEAD_STEP {
        let n = quiz::path(def, answers).len();
        (n, n + 1)
    } else {
        let (d, t) = quiz::progress(def, answers, current);
        (d, t + gate)
    };
    let fields = match &q.kind {
        QuestionKind::Contact { fields } => fields
            .iter()
            .map(|f| {
                serde_json::to_value(f)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            })
            .collect(),
        _ => vec![],
    };
    let scale = match q.kind {
        QuestionKind::Scale { min, max } => Some((min, max)),
        _ => None,
    };
    PublicQuiz::Step(Box::new(StepView {
        slug: slug.into(),
        title: def.title.clone(),
        intro: def.intro.clone(),
        brand_color: def.theme.brand_color.clone(),
        logo_url: def.theme.logo_url.clone(),
        done,
        total,
        can_go_back: previous(def, answers, current).is_some(),
        last: next_after(def, answers, current).is_none(),
        error,
        values: values.unwrap_or_else(|| answer_values(answers.get(current))),
        hidden_fields: hidden,
        question: QuestionView {
            key: q.key.clone(),
            kind: q.kind.name().into(),
            prompt: q.prompt.clone(),
            help: q.help.clone(),
            required: q.required,
            options: q
                .options
                .iter()
                .map(|o| (o.key.clone(), o.label.clone()))
                .collect(),
            scale,
            fields,
        },
    }))
}

/// The definition a session was given on (older versions stay readable).
async fn definition_for(
    ctx: &AppContext,
    published: &quizfunnel::store::PublishedQuiz,
    session: &QuizSession,
) -> Result<QuizDefinition, AppError> {
    if session.version_id == published.version_id {
        Ok(published.definition.clone())
    } else {
        Ok(ctx.store.quiz_version(session.version_id).await?.definition)
    }
}

/// The contact details given at the lead gate: this visitor is the person
/// with this email, and their history so far joins that contact.
pub fn lead_details(
    visitor: &Visitor,
    email: &quizfunnel::email::Email,
    name: &str,
    company: &str,
    consent: bool,
) -> Identify {
    let mut who = Identify::email(email.clone());
    who.visitor_id = VisitorId::parse(&visitor.id).ok();
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
    let contact = ctx
        .store
        .contact_for_visitor(&visitor.id, &visitor.query, now)
        .await?;
    let hidden: Vec<(String, String)> = visitor.query.clone().into_iter().collect();
    match ctx.store.latest_session(contact, published.quiz_id).await? {
        Some(s) if s.completed_at.is_some() => Ok(PublicQuiz::Finished { slug: slug.into() }),
        Some(s) => {
            let def = definition_for(ctx, &published, &s).await?;
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
        None => {
            let def = &published.definition;
            let current = first_question(def).unwrap_or_default();
            Ok(step_view(ViewInput {
                slug,
                def,
                answers: &Answers::new(),
                current: &current,
                error: None,
                values: None,
                hidden,
            }))
        }
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
        .filter(|(k, v)| k.len() <= 64 && v.len() <= 512)
        .take(20)
        .collect();
    let contact = ctx
        .store
        .contact_for_visitor(&visitor.id, &hidden, now)
        .await?;
    let mut session = ctx.store.latest_session(contact, published.quiz_id).await?;
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
        None => published.definition.clone(),
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
    let view = |answers: &Answers, current: &str, error, values| {
        step_view(ViewInput {
            slug,
            def: &def,
            answers,
            current,
            error,
            values,
            hidden: hidden_list.clone(),
        })
    };

    // A bot fills the field people never see: drop its visit, say nothing.
    if field(fields, "website").is_some_and(|v| !v.is_empty()) {
        if let Some(s) = &session {
            ctx.store.discard_session(s.id).await?;
        }
        return Ok(PublicQuiz::Finished { slug: slug.into() });
    }
    // A replayed or double-clicked post for a step already passed: show
    // where the respondent really is, store nothing.
    if action == "restart" || field(fields, "question") != Some(current.as_str()) {
        return Ok(view(&answers, &current, None, None));
    }
    if action == "back" {
        if let (Some(s), Some(prev)) = (&session, previous(&def, &answers, &current)) {
            ctx.store.move_to(s.id, &prev).await?;
            return Ok(view(&answers, &prev, None, None));
        }
        return Ok(view(&answers, &current, None, None));
    }
    let Some(question) = question_for(&def, &current) else {
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
                    published.quiz_id,
                    published.version_id,
                    Some(&current),
                    &hidden,
                    now,
                )
                .await?
        }
    };
    let mut answers = session.answers.clone();
    answers.insert(current.clone(), answer.clone());
    let next = next_after(&def, &answers, &current);
    let event_key = format!(
        "question_answered:{}:{}:{:016x}",
        session.id,
        current,
        answer_hash(&answer)
    );
    let session = ctx
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
        .await?;
    if let Answer::Contact {
        email: Some(email),
        name,
        company,
        consent,
    } = &answer
    {
        let who = lead_details(visitor, email, name, company, *consent);
        ctx.store.identify(&who, now).await?;
    }
    match next {
        Some(next) => Ok(view(&answers, &next, None, None)),
        None => {
            if now - session.started_at < ctx.spam.min_quiz_ms {
                ctx.store.discard_session(session.id).await?;
            } else {
                let scores = quiz::score(&def, &answers);
                ctx.store.complete_session(session.id, &scores, now).await?;
            }
            Ok(PublicQuiz::Finished { slug: slug.into() })
        }
    }
}

/// The outcome for this visitor's latest completed session of the quiz.
pub async fn result(
    ctx: &AppContext,
    visitor: &Visitor,
    slug: &str,
) -> Result<Option<ResultView>, AppError> {
    let Some(published) = ctx.store.published_quiz(slug).await? else {
        return Ok(None);
    };
    let contact = ctx
        .store
        .contact_for_visitor(&visitor.id, &BTreeMap::new(), ctx.clock.now())
        .await?;
    let Some(session) = ctx.store.latest_session(contact, published.quiz_id).await? else {
        return Ok(None);
    };
    if session.completed_at.is_none() {
        return Ok(None);
    }
    let def = definition_for(ctx, &published, &session).await?;
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
    Ok(Some(ResultView {
        slug: slug.into(),
        quiz_title: def.title.clone(),
        brand_color: def.theme.brand_color.clone(),
        title: outcome
            .map(|o| o.title.clone())
            .unwrap_or_else(|| "Thank you!".into()),
        body: outcome.map(|o| o.body_markdown.clone()).unwrap_or_default(),
        cta_label: outcome.map(|o| o.cta_label.clone()).unwrap_or_default(),
        cta_url: outcome.map(|o| o.cta_url.clone()).unwrap_or_default(),
        score: scores.total,
    }))
}
