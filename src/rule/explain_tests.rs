//! Specifications of explanations, and their agreement with `evaluate`.

use super::*;
use crate::rule::agreement_fixtures::{NOW, contact, rule};
use crate::rule::{AttrValue, DAY_MS, EventFact, SessionFact, evaluate, parse_rule};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn explained(text: &str, facts: &ContactFacts) -> Explanation {
    explain(&parse_rule(text).unwrap(), facts, NOW)
}

fn page_view(path: &str, days_ago: i64) -> EventFact {
    let mut properties = serde_json::Map::new();
    properties.insert("path".into(), path.into());
    EventFact {
        name: "page_viewed".into(),
        properties,
        occurred_at: NOW - days_ago * DAY_MS,
    }
}

#[test]
fn event_evidence_counts_matching_events_in_the_window() {
    let facts = ContactFacts {
        events: vec![page_view("/pricing", 1), page_view("/pricing", 9)],
        ..ContactFacts::default()
    };
    let e = explained(
        r#"event(page_viewed where path = "/pricing", count >= 2, within 7d)"#,
        &facts,
    );
    assert!(!e.holds);
    assert_eq!(
        e.evidence,
        r#"page_viewed where path = "/pricing": 1 time in the last 7 days, needs ≥ 2"#
    );
    assert_eq!(
        explained("never(invited_teammate)", &facts).evidence,
        "invited_teammate: 0 times ever, needs none"
    );
}

#[test]
fn attribute_evidence_shows_the_value_or_that_it_is_missing() {
    let mut facts = ContactFacts::default();
    facts
        .attributes
        .insert("plan".into(), AttrValue::new("trial"));
    facts
        .attributes
        .insert("size".into(), AttrValue::new("abc"));
    let plan = explained(r#"attr(plan) = "trial""#, &facts);
    assert!(plan.holds);
    assert_eq!(plan.evidence, r#"attr(plan) is "trial", needs = "trial""#);
    let country = explained(r#"attr(country) != "US""#, &facts);
    assert!(country.holds);
    assert_eq!(
        country.evidence,
        r#"attr(country) is missing, needs ≠ "US" (or missing)"#
    );
    assert_eq!(
        explained("attr(size) >= 50", &facts).evidence,
        r#"attr(size) is "abc", which is not a number, needs ≥ 50"#
    );
}

#[test]
fn score_evidence_names_the_latest_completed_session() {
    let session = SessionFact {
        id: 1,
        quiz_slug: "growth".into(),
        started_at: NOW - 10,
        completed_at: Some(NOW - 5),
        score: Some(8.0),
        category_scores: BTreeMap::new(),
        answers: vec![("budget".into(), "mid".into())],
    };
    let facts = ContactFacts {
        sessions: vec![session],
        ..ContactFacts::default()
    };
    let e = explained("score(growth) >= 7", &facts);
    assert!(e.holds);
    assert_eq!(
        e.evidence,
        "score(growth) is 8 in the latest completed session, needs ≥ 7"
    );
    assert_eq!(
        explained("answered(growth.budget in [high, low])", &facts).evidence,
        "the latest growth session answered budget = mid, needs one of [high, low]"
    );
    assert_eq!(
        explained("score(fit) > 1", &facts).evidence,
        "no completed fit session, needs score(fit) > 1"
    );
}

#[test]
fn tree_shows_each_node_with_its_verdict() {
    let mut facts = ContactFacts::default();
    facts
        .attributes
        .insert("plan".into(), AttrValue::new("trial"));
    let e = explained(
        r#"all(attr(plan) = "trial", never(invited_teammate))"#,
        &facts,
    );
    assert_eq!(e.evidence, "all 2 hold");
    assert_eq!(
        e.to_string(),
        "✓ all — all 2 hold\n\
         \x20 ✓ attr(plan) = \"trial\" — attr(plan) is \"trial\", needs = \"trial\"\n\
         \x20 ✓ never(invited_teammate) — invited_teammate: 0 times ever, needs none\n"
    );
}

/// Checks every node of `explanation` against `evaluate` on the same node.
fn agrees(rule: &Rule, explanation: &Explanation, facts: &ContactFacts) -> bool {
    explanation.holds == evaluate(rule, facts, NOW)
        && explanation.rule == rule.to_string()
        && rule.children().len() == explanation.children.len()
        && rule
            .children()
            .iter()
            .zip(&explanation.children)
            .all(|(r, e)| agrees(r, e, facts))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn explanation_agrees_with_evaluate_at_every_node(rule in rule(), facts in contact()) {
        let explanation = explain(&rule, &facts, NOW);
        prop_assert!(agrees(&rule, &explanation, &facts), "{}", explanation);
    }
}
