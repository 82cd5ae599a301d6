//! Contacts and the behavioral signals stored against them: what an event,
//! a visitor id and a typed attribute are, and how the ingestion API's
//! input is read. Parse, don't validate: every check that needs no database
//! lives here, so the store only ever sees well-formed values.

use crate::email::Email;
use crate::time::parse_iso;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The first-party cookie (on the marketer's site and on our quiz pages)
/// and the query parameter that carry a visitor id from one to the other.
pub const VISITOR_COOKIE: &str = "qf_vid";
pub const VISITOR_PARAM: &str = "qf_vid";
/// The HttpOnly cookie holding the secret a browser's quiz sessions are
/// bound to: unlike the visitor id, it is never in a link or a script.
pub const BROWSER_COOKIE: &str = "qf_rk";
/// At most this many events in one `POST /api/v1/events`.
pub const MAX_BATCH: usize = 500;
/// At most this many bytes in one API request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Clocks drift; an event may claim to be this far in the future, no more.
pub const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;
/// Events before 2000-01-01 are surely a unit mistake (seconds for ms).
pub const EARLIEST_EVENT_MS: i64 = 946_684_800_000;
pub const MAX_PROPERTIES_BYTES: usize = 16 * 1024;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;
pub const MAX_ATTRIBUTE_CHARS: usize = 1000;
pub const MAX_ATTRIBUTES: usize = 100;
/// Anonymous visitors idle this long are deleted, unless settings say otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 180;
/// The event of a first view of a quiz; its key starts `quiz_viewed:{quiz id}:`.
pub const QUIZ_VIEWED: &str = "quiz_viewed";

/// A visitor opened a quiz: the funnel's first step. Stored with the
/// visitor's contact, made on first sight with the query parameters of
/// that visit (UTM and others).
#[derive(Debug, Clone, PartialEq)]
pub struct QuizView {
    pub visitor_id: String,
    pub first_visit_fields: std::collections::BTreeMap<String, String>,
    pub quiz_id: i64,
    pub slug: String,
    pub at: i64,
}

impl QuizView {
    /// Counted once per contact and quiz: a second view stores nothing.
    pub fn idempotency_key(&self, contact: i64) -> String {
        format!("{QUIZ_VIEWED}:{}:{contact}", self.quiz_id)
    }
}
pub const DAY_MS: i64 = 86_400_000;

/// A browser's first-party visitor id: 8 to 64 of `A-Z a-z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VisitorId(String);

impl VisitorId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (8..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err("must be 8 to 64 letters, digits, - or _".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VisitorId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<VisitorId> for String {
    fn from(v: VisitorId) -> String {
        v.0
    }
}

impl fmt::Display for VisitorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whom an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Subject {
    Visitor(VisitorId),
    Email(Email),
    Contact(i64),
}

/// One valid event, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub subject: Subject,
    pub name: String,
    pub properties: Map<String, Value>,
    pub occurred_at: i64,
    pub idempotency_key: Option<String>,
}

/// Why one item of a batch (or one field of a request) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub index: usize,
    pub field: String,
    pub reason: String,
}

/// A problem with one field: its name and what is wrong.
pub type FieldError = (String, String);

fn field_err(field: &str, reason: impl Into<String>) -> FieldError {
    (field.to_string(), reason.into())
}

/// Why a whole batch was refused before looking at its items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    #[error("send a JSON array of events")]
    NotArray,
    #[error("the batch is empty; send 1 to {MAX_BATCH} events")]
    Empty,
    #[error("a batch holds at most {MAX_BATCH} events; this one has {0}")]
    TooMany(usize),
}

/// Which callers may name a contact by email or id: servers holding an API
/// key may; browsers with the public site key only have their visitor id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Server,
    Browser,
}

/// The valid events of a batch with their index, and the refused ones.
pub type ParsedBatch = (Vec<(usize, NewEvent)>, Vec<Rejection>);

/// Reads a batch: the valid events with their index, and the refused ones.
pub fn parse_batch(body: &[u8], caller: Caller, now: i64) -> Result<ParsedBatch, BatchError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BatchError::NotJson(e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(BatchError::NotArray);
    };
    if items.is_empty() {
        return Err(BatchError::Empty);
    }
    if items.len() > MAX_BATCH {
        return Err(BatchError::TooMany(items.len()));
    }
    let mut valid = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match parse_event(item, caller, now) {
            Ok(event) => valid.push((index, event)),
            Err((field, reason)) => rejected.push(Rejection {
                index,
                field,
                reason,
            }),
        }
    }
    Ok((valid, rejected))
}

const EVENT_FIELDS: &[&str] = &[
    "name",
    "visitor_id",
    "email",
    "contact_id",
    "properties",
    "occurred_at",
    "idempotency_key",
];

