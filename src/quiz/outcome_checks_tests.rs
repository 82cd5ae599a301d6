//! Publish validation of outcomes. The demo quiz's scores run from 0 to 16
//! with ranges `explore` 0..8, `consider` 8..14 and `ready` 14..16.

use super::*;
use crate::quiz::demo::demo_growth_quiz;
use crate::quiz::model::Outcome;
use crate::quiz::publish::validate_for_publish;

fn problems(def: &QuizDefinition) -> Vec<(String, String)> {
    validate_for_publish(def)
        .into_iter()
        .map(|p| (p.anchor, p.message))
        .collect()
}

#[track_caller]
fn assert_problem(def: &QuizDefinition, anchor: &str, text: &str) {
    let found = problems(def);
    assert!(
        found.iter().any(|(a, m)| a == anchor && m.contains(text)),
        "no problem at {anchor} saying {text:?} in {found:#?}"
    );
}

fn outcome(key: &str, rule: OutcomeRule) -> Outcome {
    Outcome {
        key: key.into(),
        title: format!("Result {key}"),
        body_markdown: String::new(),
        cta_label: String::new(),
        cta_url: String::new(),
        rule,
    }
}

fn range(min: f64, max: f64) -> OutcomeRule {
    OutcomeRule::ScoreRange { min, max }
}

fn top(category: &str) -> OutcomeRule {
    OutcomeRule::TopCategory {
        category: category.into(),
    }
}

fn with_outcomes(outcomes: Vec<Outcome>) -> QuizDefinition {
    QuizDefinition {
        outcomes,
        ..demo_growth_quiz()
    }
}

#[test]
fn a_quiz_needs_an_outcome() {
    assert_problem(
        &with_outcomes(vec![]),
        "outcomes",
        "add at least one outcome",
    );
}

#[test]
fn outcome_keys_titles_and_buttons_are_checked() {
    let mut def = demo_growth_quiz();
    def.outcomes[0].key = "hot lead".into();
    def.outcomes[1].key = "ready".into();
    def.outcomes[2].title = String::new();
    def.outcomes[2].cta_url = "ftp://files".into();
    def.outcomes[0].cta_url = String::new();
    assert_problem(
        &def,
        "outcome-hot lead",
        "the outcome key \"hot lead\" can only use",
    );
    assert_problem(&def, "outcome-ready", "two outcomes use the key \"ready\"");
    assert_problem(&def, "outcome-ready", "outcome \"ready\" has no title");
    assert_problem(
        &def,
        "outcome-ready",
        "the button link must start with https://",
    );
    assert_problem(
        &def,
        "outcome-hot lead",
        "a button needs both a label and a link",
    );
}

#[test]
fn an_empty_score_range_is_named() {
    let mut def = demo_growth_quiz();
    def.outcomes[1].rule = range(14.0, 8.0);
    assert_problem(&def, "outcome-consider", "the score range 14 to 8 is empty");
}

#[test]
fn a_score_range_outside_the_possible_scores_is_unreachable() {
    let mut def = demo_growth_quiz();
    def.outcomes.push(outcome("legend", range(1000.0, 2000.0)));
    assert_problem(
        &def,
        "outcome-legend",
        "nobody can reach outcome \"legend\": it needs a score from 1000 to 2000, but scores run from 0 to 16",
    );
    let mut def = demo_growth_quiz();
    def.outcomes.insert(0, outcome("below", range(-5.0, 0.0)));
    assert_problem(&def, "outcome-below", "nobody can reach outcome \"below\"");
}

#[test]
fn overlapping_score_ranges_are_named() {
    let mut def = demo_growth_quiz();
    def.outcomes[1].rule = range(6.0, 14.0);
    assert_problem(
        &def,
        "outcome-consider",
        "the score ranges of \"explore\" and \"consider\" overlap from 6 to 8",
    );
}

#[test]
fn a_gap_between_score_ranges_is_named() {
    let mut def = demo_growth_quiz();
    def.outcomes[1].rule = range(10.0, 14.0);
    assert_problem(
        &def,
        "outcome-consider",
        "scores from 8 to 10 get no result page (scores run from 0 to 16)",
    );
}

#[test]
fn ranges_must_reach_the_lowest_and_highest_possible_score() {
    let mut def = demo_growth_quiz();
    def.outcomes[0].rule = range(1.0, 8.0);
    def.outcomes[2].rule = range(14.0, 15.0);
    assert_problem(
        &def,
        "outcome-explore",
        "scores from 0 to 1 get no result page",
    );
    assert_problem(
        &def,
        "outcome-ready",
        "scores from 15 to 16 get no result page",
    );
}

#[test]
fn the_highest_score_needs_the_top_range_to_end_at_or_above_it() {
    let mut def = demo_growth_quiz();
    def.outcomes[2].rule = range(14.0, 16.0);
    assert_eq!(problems(&def), vec![]);
    def.outcomes[2].rule = range(14.0, 100.0);
    assert_eq!(problems(&def), vec![]);
}

