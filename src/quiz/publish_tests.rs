//! Publish validation of the quiz, its theme, questions, options and
//! branches: one test per kind of problem, each naming where it is.

use super::*;
use crate::quiz::demo::demo_growth_quiz;
use crate::quiz::model::{Branch, QuizOption};

/// The problems of `def`, as `(anchor, message)`.
fn problems(def: &QuizDefinition) -> Vec<(String, String)> {
    validate_for_publish(def)
        .into_iter()
        .map(|p| (p.anchor, p.message))
        .collect()
}

/// Asserts one problem at `anchor` whose message contains `text`.
#[track_caller]
fn assert_problem(def: &QuizDefinition, anchor: &str, text: &str) {
    let found = problems(def);
    assert!(
        found.iter().any(|(a, m)| a == anchor && m.contains(text)),
        "no problem at {anchor} saying {text:?} in {found:#?}"
    );
}

fn branch(when: Condition, to: &str) -> Branch {
    Branch {
        when,
        goto: Target::Question(to.into()),
    }
}

fn chose(question: &str, options: &[&str]) -> Condition {
    Condition::Chose {
        question: question.into(),
        options: options.iter().map(|o| o.to_string()).collect(),
    }
}

#[test]
fn the_demo_quiz_publishes_cleanly() {
    assert_eq!(problems(&demo_growth_quiz()), vec![]);
}

#[test]
fn a_quiz_needs_a_title_and_questions() {
    let mut def = demo_growth_quiz();
    def.title = "  ".into();
    def.questions.clear();
    assert_problem(&def, "quiz", "give the quiz a title");
    assert_problem(&def, "questions", "add at least one question");
}

#[test]
fn the_theme_needs_a_hex_color_and_a_web_logo_address() {
    let mut def = demo_growth_quiz();
    def.theme.brand_color = "blue".into();
    def.theme.logo_url = "javascript:alert(1)".into();
    assert_problem(
        &def,
        "theme",
        "the brand color \"blue\" must look like #1a2b3c",
    );
    assert_problem(&def, "theme", "the logo address must start with https://");
    def.theme.brand_color = "#A1b2C3".into();
    def.theme.logo_url = "https://cdn.example.com/logo.svg".into();
    assert_eq!(problems(&def), vec![]);
}

#[test]
fn declared_categories_are_keys_listed_once_and_options_stick_to_them() {
    let mut def = demo_growth_quiz();
    def.categories.push("fit".into());
    def.categories.push("big spend".into());
    def.questions[1].options[2]
        .category_points
        .insert("budegt".into(), 1.0);
    assert_problem(&def, "categories", "the category \"fit\" is listed twice");
    assert_problem(
        &def,
        "categories",
        "the category \"big spend\" can only use",
    );
    assert_problem(
        &def,
        "question-budget",
        "gives points in \"budegt\", which is not one of the quiz's categories",
    );
}

#[test]
fn question_keys_must_be_valid_and_unique() {
    let mut def = demo_growth_quiz();
    def.questions[1].key = "stage".into();
    def.questions[4].key = "what blocks you".into();
    assert_problem(
        &def,
        "question-stage",
        "two questions use the key \"stage\"",
    );
    assert_problem(
        &def,
        "question-what blocks you",
        "the question key \"what blocks you\" can only use",
    );
}

#[test]
fn an_empty_prompt_is_named() {
    let mut def = demo_growth_quiz();
    def.questions[3].prompt = " ".into();
    assert_problem(
        &def,
        "question-channels",
        "question \"channels\" has no prompt",
    );
}

#[test]
fn choice_questions_need_at_least_two_options() {
    let mut def = demo_growth_quiz();
    def.questions[1].options.truncate(1);
    def.questions[3].options.clear();
    assert_problem(
        &def,
        "question-budget",
        "is a single choice: give it at least two options",
    );
    assert_problem(
        &def,
        "question-channels",
        "is a multi choice: give it at least two options",
    );
}

#[test]
fn option_keys_must_be_valid_unique_and_labelled() {
    let mut def = demo_growth_quiz();
    let options = &mut def.questions[1].options;
    options[1].key = "low".into();
    options[2].key = "10k+".into();
    options[0].label = String::new();
    assert_problem(
        &def,
        "question-budget",
        "has two options with the key \"low\"",
    );
    assert_problem(
        &def,
        "question-budget",
        "the option key \"10k+\" can only use",
    );
    assert_problem(
        &def,
        "question-budget",
        "option \"low\" of question \"budget\" has no label",
    );
}

