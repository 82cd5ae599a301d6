//! Random contacts and rules over one small vocabulary, so that rules
//! actually match, and the SQL that stores those contacts. Used to check
//! that [`evaluate`] and [`compile`] agree on every contact.
//!
//! This file names the rule API only through `super::`, so the server's
//! Postgres tests can include it as it is:
//!
//! ```text
//! use quizfunnel::rule::*;
//! #[path = "../../src/rule/agreement_fixtures.rs"]
//! mod agreement_fixtures;
//! ```
//!
//! and then run [`fixture_statements`] with `Dialect::Postgres` in a
//! fresh database, compile each rule with `first_param = 1`, and compare
//! `SELECT c.id FROM contacts c WHERE <sql>` with [`expected_members`].

use super::{
    AttrTest, AttrValue, Cmp, ContactFacts, CountTest, DAY_MS, Dialect, EventFact, Literal, Number,
    NumberTest, PropFilter, PropValue, Rule, SessionFact, SqlParam, evaluate,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The moment every agreement check evaluates at.
pub const NOW: i64 = 1_700_000_000_000;

/// A quiz of the vocabulary as it is stored.
#[derive(Debug, Clone, Copy)]
pub struct FixtureQuiz {
    pub slug: &'static str,
    pub id: i64,
    /// Question keys with their option keys.
    pub questions: &'static [(&'static str, &'static [&'static str])],
    pub categories: &'static [&'static str],
}

pub const QUIZZES: &[FixtureQuiz] = &[
    FixtureQuiz {
        slug: "growth",
        id: 1,
        questions: &[
            ("budget", &["low", "mid", "high"]),
            ("team", &["solo", "big"]),
        ],
        categories: &["budget", "urgency"],
    },
    FixtureQuiz {
        slug: "fit",
        id: 2,
        questions: &[
            ("role", &["cto", "vp", "intern"]),
            ("level", &["1", "3", "5"]),
        ],
        categories: &["fit"],
    },
];
/// Scale questions among those above: stored as a value, not an option.
pub const SCALES: &[&str] = &["level"];
/// Named by rules but absent from the database.
pub const GHOST: &str = "ghost";

pub const SEGMENTS: &[(&str, i64)] = &[("high-intent", 1), ("trial-users", 2), ("churn-risk", 3)];
pub const EVENT_NAMES: &[&str] = &["page_viewed", "invited_teammate", "Signed Up"];
pub const PROPS: &[&str] = &["path", "seats", "trial", "utm.source"];
pub const ATTR_KEYS: &[&str] = &["plan", "company_size", "country", "signed_up"];
pub const ATTR_TEXTS: &[&str] = &[
    "trial",
    "Trial",
    "TRIAL-pro",
    "pro",
    "50",
    "7.5",
    "-3",
    "1e2",
    "abc",
    "",
    "US",
    "Ünï",
    "2024-03-01",
    "50 ",
];
pub const NUMBERS: &[f64] = &[-3.0, 0.0, 3.0, 4.5, 7.0, 7.5, 9.0, 50.0, 100.0];
pub const WINDOWS: &[Option<u32>] = &[None, Some(1), Some(7), Some(14), Some(30)];

/// Times that sit on, just inside and just outside window edges, plus one
/// in the future.
pub fn time() -> impl Strategy<Value = i64> {
    let edges = (
        select(vec![0i64, 1, 7, 14, 30, 400]),
        select(vec![-1i64, 0, 1]),
    )
        .prop_map(|(days, nudge)| NOW - days * DAY_MS + nudge);
    prop_oneof![9 => edges, 1 => Just(NOW + 1)]
}

fn number() -> impl Strategy<Value = Number> {
    select(NUMBERS.to_vec()).prop_map(|n| Number::new(n).expect("NUMBERS are finite"))
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        select(ATTR_TEXTS.to_vec()).prop_map(|s| Literal::Text(s.into())),
        number().prop_map(Literal::Number),
    ]
}

fn property_value() -> impl Strategy<Value = Value> {
    select(vec![
        json!("/pricing"),
        json!("/blog"),
        json!("3"),
        json!(3),
        json!(3.0),
        json!(2.5),
        json!(true),
        json!(false),
        json!(null),
        json!(["/pricing"]),
        json!({"path": "/pricing"}),
    ])
}