#[test]
fn a_fallback_closes_gaps() {
    let mut def = demo_growth_quiz();
    def.outcomes[1].rule = range(10.0, 14.0);
    def.outcomes.push(outcome("other", OutcomeRule::Fallback));
    assert_eq!(problems(&def), vec![]);
}

#[test]
fn a_range_covered_by_earlier_ranges_is_unreachable() {
    let mut def = demo_growth_quiz();
    def.outcomes.push(outcome("middle", range(9.0, 12.0)));
    assert_problem(
        &def,
        "outcome-middle",
        "every respondent already gets an outcome listed before it",
    );
    let mut def = demo_growth_quiz();
    def.outcomes.insert(2, outcome("middle", range(9.0, 12.0)));
    assert_problem(
        &def,
        "outcome-middle",
        "score ranges listed before it already cover its scores",
    );
}

#[test]
fn a_fallback_nobody_needs_is_unreachable() {
    let mut def = demo_growth_quiz();
    def.outcomes.push(outcome("other", OutcomeRule::Fallback));
    assert_problem(
        &def,
        "outcome-other",
        "nobody can reach outcome \"other\": every respondent already gets another outcome",
    );
}

#[test]
fn a_second_fallback_is_unreachable() {
    let def = with_outcomes(vec![
        outcome("a", OutcomeRule::Fallback),
        outcome("b", OutcomeRule::Fallback),
    ]);
    assert_problem(&def, "outcome-b", "another fallback outcome comes first");
    assert!(!problems(&def).iter().any(|(a, _)| a == "outcome-a"));
}

#[test]
fn top_category_outcomes_name_known_categories_once() {
    let def = with_outcomes(vec![
        outcome("money", top("budget")),
        outcome("again", top("budget")),
        outcome("typo", top("fitt")),
        outcome("fit", top("fit")),
        outcome("now", top("urgency")),
    ]);
    assert_problem(
        &def,
        "outcome-again",
        "an outcome listed before it already takes top category \"budget\"",
    );
    assert_problem(
        &def,
        "outcome-typo",
        "\"fitt\" is not one of the quiz's categories",
    );
    assert_eq!(problems(&def).len(), 2);
}

#[test]
fn top_category_outcomes_for_some_categories_need_a_fallback() {
    let def = with_outcomes(vec![outcome("money", top("budget"))]);
    assert_problem(
        &def,
        "outcomes",
        "respondents whose top category is fit or urgency get no result page: add a fallback outcome",
    );
}

#[test]
fn outcomes_after_complete_coverage_are_unreachable() {
    let mut def = demo_growth_quiz();
    def.outcomes.push(outcome("money", top("budget")));
    assert_problem(
        &def,
        "outcome-money",
        "every respondent already gets an outcome listed before it",
    );
}

#[test]
fn tier_outcomes_name_a_valid_tier_once_and_still_need_a_fallback() {
    let tier = |s: &str| OutcomeRule::Tier { segment: s.into() };
    let def = with_outcomes(vec![
        outcome("fast", tier("fast-track")),
        outcome("dup", tier("fast-track")),
        outcome("bad", tier("Fast Track")),
    ]);
    assert_problem(
        &def,
        "outcome-dup",
        "already belongs to tier \"fast-track\"",
    );
    assert_problem(&def, "outcome-bad", "the tier \"Fast Track\" can only use");
    assert_problem(
        &def,
        "outcomes",
        "respondents no outcome matches get no result page",
    );
    let mut def = with_outcomes(vec![outcome("fast", tier("fast-track"))]);
    def.outcomes.push(outcome("rest", OutcomeRule::Fallback));
    assert_eq!(problems(&def), vec![]);
}

#[test]
fn gaps_are_the_scores_no_range_takes() {
    assert_eq!(gaps(&[(0.0, 8.0), (8.0, 16.0)], 0.0, 16.0, Some(16.0)), []);
    assert_eq!(
        gaps(&[(0.0, 8.0), (8.0, 16.0)], 0.0, 16.0, None),
        [(16.0, 16.0)]
    );
    assert_eq!(
        gaps(&[(2.0, 4.0), (6.0, 8.0)], 0.0, 10.0, Some(8.0)),
        [(0.0, 2.0), (4.0, 6.0), (8.0, 10.0)]
    );
    assert_eq!(gaps(&[], 3.0, 3.0, None), [(3.0, 3.0)]);
    assert_eq!(gaps(&[(0.0, 3.0)], 3.0, 3.0, Some(3.0)), []);
    assert_eq!(gaps(&[(20.0, 30.0)], 0.0, 10.0, Some(30.0)), [(0.0, 10.0)]);
}
