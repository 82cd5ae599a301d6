//! Evaluating a rule in memory for one contact, as of a moment `now`.
//!
//! The semantics, which `sql.rs` reproduces exactly:
//! - Facts stamped after `now` do not exist yet: events, completions and
//!   session starts later than `now` are ignored everywhere.
//! - `within Nd` keeps times `t` with `now - N × 86 400 000 <= t <= now`;
//!   without a window every time `t <= now` counts.
//! - `event` counts matching events (zero included) and compares the
//!   count; `never(..)` is `event(.., count = 0)`.
//! - A property filter `prop = "v"` matches a JSON string equal to `v`;
//!   `prop = 3` a JSON number equal to 3 (`3.0` too, `"3"` not);
//!   `prop = true` the JSON boolean. A missing property matches nothing.
//! - `answered` reads the latest session of the quiz (greatest
//!   `started_at`, then greatest id), finished or not. `score` reads the
//!   latest completed session (greatest `completed_at`, then id); a missing
//!   score or category score fails every comparison. `completed` looks at
//!   every session.
//! - Attributes: a string compares with the attribute's text, exactly and
//!   byte by byte (so `<`/`>` order strings by their UTF-8 bytes); a number
//!   compares with the attribute's numeric reading and fails when there is
//!   none. `between a and b` is `>= a` and `<= b`. `in` is any `=`.
//!   `contains` folds ASCII letters only, on both sides.
//! - `x != v` is exactly `not(x = v)` and `not in` is `not(in)`, for scores
//!   and attributes alike: they hold when the value is missing (and, for a
//!   number, when the attribute does not read as a number).
//! - `in_segment(s)` reads the contact's current stored memberships.

use super::ast::{AttrTest, Cmp, DAY_MS, Literal, NumberTest, PropFilter, PropValue, Rule};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Everything a rule can ask about one contact. In JSON every field may be
/// left out (empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactFacts {
    pub attributes: BTreeMap<String, AttrValue>,
    pub events: Vec<EventFact>,
    pub sessions: Vec<SessionFact>,
    /// Slugs of the segments the contact is currently a member of.
    pub segments: BTreeSet<String>,
}

/// One attribute value: its text, and its number when the text reads as one
/// (see [`number_in_text`]; the store fills `value_num` the same way).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrValue {
    pub text: String,
    #[serde(default)]
    pub num: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFact {
    pub name: String,
    #[serde(default)]
    pub properties: Map<String, Value>,
    /// UTC milliseconds since the Unix epoch.
    pub occurred_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionFact {
    pub id: i64,
    pub quiz_slug: String,
    pub started_at: i64,
    #[serde(default)]
    pub completed_at: Option<i64>,
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub category_scores: BTreeMap<String, f64>,
    /// (question key, option key), one pair per chosen option; a scale's
    /// answer pairs its question with its value.
    #[serde(default)]
    pub answers: Vec<(String, String)>,
}

/// Whether `rule` holds for the contact described by `facts` at `now_ms`.
pub fn evaluate(rule: &Rule, facts: &ContactFacts, now_ms: i64) -> bool {
    match rule {
        Rule::All { rules } => rules.iter().all(|r| evaluate(r, facts, now_ms)),
        Rule::Any { rules } => rules.iter().any(|r| evaluate(r, facts, now_ms)),
        Rule::Not { rule } => !evaluate(rule, facts, now_ms),
        Rule::Answered {
            quiz,
            question,
            options,
        } => latest_session(facts, quiz, now_ms)
            .is_some_and(|s| chosen(s, question).any(|o| options.iter().any(|w| w == o))),
        Rule::Score {
            quiz,
            category,
            test,
        } => {
            let score = latest_completed(facts, quiz, now_ms)
                .and_then(|s| session_score(s, category.as_deref()));
            number_test_holds(score, test)
        }
        Rule::Event {
            name,
            filters,
            count,
            within_days,
        } => {
            let n = count_events(facts, name, filters, Window::new(*within_days, now_ms));
            count.cmp.holds(&n, &u64::from(count.value))
        }
        Rule::Never {
            name,
            filters,
            within_days,
        } => count_events(facts, name, filters, Window::new(*within_days, now_ms)) == 0,
        Rule::Completed { quiz, within_days } => {
            completions(facts, quiz, Window::new(*within_days, now_ms))
                .next()
                .is_some()
        }
        Rule::Attr { key, test } => attr_test_holds(facts.attributes.get(key), test),
        Rule::InSegment { slug } => facts.segments.contains(slug),
    }
}

impl AttrValue {
    /// An attribute value from its text, with `num` read from it.
    pub fn new(text: impl Into<String>) -> AttrValue {
        let text = text.into();
        let num = number_in_text(&text);
        AttrValue { text, num }
    }
}

/// The number a text reads as, if any: an optional sign, digits with an
/// optional fraction (`12`, `-3.5`, `.5`, `5.`), an optional exponent
/// (`1e3`), nothing else (no spaces), and finite.
pub fn number_in_text(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The span of time a rule looks at: `[start, now]`, or everything up to
/// `now` when there is no window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: Option<i64>,
    pub now: i64,
}

impl Window {
    pub fn new(within_days: Option<u32>, now: i64) -> Window {
        Window {
            start: within_days.map(|days| window_start(now, days)),
            now,
        }
    }

    pub fn contains(self, t: i64) -> bool {
        t <= self.now && self.start.is_none_or(|start| start <= t)
    }
}

/// `now - days × 24h`, saturating at the far past.
pub(crate) fn window_start(now: i64, days: u32) -> i64 {
    now.saturating_sub(i64::from(days).saturating_mul(DAY_MS))
}

/// The contact's latest session of `quiz` that had started by `now`.
pub(crate) fn latest_session<'f>(
    facts: &'f ContactFacts,
    quiz: &str,
    now: i64,
) -> Option<&'f SessionFact> {
    facts
        .sessions
        .iter()
        .filter(|s| s.quiz_slug == quiz && s.started_at <= now)
        .max_by_key(|s| (s.started_at, s.id))
}

