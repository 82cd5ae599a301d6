//! Specifications of rule validation.

use super::*;
use crate::rule::parse_rule;

fn catalog() -> Catalog {
    let budget = CatalogQuestion {
        kind: QuestionKind::Single,
        options: ["low", "mid", "high"].map(String::from).into(),
    };
    let notes = CatalogQuestion {
        kind: QuestionKind::Text,
        options: BTreeSet::new(),
    };
    let urgency = CatalogQuestion {
        kind: QuestionKind::Scale,
        options: (0..=10).map(|v: i64| v.to_string()).collect(),
    };
    let growth = CatalogQuiz {
        questions: [
            ("budget".to_string(), budget),
            ("notes".to_string(), notes),
            ("urgency".to_string(), urgency),
        ]
        .into(),
        categories: ["budget", "urgency"].map(String::from).into(),
    };
    let rule = |text: &str| Some(parse_rule(text).unwrap());
    Catalog {
        quizzes: [("growth".to_string(), growth)].into(),
        segments: [
            ("high-intent".to_string(), rule("completed(growth)")),
            ("trial-users".to_string(), rule("in_segment(nurture)")),
            ("nurture".to_string(), rule("not(in_segment(high-intent))")),
            ("loop-a".to_string(), rule("in_segment(loop-b)")),
            ("loop-b".to_string(), rule("in_segment(loop-a)")),
            ("broken".to_string(), None),
        ]
        .into(),
    }
}

fn problems(text: &str, own: Option<&str>) -> Vec<String> {
    let rule = parse_rule(text).unwrap();
    match validate(&rule, &catalog(), own) {
        Ok(()) => vec![],
        Err(invalid) => invalid.problems.into_iter().map(|p| p.message).collect(),
    }
}

#[test]
fn spec_examples_are_valid() {
    for text in [
        r#"all(completed(growth, within 14d), event(page_viewed where path = "/pricing", count >= 2, within 7d))"#,
        r#"all(attr(plan) = "trial", never(invited_teammate))"#,
        "score(growth, budget) between 3 and 9",
        "all(answered(growth.budget = high), not(completed(growth)))",
        r#"any(in_segment(high-intent), attr(role) not in ["intern"])"#,
    ] {
        assert_eq!(
            problems(text, Some("new-one")),
            Vec::<String>::new(),
            "{text}"
        );
    }
}

