//! The quiz `quizfunnel demo` publishes, so a newcomer sees a living app.

use super::model::*;
use std::collections::BTreeMap;

fn option(key: &str, label: &str, points: f64, categories: &[(&str, f64)]) -> QuizOption {
    QuizOption {
        key: key.into(),
        label: label.into(),
        points,
        category_points: categories
            .iter()
            .map(|(c, p)| (c.to_string(), *p))
            .collect::<BTreeMap<_, _>>(),
        tags: vec![],
    }
}

fn question(
    key: &str,
    kind: QuestionKind,
    prompt: &str,
    help: &str,
    options: Vec<QuizOption>,
) -> Question {
    Question {
        key: key.into(),
        kind,
        prompt: prompt.into(),
        help: help.into(),
        required: true,
        options,
        branches: vec![],
    }
}

fn outcome(key: &str, title: &str, body: &str, cta: (&str, &str), min: f64, max: f64) -> Outcome {
    Outcome {
        key: key.into(),
        title: title.into(),
        body_markdown: body.into(),
        cta_label: cta.0.into(),
        cta_url: cta.1.into(),
        rule: OutcomeRule::ScoreRange { min, max },
    }
}

/// "What's holding your growth back?": seven questions scoring `budget`,
/// `urgency` and `fit`, one branch ("just exploring" skips the budget and
/// urgency questions), three outcomes by score covering every total from
/// 0 to 16, and the lead gate before the result. It publishes cleanly.
pub fn demo_growth_quiz() -> QuizDefinition {
    let mut stage = question(
        "stage",
        QuestionKind::Single,
        "Where is your business today?",
        "Pick the one closest to where you are.",
        vec![
            option("idea", "Just exploring an idea", 0.0, &[]),
            option(
                "growing",
                "Growing, with paying customers",
                2.0,
                &[("fit", 2.0), ("urgency", 1.0)],
            ),
            option(
                "scaling",
                "Scaling a proven product",
                3.0,
                &[("fit", 3.0), ("urgency", 2.0)],
            ),
        ],
    );
    // Budget and urgency mean little before there is a business to grow.
    stage.branches.push(Branch {
        when: Condition::Chose {
            question: "stage".into(),
            options: vec!["idea".into()],
        },
        goto: Target::Question("channels".into()),
    });
    let mut blocker = question(
        "blocker",
        QuestionKind::Text,
        "In a sentence: what is holding your growth back most?",
        "Optional, but it helps us tailor the advice.",
        vec![],
    );
    blocker.required = false;
    QuizDefinition {
        title: "What's holding your growth back?".into(),
        intro: "Seven quick questions, two minutes, and a plan that fits where you are.".into(),
        theme: Theme::default(),
        lead_gate: LeadGate::BeforeResult,
        categories: vec!["budget".into(), "urgency".into(), "fit".into()],
        questions: vec![
            stage,
            question(
                "budget",
                QuestionKind::Single,
                "What could you invest in growth each month?",
                "",
                vec![
                    option("low", "Under $1,000", 0.0, &[]),
                    option("mid", "$1,000 to $10,000", 2.0, &[("budget", 2.0)]),
                    option(
                        "high",
                        "Over $10,000",
                        3.0,
                        &[("budget", 3.0), ("urgency", 1.0)],
                    ),
                ],
            ),
            question(
                "urgency",
                QuestionKind::Scale { min: 1, max: 5 },
                "How urgent is fixing growth for you?",
                "1 means someday, 5 means this quarter.",
                vec![],
            ),
            question(
                "channels",
                QuestionKind::Multi,
                "Which channels bring you customers today?",
                "Choose all that apply.",
                vec![
                    option("ads", "Paid ads", 1.0, &[("fit", 1.0)]),
                    option("seo", "Search", 1.0, &[]),
                    option("email", "Email", 1.0, &[("fit", 1.0)]),
                    option("none", "None yet", 0.0, &[]),
                ],
            ),
            blocker,
            question(
                "team",
                QuestionKind::Single,
                "How many people work on marketing?",
                "",
                vec![
                    option("solo", "Just me", 0.0, &[]),
                    option("small", "2 to 5", 1.0, &[("fit", 1.0)]),
                    option(
                        "large",
                        "More than 5",
                        2.0,
                        &[("fit", 2.0), ("urgency", 1.0)],
                    ),
                ],
            ),
            question(
                "contact",
                QuestionKind::Contact {
                    fields: vec![
                        ContactField::Email,
                        ContactField::Name,
                        ContactField::Company,
                        ContactField::Consent,
                    ],
                },
                "Where should we send your plan?",
                "We only use this to send your result and follow up on it.",
                vec![],
            ),
        ],
        outcomes: vec![
            outcome(
                "explore",
                "Start with the foundations",
                "You are early. Nail one channel and one offer before spending on growth.",
                (
                    "Read the starter guide",
                    "https://example.com/guides/foundations",
                ),
                0.0,
                8.0,
            ),
            outcome(
                "consider",
                "You are ready to build a growth engine",
                "You have traction. A repeatable channel and clear numbers come next.",
                (
                    "See the playbook",
                    "https://example.com/guides/growth-engine",
                ),
                8.0,
                14.0,
            ),
            outcome(
                "ready",
                "Let's talk this week",
                "You have budget, urgency and fit. A strategist will call you within a day.",
                ("Book a call", "https://example.com/book"),
                14.0,
                16.0,
            ),
        ],
    }
}

/// The demo quiz under its first name, for existing callers.
pub fn growth_quiz() -> QuizDefinition {
    demo_growth_quiz()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::{score_bounds, validate_for_publish};

    #[test]
    fn the_demo_quiz_publishes_without_problems() {
        assert_eq!(validate_for_publish(&demo_growth_quiz()), vec![]);
    }

    #[test]
    fn the_demo_quiz_has_seven_questions_one_branch_and_three_score_outcomes() {
        let def = demo_growth_quiz();
        assert_eq!(def.questions.len(), 7);
        let branches: usize = def.questions.iter().map(|q| q.branches.len()).sum();
        assert_eq!(branches, 1);
        assert_eq!(def.categories(), ["budget", "fit", "urgency"]);
        assert!(
            def.outcomes
                .iter()
                .all(|o| matches!(o.rule, OutcomeRule::ScoreRange { .. }))
        );
        assert_eq!(score_bounds(&def), (0.0, 16.0));
        assert_eq!(def.lead_gate, LeadGate::BeforeResult);
        assert!(def.asks_for_email());
    }
}