/// Reads one event object; the error names the offending field.
pub fn parse_event(item: &Value, caller: Caller, now: i64) -> Result<NewEvent, FieldError> {
    let Value::Object(obj) = item else {
        return Err(field_err("", "each event must be a JSON object"));
    };
    reject_unknown(obj, EVENT_FIELDS)?;
    let name = match obj.get("name") {
        None | Some(Value::Null) => return Err(field_err("name", "is required")),
        Some(v) => short_text(v, "name", MAX_NAME_CHARS)?,
    };
    let subject = parse_subject(obj, caller)?;
    let properties = match obj.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            let size = serde_json::to_string(m)
                .map(|s| s.len())
                .unwrap_or(usize::MAX);
            if size > MAX_PROPERTIES_BYTES {
                return Err(field_err(
                    "properties",
                    format!("is {size} bytes; at most {MAX_PROPERTIES_BYTES} are kept per event"),
                ));
            }
            if map_holds_nul(m) {
                return Err(field_err("properties", NUL_REFUSED));
            }
            m.clone()
        }
        Some(_) => return Err(field_err("properties", "must be a JSON object")),
    };
    let occurred_at = match obj.get("occurred_at") {
        None | Some(Value::Null) => now,
        Some(v) => parse_time(v, "occurred_at")?,
    };
    if occurred_at > now + MAX_FUTURE_MS {
        return Err(field_err(
            "occurred_at",
            "is more than 5 minutes in the future",
        ));
    }
    if occurred_at < EARLIEST_EVENT_MS {
        return Err(field_err(
            "occurred_at",
            "is before the year 2000; send milliseconds since the epoch or an RFC 3339 time",
        ));
    }
    // A sender's clock a little ahead: the event is stored as arriving now.
    // Rules see events up to their own now, so one stamped minutes ahead
    // would count for nothing until a sweep happened to come by.
    let occurred_at = occurred_at.min(now);
    let idempotency_key = match obj.get("idempotency_key") {
        None | Some(Value::Null) => None,
        Some(v) => Some(short_text(v, "idempotency_key", MAX_IDEMPOTENCY_KEY_CHARS)?),
    };
    Ok(NewEvent {
        subject,
        name,
        properties,
        occurred_at,
        idempotency_key,
    })
}

/// Postgres cannot store a NUL character in text or JSON, so it is
/// refused on both databases alike rather than failing on one.
const NUL_REFUSED: &str = "must not contain a NUL (\\u0000) character";

fn holds_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(m) => map_holds_nul(m),
        _ => false,
    }
}

fn map_holds_nul(m: &Map<String, Value>) -> bool {
    m.iter().any(|(k, v)| k.contains('\0') || holds_nul(v))
}

fn parse_subject(obj: &Map<String, Value>, caller: Caller) -> Result<Subject, FieldError> {
    let given: Vec<&str> = ["visitor_id", "email", "contact_id"]
        .into_iter()
        .filter(|k| obj.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    match given.as_slice() {
        [] => Err(field_err(
            "visitor_id",
            "give one of visitor_id, email or contact_id",
        )),
        [one] => {
            if caller == Caller::Browser && *one != "visitor_id" {
                return Err(field_err(one, "needs an API key; browsers send visitor_id"));
            }
            let v = &obj[*one];
            match *one {
                "visitor_id" => Ok(Subject::Visitor(parse_visitor(v)?)),
                "email" => Ok(Subject::Email(parse_email(v)?)),
                _ => match v.as_i64() {
                    Some(id) if id > 0 => Ok(Subject::Contact(id)),
                    _ => Err(field_err("contact_id", "must be a positive whole number")),
                },
            }
        }
        [_, second, ..] => Err(field_err(
            second,
            "give only one of visitor_id, email or contact_id",
        )),
    }
}

fn parse_visitor(v: &Value) -> Result<VisitorId, FieldError> {
    let text = v
        .as_str()
        .ok_or_else(|| field_err("visitor_id", "must be a string"))?;
    VisitorId::parse(text).map_err(|e| field_err("visitor_id", e))
}

fn parse_email(v: &Value) -> Result<Email, FieldError> {
    let text = v
        .as_str()
        .ok_or_else(|| field_err("email", "must be a string"))?;
    Email::parse(text).map_err(|e| field_err("email", e.to_string()))
}

fn reject_unknown(obj: &Map<String, Value>, known: &[&str]) -> Result<(), FieldError> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(field_err(
            k,
            format!("is not a known field; use {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn short_text(v: &Value, field: &str, max: usize) -> Result<String, FieldError> {
    let text = v
        .as_str()
        .ok_or_else(|| field_err(field, "must be a string"))?;
    let n = text.chars().count();
    if n == 0 || n > max || text.trim().is_empty() {
        return Err(field_err(field, format!("must be 1 to {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(field_err(field, "must not contain control characters"));
    }
    Ok(text.to_string())
}

/// Milliseconds since the epoch, or an RFC 3339 string.
fn parse_time(v: &Value, field: &str) -> Result<i64, FieldError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| field_err(field, "must be whole milliseconds since the epoch")),
        Value::String(s) => parse_iso(s).ok_or_else(|| {
            field_err(
                field,
                "must be an RFC 3339 time such as 2026-11-28T16:05:00Z",
            )
        }),
        _ => Err(field_err(
            field,
            "must be milliseconds since the epoch or an RFC 3339 time",
        )),
    }
}

/// The type of a contact attribute, so segment rules compare like with like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttrKind {
    String,
    Number,
    Bool,
    Date,
}

impl AttrKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrKind::String => "string",
            AttrKind::Number => "number",
            AttrKind::Bool => "bool",
            AttrKind::Date => "date",
        }
    }

    pub fn parse(s: &str) -> Option<AttrKind> {
        [
            AttrKind::String,
            AttrKind::Number,
            AttrKind::Bool,
            AttrKind::Date,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One typed attribute. The store keeps `text` and, whenever the text reads
/// as a number (`rule::number_in_text`), that number beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub key: String,
    pub kind: AttrKind,
    pub text: String,
}

/// Set an attribute, or remove it (`null` in the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttrChange {
    Set(Attribute),
    Remove(String),
}