#[test]
fn a_scale_must_run_upwards_and_offer_a_sensible_number_of_values() {
    let mut def = demo_growth_quiz();
    def.questions[2].kind = QuestionKind::Scale { min: 5, max: 5 };
    assert_problem(
        &def,
        "question-urgency",
        "lowest value must be below its highest",
    );
    def.questions[2].kind = QuestionKind::Scale {
        min: i64::MIN,
        max: i64::MAX,
    };
    assert_problem(&def, "question-urgency", "at most 101 values");
}

#[test]
fn a_contact_question_asks_for_something_and_consent_comes_with_an_email() {
    let mut def = demo_growth_quiz();
    def.questions[6].kind = QuestionKind::Contact { fields: vec![] };
    assert_problem(&def, "question-contact", "asks for no contact details");
    def.questions[6].kind = QuestionKind::Contact {
        fields: vec![ContactField::Name, ContactField::Consent],
    };
    assert_problem(
        &def,
        "question-contact",
        "asks for consent without an email",
    );
}

#[test]
fn a_branch_to_a_question_that_does_not_exist_is_named() {
    let mut def = demo_growth_quiz();
    def.questions[3]
        .branches
        .push(branch(chose("channels", &["ads"]), "missing"));
    assert_problem(
        &def,
        "question-channels",
        "branch 1 of \"channels\" goes to \"missing\", which does not exist",
    );
}

#[test]
fn a_branch_after_one_that_always_applies_never_does() {
    let mut def = demo_growth_quiz();
    def.questions[5].branches = vec![
        Branch {
            when: Condition::always(),
            goto: Target::Result,
        },
        branch(chose("team", &["solo"]), "contact"),
    ];
    assert_problem(
        &def,
        "question-team",
        "branch 2 of \"team\" comes after one that always applies",
    );
}

#[test]
fn branch_conditions_name_earlier_questions_and_options_they_have() {
    let mut def = demo_growth_quiz();
    def.questions[3].branches = vec![branch(
        Condition::Any {
            conditions: vec![
                chose("nope", &["x"]),
                chose("team", &["solo"]),
                chose("budget", &["gold"]),
                chose("budget", &[]),
                chose("urgency", &["5"]),
                Condition::AtLeast {
                    question: "budget".into(),
                    value: 2,
                },
                Condition::Any { conditions: vec![] },
            ],
        },
        "team",
    )];
    let at = "question-channels";
    assert_problem(&def, at, "tests \"nope\", which does not exist");
    assert_problem(
        &def,
        at,
        "tests \"team\", which is asked later, so it never applies",
    );
    assert_problem(
        &def,
        at,
        "tests option \"gold\", which question \"budget\" does not have",
    );
    assert_problem(&def, at, "tests \"budget\" but names no option");
    assert_problem(
        &def,
        at,
        "tests which option \"urgency\" got, but it has no options",
    );
    assert_problem(
        &def,
        at,
        "compares \"budget\" with a number, but it is not a scale",
    );
    assert_problem(&def, at, "has an empty \"any\", so it never applies");
}

#[test]
fn a_question_every_path_skips_is_unreachable() {
    let mut def = demo_growth_quiz();
    def.questions[0].branches = vec![Branch {
        when: Condition::always(),
        goto: Target::Question("team".into()),
    }];
    for key in ["budget", "urgency", "channels", "blocker"] {
        assert_problem(
            &def,
            &format!("question-{key}"),
            &format!("no answers lead to question \"{key}\""),
        );
    }
    assert!(!problems(&def).iter().any(|(a, _)| a == "question-team"));
}

#[test]
fn a_branch_back_to_an_earlier_question_is_a_loop() {
    let mut def = demo_growth_quiz();
    def.questions[5]
        .branches
        .push(branch(chose("team", &["large"]), "budget"));
    assert_problem(
        &def,
        "question-team",
        "question \"team\" branches back to \"budget\", which leads to \"team\" again",
    );
    let mut def = demo_growth_quiz();
    def.questions[2]
        .branches
        .push(branch(Condition::always(), "urgency"));
    assert_problem(&def, "question-urgency", "branches back to \"urgency\"");
}

#[test]
fn a_forward_branch_to_a_later_question_is_fine() {
    let mut def = demo_growth_quiz();
    def.questions[1]
        .branches
        .push(branch(chose("budget", &["low"]), "team"));
    assert_eq!(problems(&def), vec![]);
}

#[test]
fn every_problem_is_listed_not_just_the_first() {
    let mut def = demo_growth_quiz();
    def.title.clear();
    def.questions[0].prompt.clear();
    def.questions[1].options.push(QuizOption {
        key: "low".into(),
        label: "Again".into(),
        points: 0.0,
        category_points: Default::default(),
        tags: vec![],
    });
    def.outcomes[0].title.clear();
    let anchors: Vec<String> = problems(&def).into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        anchors,
        [
            "quiz",
            "question-stage",
            "question-budget",
            "outcome-explore"
        ]
    );
}