/// The contact's latest session of `quiz` completed by `now`.
pub(crate) fn latest_completed<'f>(
    facts: &'f ContactFacts,
    quiz: &str,
    now: i64,
) -> Option<&'f SessionFact> {
    facts
        .sessions
        .iter()
        .filter_map(|s| match s.completed_at {
            Some(at) if s.quiz_slug == quiz && at <= now => Some(((at, s.id), s)),
            _ => None,
        })
        .max_by_key(|(key, _)| *key)
        .map(|(_, s)| s)
}

/// Sessions of `quiz` completed inside `window`.
pub(crate) fn completions<'f>(
    facts: &'f ContactFacts,
    quiz: &'f str,
    window: Window,
) -> impl Iterator<Item = &'f SessionFact> {
    facts.sessions.iter().filter(move |s| {
        s.quiz_slug == quiz && s.completed_at.is_some_and(|at| window.contains(at))
    })
}

/// The options a session chose for `question`.
pub(crate) fn chosen<'s>(
    session: &'s SessionFact,
    question: &'s str,
) -> impl Iterator<Item = &'s str> {
    session
        .answers
        .iter()
        .filter(move |(q, _)| q == question)
        .map(|(_, o)| o.as_str())
}

/// The session's overall score, or its score in `category`.
pub(crate) fn session_score(session: &SessionFact, category: Option<&str>) -> Option<f64> {
    match category {
        None => session.score,
        Some(category) => session.category_scores.get(category).copied(),
    }
}

/// How many of the contact's events named `name` pass every filter inside
/// `window`.
pub(crate) fn count_events(
    facts: &ContactFacts,
    name: &str,
    filters: &[PropFilter],
    window: Window,
) -> u64 {
    let matching = facts.events.iter().filter(|e| {
        e.name == name
            && window.contains(e.occurred_at)
            && filters.iter().all(|f| property_matches(&e.properties, f))
    });
    matching.count() as u64
}

/// Whether an event's properties pass one `where` filter.
pub(crate) fn property_matches(properties: &Map<String, Value>, filter: &PropFilter) -> bool {
    match (properties.get(&filter.prop), &filter.value) {
        (Some(Value::String(s)), PropValue::Text(want)) => s == want,
        (Some(Value::Number(n)), PropValue::Number(want)) => n.as_f64() == Some(want.get()),
        (Some(Value::Bool(b)), PropValue::Bool(want)) => b == want,
        _ => false,
    }
}

/// A score test on a score that may be missing.
pub(crate) fn number_test_holds(score: Option<f64>, test: &NumberTest) -> bool {
    match test {
        NumberTest::Compare {
            cmp: Cmp::Ne,
            value,
        } => score != Some(value.get()),
        NumberTest::Compare { cmp, value } => score.is_some_and(|x| cmp.holds(&x, &value.get())),
        NumberTest::Between { lo, hi } => score.is_some_and(|x| lo.get() <= x && x <= hi.get()),
    }
}

/// An attribute test on an attribute that may be missing.
pub(crate) fn attr_test_holds(value: Option<&AttrValue>, test: &AttrTest) -> bool {
    let Some(value) = value else {
        return matches!(
            test,
            AttrTest::Compare { cmp: Cmp::Ne, .. } | AttrTest::NotIn(_)
        );
    };
    match test {
        AttrTest::Compare {
            cmp: Cmp::Ne,
            value: v,
        } => !compares(value, Cmp::Eq, v),
        AttrTest::Compare { cmp, value: v } => compares(value, *cmp, v),
        AttrTest::Between { lo, hi } => {
            compares(value, Cmp::Ge, lo) && compares(value, Cmp::Le, hi)
        }
        AttrTest::In(values) => values.iter().any(|v| compares(value, Cmp::Eq, v)),
        AttrTest::NotIn(values) => !values.iter().any(|v| compares(value, Cmp::Eq, v)),
        AttrTest::Contains(needle) => fold_case(&value.text).contains(&fold_case(needle)),
    }
}

/// `value CMP literal` for a present attribute: strings against its text,
/// numbers against its numeric reading.
pub(crate) fn compares(value: &AttrValue, cmp: Cmp, literal: &Literal) -> bool {
    match literal {
        Literal::Text(s) => cmp.holds(value.text.as_str(), s.as_str()),
        Literal::Number(n) => value.num.is_some_and(|x| cmp.holds(&x, &n.get())),
    }
}

/// A text as `contains` reads it, ignoring case: lowercased in every
/// script ("ÉCOLE" and "école" alike).
pub fn fold_case(text: &str) -> String {
    // Letter by letter: `str::to_lowercase` writes a word's last capital
    // sigma as ς, which then no longer matches the middle of a word.
    text.chars().flat_map(char::to_lowercase).collect()
}

/// The folded copy kept beside an attribute's text for the databases'
/// `contains`: only where their own `lower()`, which folds ASCII letters
/// alone, would differ from [`fold_case`]. Every writer of an attribute
/// stores it.
pub fn stored_fold(text: &str) -> Option<String> {
    (!text.is_ascii()).then(|| fold_case(text))
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