/// Attribute keys: 1 to 64 of `A-Z a-z 0-9 _ - .`.
pub fn parse_attr_key(key: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(key.to_string())
    } else {
        Err("attribute names are 1 to 64 letters, digits, _, - or .".into())
    }
}

/// JSON values become typed attributes: numbers are `number`, booleans
/// `bool`, an ISO date or RFC 3339 time `date`, other strings `string`.
pub fn attribute_from_json(key: &str, value: &Value) -> Result<AttrChange, String> {
    let key = parse_attr_key(key)?;
    let (kind, text) = match value {
        Value::Null => return Ok(AttrChange::Remove(key)),
        Value::Bool(b) => (AttrKind::Bool, b.to_string()),
        Value::Number(n) => (AttrKind::Number, n.to_string()),
        Value::String(s) if s.chars().count() > MAX_ATTRIBUTE_CHARS => {
            return Err(format!("is longer than {MAX_ATTRIBUTE_CHARS} characters"));
        }
        Value::String(s) if s.contains('\0') => return Err(NUL_REFUSED.into()),
        Value::String(s) if parse_iso(s).is_some() => (AttrKind::Date, s.clone()),
        Value::String(s) => (AttrKind::String, s.clone()),
        _ => return Err("must be a string, number, boolean, date or null".into()),
    };
    Ok(AttrChange::Set(Attribute { key, kind, text }))
}

fn parse_attributes(v: Option<&Value>) -> Result<Vec<AttrChange>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) if m.len() > MAX_ATTRIBUTES => Err(field_err(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes at a time"),
        )),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| attribute_from_json(k, v).map_err(|e| (format!("attributes.{k}"), e)))
            .collect(),
        Some(_) => Err(field_err("attributes", "must be a JSON object")),
    }
}

/// "This visitor (or this API caller's person) is the person with this
/// email": the lead gate, `quizfunnel.identify`, `POST /api/v1/contacts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identify {
    pub email: Email,
    pub visitor_id: Option<VisitorId>,
    pub name: Option<String>,
    pub consent: Option<bool>,
    pub attributes: Vec<AttrChange>,
}

impl Identify {
    pub fn email(email: Email) -> Identify {
        Identify {
            email,
            visitor_id: None,
            name: None,
            consent: None,
            attributes: Vec::new(),
        }
    }
}

const IDENTIFY_FIELDS: &[&str] = &["email", "visitor_id", "name", "consent", "attributes"];

/// Reads the body of `POST /api/v1/contacts` or `/api/v1/identify`.
pub fn parse_identify(value: &Value) -> Result<Identify, FieldError> {
    let Value::Object(obj) = value else {
        return Err(field_err("", "send a JSON object"));
    };
    reject_unknown(obj, IDENTIFY_FIELDS)?;
    let email = match obj.get("email") {
        None | Some(Value::Null) => return Err(field_err("email", "is required")),
        Some(v) => parse_email(v)?,
    };
    let visitor_id = match obj.get("visitor_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_visitor(v)?),
    };
    let name = match obj.get("name") {
        None | Some(Value::Null) => None,
        Some(v) => Some(short_text(v, "name", 200)?),
    };
    let consent = match obj.get("consent") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(field_err("consent", "must be true or false")),
    };
    let attributes = parse_attributes(obj.get("attributes"))?;
    Ok(Identify {
        email,
        visitor_id,
        name,
        consent,
        attributes,
    })
}