#[test]
fn misspelled_option_names_the_question_and_lists_the_options() {
    assert_eq!(
        problems("answered(growth.budget = hgih)", None),
        [r#"unknown option "hgih" for question growth.budget; expected one of: high, low, mid"#]
    );
}

#[test]
fn unknown_quiz_question_and_category_are_named() {
    assert_eq!(
        problems(
            "all(completed(grwoth), answered(growth.bugdet = high), score(growth, fit) > 1)",
            None
        ),
        [
            r#"unknown quiz "grwoth"; expected one of: growth"#,
            r#"unknown question "bugdet" in quiz growth; expected one of: budget, notes, urgency"#,
            r#"unknown category "fit" for quiz growth; expected one of: budget, urgency"#,
        ]
    );
}

#[test]
fn every_problem_is_reported_with_where_it_is() {
    let rule = parse_rule("all(completed(x), not(in_segment(nope)))").unwrap();
    let invalid = validate(&rule, &catalog(), None).unwrap_err();
    let paths: Vec<Vec<usize>> = invalid.problems.iter().map(|p| p.path.clone()).collect();
    assert_eq!(paths, vec![vec![0], vec![1, 0]]);
    assert!(invalid.to_string().contains("; unknown segment \"nope\""));
}

#[test]
fn scale_questions_are_answered_with_values_on_the_scale() {
    assert_eq!(
        problems("answered(growth.urgency in [9, 10])", None),
        Vec::<String>::new()
    );
    assert_eq!(
        problems("answered(growth.urgency in [0, 11, high])", None),
        [
            r#""11" is not on the scale of question growth.urgency; expected a whole number from 0 to 10"#,
            r#""high" is not on the scale of question growth.urgency; expected a whole number from 0 to 10"#,
        ]
    );
}

#[test]
fn free_text_questions_cannot_be_answered_with_options() {
    assert_eq!(
        problems("answered(growth.notes = x)", None),
        ["question growth.notes takes free text, so it has no options to match"]
    );
}

#[test]
fn segment_cannot_refer_to_itself() {
    assert_eq!(
        problems("in_segment(high-intent)", Some("high-intent")),
        ["in_segment(high-intent) refers to this segment itself"]
    );
}

#[test]
fn cycles_through_other_segments_are_refused() {
    // nurture already says not(in_segment(high-intent)).
    assert_eq!(
        problems("in_segment(nurture)", Some("high-intent")),
        ["in_segment(nurture) makes a cycle: high-intent → nurture → high-intent"]
    );
    assert_eq!(
        problems("in_segment(trial-users)", Some("high-intent")),
        [
            "in_segment(trial-users) makes a cycle: high-intent → trial-users → nurture → high-intent"
        ]
    );
    assert_eq!(
        problems("in_segment(trial-users)", Some("other")),
        Vec::<String>::new()
    );
}

#[test]
fn the_store_finds_the_loop_a_save_would_close() {
    let catalog = catalog();
    let rule = parse_rule("any(in_segment(trial-users), event(signup))").unwrap();
    assert_eq!(
        segment_cycle(&rule, &catalog, "high-intent").as_deref(),
        Some(
            "in_segment(trial-users) makes a cycle: high-intent → trial-users → nurture → high-intent"
        )
    );
    assert_eq!(segment_cycle(&rule, &catalog, "other"), None);
}

#[test]
fn existing_loops_that_a_rule_reaches_are_reported() {
    assert_eq!(
        problems("in_segment(loop-a)", None),
        ["in_segment(loop-a) makes a cycle: loop-a → loop-b → loop-a"]
    );
}

#[test]
fn unknown_segment_is_named_and_segments_without_rules_are_fine() {
    assert_eq!(
        problems("in_segment(hi-intent)", None),
        [
            r#"unknown segment "hi-intent"; expected one of: broken, high-intent, loop-a, loop-b, nurture, trial-users"#
        ]
    );
    assert_eq!(problems("in_segment(broken)", None), Vec::<String>::new());
}

#[test]
fn empty_ranges_lists_and_windows_are_refused() {
    assert_eq!(
        problems(
            r#"all(score(growth) between 9 and 3, attr(d) between "b" and "a", never(x, within 0d), attr(r) in [], attr(p) contains "", answered(growth.budget in []))"#,
            None
        ),
        [
            "between 9 and 3 is empty: 9 is above 3",
            r#"attr(d) between "b" and "a" is empty: "b" sorts after "a""#,
            "within 0d is an empty window; use 1d or more",
            "attr(r) in [] needs at least one value",
            r#"attr(p) contains "" matches every value; give some text to look for"#,
            "answered(growth.budget in []) needs at least one option",
        ]
    );
}

#[test]
fn between_a_number_and_a_string_is_a_type_mismatch() {
    assert_eq!(
        problems(r#"attr(size) between 1 and "9""#, None),
        [
            r#"attr(size) between 1 and "9" mixes a number and a string; use two numbers or two strings"#
        ]
    );
}

#[test]
fn counts_that_always_or_never_hold_are_refused() {
    assert_eq!(
        problems(
            "any(event(x, count >= 0), event(y, count < 0), event(z, count <= 0))",
            None
        ),
        [
            "event(x, count >= 0) holds for everyone; use count >= 1",
            "event(y, count < 0) holds for no one; counts start at 0",
        ]
    );
}

#[test]
fn windows_longer_than_a_century_are_refused() {
    assert_eq!(
        problems("completed(growth, within 40000d)", None),
        ["within 40000d is longer than the 36500d a window may span"]
    );
}

#[test]
fn empty_names_are_refused() {
    assert_eq!(
        problems(r#"all(event("" where "" = 1), attr("") = 1)"#, None),
        [
            "an event name cannot be empty",
            "a property name in event \"\" cannot be empty",
            "an attribute key cannot be empty",
        ]
    );
}

#[test]
fn an_older_versions_questions_options_and_categories_are_added() {
    let mut newer = catalog().quizzes.remove("growth").unwrap();
    let budget = |options: &[&str]| CatalogQuestion {
        kind: QuestionKind::Single,
        options: options.iter().map(|o| o.to_string()).collect(),
    };
    let older = CatalogQuiz {
        questions: [
            ("budget".to_string(), budget(&["huge"])),
            ("gone".to_string(), budget(&["yes"])),
            // The same key as another kind: the newer kind stays.
            (
                "notes".to_string(),
                CatalogQuestion {
                    kind: QuestionKind::Single,
                    options: ["a"].map(String::from).into(),
                },
            ),
        ]
        .into(),
        categories: ["fit"].map(String::from).into(),
    };
    newer.merge(older);
    assert_eq!(
        newer.questions["budget"].options,
        ["high", "huge", "low", "mid"].map(String::from).into()
    );
    assert!(newer.questions.contains_key("gone"));
    assert_eq!(newer.questions["notes"].kind, QuestionKind::Text);
    assert!(newer.questions["notes"].options.is_empty());
    assert!(newer.categories.contains("fit") && newer.categories.contains("budget"));
}

#[test]
fn a_version_names_what_a_rule_asks_of_it_and_it_lacks() {
    let growth = &catalog().quizzes["growth"];
    let rule = parse_rule(
        "any(answered(growth.budget in [high, huge]), answered(growth.gone = a), \
         score(growth, fit) >= 2, score(growth, budget) >= 1, answered(other.budget = huge), \
         answered(growth.urgency = 7))",
    )
    .unwrap();
    assert_eq!(
        growth.missing_from(&rule, "growth"),
        ["growth.budget = huge", "growth.gone", "score(growth, fit)"]
            .map(String::from)
            .into()
    );
    // Only the tests of the quiz asked about count.
    assert_eq!(
        growth.missing_from(&rule, "other"),
        ["other.budget = huge".to_string()].into()
    );
}