fn prop_filter() -> impl Strategy<Value = PropFilter> + Clone {
    let value = prop_oneof![
        select(vec!["/pricing", "/blog", "3"]).prop_map(|s| PropValue::Text(s.into())),
        select(vec![3.0, 2.5]).prop_map(|n| PropValue::Number(Number::new(n).expect("finite"))),
        any::<bool>().prop_map(PropValue::Bool),
    ];
    (select(PROPS.to_vec()), value).prop_map(|(prop, value)| PropFilter {
        prop: prop.into(),
        value,
    })
}

fn cmp() -> impl Strategy<Value = Cmp> {
    select(Cmp::ALL.to_vec())
}

/// A quiz slug, one of its question keys and that question's options, with
/// an unknown name mixed in now and then.
fn question() -> impl Strategy<Value = (String, String, Vec<String>)> {
    let known = select(QUIZZES.to_vec()).prop_flat_map(|quiz| {
        let FixtureQuiz {
            slug: quiz,
            questions,
            ..
        } = quiz;
        select(questions.to_vec()).prop_flat_map(move |(question, options)| {
            let mut options: Vec<&str> = options.to_vec();
            options.push(GHOST);
            subsequence(options, 0..=3).prop_map(move |chosen| {
                (
                    quiz.to_string(),
                    question.to_string(),
                    chosen.into_iter().map(String::from).collect(),
                )
            })
        })
    });
    prop_oneof![
        9 => known,
        1 => Just((GHOST.to_string(), "budget".to_string(), vec!["high".to_string()])),
    ]
}

fn quiz_slug() -> impl Strategy<Value = String> {
    select(vec!["growth", "fit", GHOST]).prop_map(String::from)
}

/// One leaf rule over the vocabulary.
pub fn leaf_rule() -> impl Strategy<Value = Rule> {
    let window = select(WINDOWS.to_vec());
    let filters = proptest::collection::vec(prop_filter(), 0..=2);
    let number_test = prop_oneof![
        (cmp(), number()).prop_map(|(cmp, value)| NumberTest::Compare { cmp, value }),
        (number(), number()).prop_map(|(lo, hi)| NumberTest::Between { lo, hi }),
    ];
    let category = proptest::option::of(select(vec!["budget", "urgency", "fit", GHOST]));
    let attr_test = prop_oneof![
        3 => (cmp(), literal()).prop_map(|(cmp, value)| AttrTest::Compare { cmp, value }),
        1 => (literal(), literal()).prop_map(|(lo, hi)| AttrTest::Between { lo, hi }),
        1 => proptest::collection::vec(literal(), 0..=3).prop_map(AttrTest::In),
        1 => proptest::collection::vec(literal(), 0..=3).prop_map(AttrTest::NotIn),
        2 => select(vec!["TRIAL", "tri", "", "ün", "ÜN", "Ü", "5", "0 "])
            .prop_map(|s| AttrTest::Contains(s.into())),
    ];
    prop_oneof![
        question().prop_map(|(quiz, question, options)| Rule::Answered {
            quiz,
            question,
            options
        }),
        (quiz_slug(), category, number_test).prop_map(|(quiz, category, test)| Rule::Score {
            quiz,
            category: category.map(String::from),
            test,
        }),
        (
            select(EVENT_NAMES.to_vec()),
            filters.clone(),
            cmp(),
            0u32..=3,
            window.clone()
        )
            .prop_map(|(name, filters, cmp, value, within_days)| Rule::Event {
                name: name.into(),
                filters,
                count: CountTest { cmp, value },
                within_days,
            }),
        (select(EVENT_NAMES.to_vec()), filters, window.clone()).prop_map(
            |(name, filters, within_days)| Rule::Never {
                name: name.into(),
                filters,
                within_days,
            }
        ),
        (quiz_slug(), window).prop_map(|(quiz, within_days)| Rule::Completed { quiz, within_days }),
        (select(ATTR_KEYS.to_vec()), attr_test).prop_map(|(key, test)| Rule::Attr {
            key: key.into(),
            test
        }),
        select(vec!["high-intent", "trial-users", "churn-risk", GHOST])
            .prop_map(|slug| Rule::InSegment { slug: slug.into() }),
    ]
}

/// Rules up to three combinators deep.
pub fn rule() -> impl Strategy<Value = Rule> {
    leaf_rule().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..=3).prop_map(|rules| Rule::All { rules }),
            proptest::collection::vec(inner.clone(), 0..=3).prop_map(|rules| Rule::Any { rules }),
            inner.prop_map(|rule| Rule::Not {
                rule: Box::new(rule)
            }),
        ]
    })
}