/// A web origin as browsers send it: `scheme://host[:port]`, lower-cased.
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let s = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("\"{raw}\" must start with https:// or http://"))?;
    let ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if ok {
        Ok(s)
    } else {
        Err(format!(
            "\"{raw}\" is not an origin such as https://www.example.com (no path)"
        ))
    }
}

// ---- What the store hands back ----

/// The site key, the origins that may use it, and how long anonymous
/// visitors are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingSettings {
    /// Public: it is in `/t.js`. It only lets browsers on the allowed
    /// origins send events for their own visitor id.
    pub site_key: String,
    pub allowed_origins: Vec<String>,
    pub retention_days: i64,
}

impl TrackingSettings {
    pub fn allows_origin(&self, origin: &str) -> bool {
        parse_origin(origin).is_ok_and(|o| self.allowed_origins.contains(&o))
    }
}

/// What one ingestion call did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<Rejection>,
}

/// What identifying someone did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identified {
    pub contact_id: i64,
    /// A new contact was made for this email.
    pub created: bool,
    /// An anonymous contact whose history moved into this one.
    pub merged_from: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactSummary {
    pub id: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// The admin list's search and filters. Empty strings and `None` filter
/// nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactFilter {
    /// Part of the email or name, any case.
    pub search: String,
    pub attr_key: String,
    /// With `attr_key`: the attribute's exact text; empty means "has it".
    pub attr_value: String,
    pub completed_quiz: bool,
    /// Last seen at or after / before this time.
    pub seen_from: Option<i64>,
    pub seen_until: Option<i64>,
    /// Only the people a quiz funnel counts as stopped at one question.
    pub stopped: Option<StoppedAt>,
    /// Where this page starts (the list's `next`); none: the newest.
    pub after: Option<ListCursor>,
}

/// A funnel's "stopped here": people with an unfinished session of the
/// quiz that answered something and waits at the question, among the
/// sessions the funnel's filter counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoppedAt {
    /// The quiz's address.
    pub quiz: String,
    pub question: String,
    pub within: crate::store::FunnelFilter,
}

pub const CONTACTS_PER_PAGE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactList {
    pub contacts: Vec<ContactSummary>,
    /// How many match the filter, on every page.
    pub total: i64,
    /// Set when more contacts follow this page.
    pub next: Option<ListCursor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerDetail {
    pub question_key: String,
    pub option_key: String,
    pub value_text: Option<String>,
    pub answered_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizSessionDetail {
    pub id: i64,
    pub quiz_slug: String,
    pub quiz_title: String,
    pub version: i64,
    pub started_at: i64,
    pub completed_at: Option<i64>,
    pub score: Option<f64>,
    pub category_scores: Vec<(String, f64)>,
    pub answers: Vec<AnswerDetail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactProfile {
    pub summary: ContactSummary,
    pub consent: bool,
    /// Query parameters of the first visit (UTM and others), as JSON text.
    pub hidden_fields: String,
    pub visitor_ids: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub sessions: Vec<QuizSessionDetail>,
    /// Slugs of the segments the contact is in now.
    pub segments: Vec<String>,
    pub event_count: i64,
}

/// One stored event; `properties` is its JSON text, shown as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: i64,
    pub name: String,
    pub properties: String,
    pub occurred_at: i64,
}

/// Where the next page of a newest-first list starts (a contact's
/// timeline by when events occurred, the contact list by last seen):
/// strictly before this time, or at it with a lower id. Unlike a page
/// number, it holds its place while new rows arrive at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    pub at: i64,
    pub id: i64,
}

impl ListCursor {
    /// Before everything: the first page.
    pub const START: ListCursor = ListCursor {
        at: i64::MAX,
        id: i64::MAX,
    };

    /// `at.id`, as it travels in a link.
    pub fn parse(s: &str) -> Option<ListCursor> {
        let (at, id) = s.split_once('.')?;
        Some(ListCursor {
            at: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

impl fmt::Display for ListCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.at, self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub events: Vec<EventRecord>,
    /// Set when older events exist.
    pub next: Option<ListCursor>,
}

pub const TIMELINE_PAGE: u32 = 50;

/// What an erasure removed, for the audit log (counts only, no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub contact_id: i64,
    pub events: i64,
    pub quiz_sessions: i64,
}

impl Erasure {
    pub fn audit_detail(&self) -> String {
        format!(
            "{} events and {} quiz sessions deleted",
            self.events, self.quiz_sessions
        )
    }
}

#[cfg(test)]
mod tests;
