//! Specifications of the in-memory evaluator (SPEC §3 semantics).

use super::*;
use crate::rule::parse_rule;
use serde_json::json;

const NOW: i64 = 1_700_000_000_000;

fn holds(rule: &str, facts: &ContactFacts) -> bool {
    let rule = parse_rule(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
    evaluate(&rule, facts, NOW)
}

fn event(name: &str, properties: Value, occurred_at: i64) -> EventFact {
    let Value::Object(properties) = properties else {
        panic!("properties must be an object")
    };
    EventFact {
        name: name.into(),
        properties,
        occurred_at,
    }
}

fn with_attr(key: &str, text: &str) -> ContactFacts {
    let mut facts = ContactFacts::default();
    facts.attributes.insert(key.into(), AttrValue::new(text));
    facts
}

fn session(id: i64, quiz: &str, started_at: i64, completed_at: Option<i64>) -> SessionFact {
    SessionFact {
        id,
        quiz_slug: quiz.into(),
        started_at,
        completed_at,
        score: None,
        category_scores: BTreeMap::new(),
        answers: vec![],
    }
}

#[test]
fn contact_who_never_invited_is_in_trial_segment() {
    let trial = r#"all(attr(plan) = "trial", never(invited_teammate))"#;
    let mut facts = with_attr("plan", "trial");
    assert!(holds(trial, &facts));
    facts
        .events
        .push(event("invited_teammate", json!({}), NOW - 5));
    assert!(!holds(trial, &facts));
}

#[test]
fn window_includes_its_first_millisecond_and_now() {
    let mut facts = ContactFacts::default();
    facts
        .events
        .push(event("page_viewed", json!({}), NOW - 7 * DAY_MS));
    assert!(holds("event(page_viewed, count >= 1, within 7d)", &facts));
    facts.events[0].occurred_at = NOW - 7 * DAY_MS - 1;
    assert!(!holds("event(page_viewed, count >= 1, within 7d)", &facts));
    facts.events[0].occurred_at = NOW;
    assert!(holds("event(page_viewed, count >= 1, within 7d)", &facts));
}

#[test]
fn events_after_now_have_not_happened_yet() {
    let mut facts = ContactFacts::default();
    facts.events.push(event("page_viewed", json!({}), NOW + 1));
    assert!(holds("never(page_viewed)", &facts));
    assert!(holds("never(page_viewed, within 7d)", &facts));
}

#[test]
fn counts_include_zero() {
    let facts = ContactFacts::default();
    assert!(holds("event(page_viewed, count <= 1)", &facts));
    assert!(holds("event(page_viewed, count = 0)", &facts));
    assert!(!holds("event(page_viewed, count >= 1)", &facts));
    assert!(holds("not(event(page_viewed))", &facts));
}

#[test]
fn high_intent_visitor_viewed_pricing_twice_this_week() {
    let rule = r#"all(completed(growth, within 14d), event(page_viewed where path = "/pricing", count >= 2, within 7d))"#;
    let mut facts = ContactFacts::default();
    facts.sessions.push(session(
        1,
        "growth",
        NOW - 20 * DAY_MS,
        Some(NOW - 13 * DAY_MS),
    ));
    facts.events.push(event(
        "page_viewed",
        json!({"path": "/pricing"}),
        NOW - DAY_MS,
    ));
    facts
        .events
        .push(event("page_viewed", json!({"path": "/blog"}), NOW - DAY_MS));
    assert!(!holds(rule, &facts));
    facts.events.push(event(
        "page_viewed",
        json!({"path": "/pricing"}),
        NOW - 2 * DAY_MS,
    ));
    assert!(holds(rule, &facts));
}

#[test]
fn property_filters_match_json_type_and_value() {
    let mut facts = ContactFacts::default();
    facts.events.push(event(
        "purchase",
        json!({"seats": 3.0, "code": "3", "trial": true}),
        NOW,
    ));
    assert!(holds("event(purchase where seats = 3)", &facts));
    assert!(!holds(r#"event(purchase where seats = "3")"#, &facts));
    assert!(holds(r#"event(purchase where code = "3")"#, &facts));
    assert!(!holds("event(purchase where code = 3)", &facts));
    assert!(holds(
        "event(purchase where trial = true and seats = 3)",
        &facts
    ));
    assert!(!holds("event(purchase where trial = false)", &facts));
    assert!(!holds(r#"event(purchase where missing = "x")"#, &facts));
}

#[test]
fn string_equality_is_exact_and_contains_ignores_case() {
    let facts = with_attr("plan", "Trial-Pro");
    assert!(!holds(r#"attr(plan) = "trial-pro""#, &facts));
    assert!(holds(r#"attr(plan) = "Trial-Pro""#, &facts));
    assert!(holds(r#"attr(plan) contains "tRIAL""#, &facts));
    assert!(!holds(r#"attr(plan) contains "enterprise""#, &facts));
}

#[test]
fn contains_ignores_case_in_every_script() {
    let facts = with_attr("city", "ÉCOLE Straße");
    assert!(holds(r#"attr(city) contains "Écol""#, &facts));
    assert!(holds(r#"attr(city) contains "écol""#, &facts));
    assert!(holds(r#"attr(city) contains "STRAßE""#, &facts));
    assert!(
        !holds(r#"attr(city) contains "ecol""#, &facts),
        "accents still count"
    );
    let greek = with_attr("street", "ΟΔΟΣΤΡΩΜΑ");
    assert!(holds(r#"attr(street) contains "ΟΔΟΣ""#, &greek));
}

#[test]
fn numbers_compare_with_attributes_that_read_as_numbers() {
    let facts = with_attr("company_size", "50");
    assert!(holds("attr(company_size) >= 50", &facts));
    assert!(holds("attr(company_size) = 50.0", &facts));
    assert!(holds("attr(company_size) between 10 and 50", &facts));
    assert!(holds(r#"attr(company_size) in ["x", 50]"#, &facts));
    let words = with_attr("company_size", "fifty");
    assert!(!holds("attr(company_size) >= 50", &words));
    assert!(!holds("attr(company_size) < 50", &words));
    assert!(holds("attr(company_size) != 50", &words));
}

#[test]
fn not_equal_and_not_in_hold_when_the_attribute_is_missing() {
    let facts = ContactFacts::default();
    assert!(holds(r#"attr(country) != "US""#, &facts));
    assert!(holds(r#"attr(role) not in ["intern"]"#, &facts));
    assert!(!holds(r#"attr(country) = "US""#, &facts));
    assert!(!holds(r#"attr(role) in ["intern"]"#, &facts));
    assert!(!holds(r#"attr(plan) contains """#, &facts));
    assert!(holds(r#"not(attr(plan) contains "x")"#, &facts));
}

#[test]
fn strings_order_by_their_bytes() {
    let facts = with_attr("signed_up", "2024-03-01");
    assert!(holds(r#"attr(signed_up) >= "2024-01-01""#, &facts));
    assert!(holds(
        r#"attr(signed_up) between "2024-01-01" and "2024-12-31""#,
        &facts
    ));
    assert!(!holds(r#"attr(signed_up) < "2024-03-01""#, &facts));
}

#[test]
fn abandoner_is_reached_through_the_latest_session() {
    let rule = "all(answered(growth.budget = high), not(completed(growth)))";
    let mut facts = ContactFacts::default();
    let mut abandoned = session(1, "growth", NOW - 100, None);
    abandoned.answers.push(("budget".into(), "high".into()));
    facts.sessions.push(abandoned);
    assert!(holds(rule, &facts));
    facts.sessions.push(session(2, "growth", NOW - 50, None));
    assert!(
        !holds(rule, &facts),
        "the newer session has no budget answer"
    );
}

#[test]
fn latest_session_ties_break_by_id() {
    let mut facts = ContactFacts::default();
    let mut a = session(7, "growth", NOW - 100, None);
    a.answers.push(("budget".into(), "high".into()));
    let mut b = session(3, "growth", NOW - 100, None);
    b.answers.push(("budget".into(), "low".into()));
    facts.sessions.extend([a, b]);
    assert!(holds("answered(growth.budget = high)", &facts));
    assert!(holds("answered(growth.budget in [mid, high])", &facts));
}

#[test]
fn score_reads_the_latest_completed_session() {
    let mut facts = ContactFacts::default();
    let mut early = session(1, "growth", NOW - 300, Some(NOW - 200));
    early.score = Some(9.0);
    let mut late = session(2, "growth", NOW - 250, Some(NOW - 100));
    late.score = Some(4.5);
    late.category_scores.insert("budget".into(), 3.0);
    let unfinished = SessionFact {
        score: Some(10.0),
        ..session(3, "growth", NOW - 10, None)
    };
    facts.sessions.extend([early, late, unfinished]);
    assert!(holds("score(growth) = 4.5", &facts));
    assert!(holds("score(growth, budget) between 3 and 9", &facts));
    assert!(!holds("score(growth, urgency) >= 0", &facts));
    assert!(holds("score(growth, urgency) != 0", &facts));
    assert!(!holds("score(fit) >= 0", &facts));
}

#[test]
fn completed_looks_at_any_session_in_the_window() {
    let mut facts = ContactFacts::default();
    facts.sessions.push(session(
        1,
        "growth",
        NOW - 40 * DAY_MS,
        Some(NOW - 30 * DAY_MS),
    ));
    facts
        .sessions
        .push(session(2, "growth", NOW - DAY_MS, None));
    assert!(holds("completed(growth)", &facts));
    assert!(holds("completed(growth, within 30d)", &facts));
    assert!(!holds("completed(growth, within 29d)", &facts));
}

#[test]
fn in_segment_reads_current_memberships() {
    let mut facts = ContactFacts::default();
    facts.segments.insert("high-intent".into());
    assert!(holds("in_segment(high-intent)", &facts));
    assert!(!holds("in_segment(trial-users)", &facts));
}

#[test]
fn empty_all_holds_and_empty_any_does_not() {
    let facts = ContactFacts::default();
    assert!(holds("all()", &facts));
    assert!(!holds("any()", &facts));
}

#[test]
fn text_reads_as_a_number_only_when_it_is_one() {
    for (text, num) in [
        ("50", Some(50.0)),
        ("-3.5", Some(-3.5)),
        ("+2", Some(2.0)),
        (".5", Some(0.5)),
        ("5.", Some(5.0)),
        ("1e3", Some(1000.0)),
        ("1e400", None),
        ("", None),
        (".", None),
        (" 5", None),
        ("5 ", None),
        ("NaN", None),
        ("inf", None),
        ("0x10", None),
        ("1_000", None),
        ("1e", None),
    ] {
        assert_eq!(number_in_text(text), num, "{text:?}");
    }
}