fn event() -> impl Strategy<Value = EventFact> {
    let properties =
        proptest::collection::btree_map(select(PROPS.to_vec()), property_value(), 0..=3);
    (select(EVENT_NAMES.to_vec()), properties, time()).prop_map(|(name, props, occurred_at)| {
        EventFact {
            name: name.into(),
            properties: props
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<_, _>>(),
            occurred_at,
        }
    })
}

/// A session with a placeholder id; [`contacts`] makes ids unique.
fn session() -> impl Strategy<Value = SessionFact> {
    select(QUIZZES.to_vec()).prop_flat_map(|quiz| {
        let FixtureQuiz {
            slug: quiz,
            questions,
            categories,
            ..
        } = quiz;
        let answers: Vec<(String, String)> = questions
            .iter()
            .flat_map(|(q, options)| options.iter().map(move |o| (q.to_string(), o.to_string())))
            .collect();
        let scores = proptest::collection::btree_map(
            select(categories.to_vec()).prop_map(String::from),
            select(NUMBERS.to_vec()),
            0..=categories.len(),
        );
        (
            time(),
            proptest::option::weighted(0.7, time()),
            proptest::option::weighted(0.8, select(NUMBERS.to_vec())),
            scores,
            subsequence(answers.clone(), 0..=answers.len().min(4)),
            0i64..50,
        )
            .prop_map(
                move |(started_at, completed_at, score, category_scores, mut answers, rank)| {
                    // A scale holds one value.
                    let mut scaled = std::collections::BTreeSet::new();
                    answers
                        .retain(|(q, _)| !SCALES.contains(&q.as_str()) || scaled.insert(q.clone()));
                    SessionFact {
                        id: rank,
                        quiz_slug: quiz.into(),
                        started_at,
                        completed_at,
                        score,
                        category_scores,
                        answers,
                    }
                },
            )
    })
}

pub fn contact() -> impl Strategy<Value = ContactFacts> {
    let attributes = proptest::collection::btree_map(
        select(ATTR_KEYS.to_vec()).prop_map(String::from),
        select(ATTR_TEXTS.to_vec()).prop_map(AttrValue::new),
        0..=3,
    );
    let segments = subsequence(
        SEGMENTS
            .iter()
            .map(|(s, _)| s.to_string())
            .collect::<Vec<_>>(),
        0..=2,
    );
    (
        attributes,
        proptest::collection::vec(event(), 0..=8),
        proptest::collection::vec(session(), 0..=3),
        segments,
    )
        .prop_map(|(attributes, events, sessions, segments)| ContactFacts {
            attributes,
            events,
            sessions,
            segments: segments.into_iter().collect(),
        })
}

/// Several contacts; session ids are unique across them and not in the
/// order sessions started, so tie-breaks by id are exercised.
pub fn contacts() -> impl Strategy<Value = Vec<ContactFacts>> {
    proptest::collection::vec(contact(), 1..=8).prop_map(|mut contacts| {
        let mut serial = 0;
        for contact in &mut contacts {
            for session in &mut contact.sessions {
                serial += 1;
                session.id = session.id * 1000 + serial;
            }
        }
        contacts
    })
}

/// Contact `i` (0-based) of a fixture is stored with id `i + 1`.
pub fn expected_members(contacts: &[ContactFacts], rule: &Rule, now: i64) -> Vec<i64> {
    (1..)
        .zip(contacts)
        .filter(|(_, facts)| evaluate(rule, facts, now))
        .map(|(id, _)| id)
        .collect()
}

/// INSERT statements (with `$N` placeholders and their values) that store
/// the vocabulary's quizzes and segments and the given contacts.
pub fn fixture_statements(
    contacts: &[ContactFacts],
    dialect: Dialect,
) -> Vec<(String, Vec<SqlParam>)> {
    use SqlParam::{Int, Real, Text};
    let mut out: Vec<(String, Vec<SqlParam>)> = Vec::new();
    let mut push = |sql: &str, params: Vec<SqlParam>| out.push((sql.to_string(), params));
    let quiz_ids: BTreeMap<&str, i64> = QUIZZES.iter().map(|q| (q.slug, q.id)).collect();
    for (slug, id) in &quiz_ids {
        push(
            "INSERT INTO quizzes (id, slug, title, draft, created_at, updated_at) \
             VALUES ($1, $2, $2, '{}', 0, 0)",
            vec![Int(*id), Text(slug.to_string())],
        );
        push(
            "INSERT INTO quiz_versions (id, quiz_id, version, definition, published_at) \
             VALUES ($1, $1, 1, '{}', 0)",
            vec![Int(*id)],
        );
    }
    for (slug, id) in SEGMENTS {
        push(
            "INSERT INTO segments (id, slug, name, rule, updated_at) VALUES ($1, $2, $2, 'all()', 0)",
            vec![Int(*id), Text(slug.to_string())],
        );
    }
    let properties = match dialect {
        Dialect::Sqlite => "$3",
        Dialect::Postgres => "$3::jsonb",
    };
    let insert_event = format!(
        "INSERT INTO events (contact_id, name, properties, occurred_at) VALUES ($1, $2, {properties}, $4)"
    );
    for (id, facts) in (1i64..).zip(contacts) {
        push(
            "INSERT INTO contacts (id, first_seen, last_seen) VALUES ($1, 0, 0)",
            vec![Int(id)],
        );
        for (key, value) in &facts.attributes {
            let kind = if value.num.is_some() {
                "number"
            } else {
                "string"
            };
            let mut columns = String::from("contact_id, key, kind, value_text");
            let mut params = vec![
                Int(id),
                Text(key.clone()),
                Text(kind.into()),
                Text(value.text.clone()),
            ];
            // As the store writes them: the folded copy beyond ASCII only.
            if let Some(folded) = crate::rule::stored_fold(&value.text) {
                columns.push_str(", value_folded");
                params.push(Text(folded));
            }
            if let Some(num) = value.num {
                columns.push_str(", value_num");
                params.push(Real(num));
            }
            let marks: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO contact_attributes ({columns}) VALUES ({})",
                marks.join(", ")
            );
            push(&sql, params);
        }
        for event in &facts.events {
            let json = Value::Object(event.properties.clone()).to_string();
            push(
                &insert_event,
                vec![
                    Int(id),
                    Text(event.name.clone()),
                    Text(json),
                    Int(event.occurred_at),
                ],
            );
        }
        for session in &facts.sessions {
            let quiz_id = quiz_ids[session.quiz_slug.as_str()];
            let mut columns = String::from("id, contact_id, quiz_id, version_id, started_at");
            let mut values = String::from("$1, $2, $3, $3, $4");
            let mut params = vec![
                Int(session.id),
                Int(id),
                Int(quiz_id),
                Int(session.started_at),
            ];
            if let Some(at) = session.completed_at {
                params.push(Int(at));
                columns.push_str(", completed_at");
                values.push_str(&format!(", ${}", params.len()));
            }
            if let Some(score) = session.score {
                params.push(Real(score));
                columns.push_str(", score");
                values.push_str(&format!(", ${}", params.len()));
            }
            push(
                &format!("INSERT INTO quiz_sessions ({columns}) VALUES ({values})"),
                params,
            );
            for (category, score) in &session.category_scores {
                push(
                    "INSERT INTO session_category_scores (session_id, category, score) VALUES ($1, $2, $3)",
                    vec![Int(session.id), Text(category.clone()), Real(*score)],
                );
            }
            for (question, option) in &session.answers {
                let sql = if SCALES.contains(&question.as_str()) {
                    "INSERT INTO answers (session_id, question_key, option_key, value_text, answered_at) \
                     VALUES ($1, $2, '', $3, 0)"
                } else {
                    "INSERT INTO answers (session_id, question_key, option_key, answered_at) \
                     VALUES ($1, $2, $3, 0)"
                };
                push(
                    sql,
                    vec![
                        Int(session.id),
                        Text(question.clone()),
                        Text(option.clone()),
                    ],
                );
            }
        }
        for (slug, segment_id) in SEGMENTS {
            // A past stay in every segment, which must not count.
            push(
                "INSERT INTO segment_memberships (segment_id, contact_id, entered_at, exited_at) \
                 VALUES ($1, $2, 0, 1)",
                vec![Int(*segment_id), Int(id)],
            );
            if facts.segments.contains(*slug) {
                push(
                    "INSERT INTO segment_memberships (segment_id, contact_id, entered_at) VALUES ($1, $2, 2)",
                    vec![Int(*segment_id), Int(id)],
                );
            }
        }
    }
    out
}
