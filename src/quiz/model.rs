//! What a quiz is, as stored per draft and per published version (JSON).
//!
//! Keys are plain strings here so that a draft can hold a half-typed key
//! and still be saved; publishing checks every key with the parsers of
//! [`super::keys`], so a published version only holds valid ones.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizDefinition {
    pub title: String,
    #[serde(default)]
    pub intro: String,
    #[serde(default)]
    pub theme: Theme,
    pub questions: Vec<Question>,
    #[serde(default)]
    pub outcomes: Vec<Outcome>,
    #[serde(default)]
    pub lead_gate: LeadGate,
    /// The score categories, when the marketer declares them; options may
    /// then award points only in these (a typo is a publish problem).
    /// Empty means "whatever the options award".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// `#rrggbb`
    pub brand_color: String,
    #[serde(default)]
    pub logo_url: String,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            brand_color: "#4338ca".into(),
            logo_url: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadGate {
    /// Ask for contact details before showing the result.
    #[default]
    BeforeResult,
    /// Show the result, then offer to send it.
    AfterResult,
    Never,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub key: String,
    #[serde(flatten)]
    pub kind: QuestionKind,
    pub prompt: String,
    #[serde(default)]
    pub help: String,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<QuizOption>,
    /// Tried in order; the first that holds decides where to go next.
    #[serde(default)]
    pub branches: Vec<Branch>,
}

fn yes() -> bool {
    true
}

impl Question {
    /// Whether this is a contact step with an email field.
    pub fn asks_for_email(&self) -> bool {
        matches!(&self.kind, QuestionKind::Contact { fields } if fields.contains(&ContactField::Email))
    }

    /// What `answered` rules may match, as (key, label): the options of a
    /// choice, or each value of a scale in order (a scale is stored as its
    /// value, so the value is its key). A scale the editor has turned
    /// upside down still lists its values; too long a one (refused at
    /// publishing) lists none.
    pub fn answer_keys(&self) -> Vec<(String, String)> {
        match self.kind {
            QuestionKind::Scale { min, max } => {
                let (lo, hi) = (min.min(max), min.max(max));
                if hi.abs_diff(lo) >= crate::quiz::publish::MAX_SCALE_STEPS as u64 {
                    return Vec::new();
                }
                (lo..=hi).map(|v| (v.to_string(), v.to_string())).collect()
            }
            _ => self
                .options
                .iter()
                .map(|o| (o.key.clone(), o.label.clone()))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionKind {
    Single,
    Multi,
    /// Answered with a whole number from `min` to `max`; its points are the
    /// number itself.
    Scale {
        min: i64,
        max: i64,
    },
    Text,
    Contact {
        fields: Vec<ContactField>,
    },
}

impl QuestionKind {
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multi => "multi",
            QuestionKind::Scale { .. } => "scale",
            QuestionKind::Text => "text",
            QuestionKind::Contact { .. } => "contact",
        }
    }

    pub fn has_options(&self) -> bool {
        matches!(self, QuestionKind::Single | QuestionKind::Multi)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactField {
    Email,
    Name,
    Company,
    Consent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizOption {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub points: f64,
    #[serde(default)]
    pub category_points: BTreeMap<String, f64>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    pub when: Condition,
    pub goto: Target,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Question(String),
    Result,
}

/// A test on the answers given so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Condition {
    All {
        conditions: Vec<Condition>,
    },
    Any {
        conditions: Vec<Condition>,
    },
    /// The question was answered with one of these options.
    Chose {
        question: String,
        options: Vec<String>,
    },
    /// A scale answer at or above `value`.
    AtLeast {
        question: String,
        value: i64,
    },
    /// A scale answer at or below `value`.
    AtMost {
        question: String,
        value: i64,
    },
}

impl Condition {
    /// "Always": an empty `all`.
    pub fn always() -> Self {
        Condition::All { conditions: vec![] }
    }

    /// Whether this condition holds whatever the answers are.
    pub fn is_always(&self) -> bool {
        match self {
            Condition::All { conditions } => conditions.iter().all(Condition::is_always),
            Condition::Any { conditions } => conditions.iter().any(Condition::is_always),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub body_markdown: String,
    #[serde(default)]
    pub cta_label: String,
    #[serde(default)]
    pub cta_url: String,
    pub rule: OutcomeRule,
}

/// How an outcome is chosen. A respondent's tier outcome wins; then the
/// first score range or top category that matches, in the order the
/// outcomes are listed; then the fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum OutcomeRule {
    /// Total score from `min` (included) to `max` (excluded), except that
    /// the range reaching highest also includes its `max`: ranges `0..8`,
    /// `8..14`, `14..16` cover every score from 0 to 16.
    ScoreRange {
        min: f64,
        max: f64,
    },
    TopCategory {
        category: String,
    },
    /// The respondent landed in this segment tier (by segment slug).
    Tier {
        segment: String,
    },
    Fallback,
}

impl QuizDefinition {
    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.key == key)
    }

    pub fn position(&self, key: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.key == key)
    }

    /// The score categories: the declared ones, else every category any
    /// option awards points in; sorted by name.
    pub fn categories(&self) -> Vec<String> {
        if self.categories.is_empty() {
            return self
                .awarded_categories()
                .into_iter()
                .map(String::from)
                .collect();
        }
        let declared: BTreeSet<&String> = self.categories.iter().collect();
        declared.into_iter().cloned().collect()
    }

    pub fn outcome(&self, key: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.key == key)
    }

    /// Every category any option awards points in, by name.
    pub fn awarded_categories(&self) -> BTreeSet<&str> {
        self.questions
            .iter()
            .flat_map(|q| q.options.iter())
            .flat_map(|o| o.category_points.keys().map(String::as_str))
            .collect()
    }

    /// What a segment rule may name in this quiz: its questions with their
    /// options, and its categories.
    pub fn rule_catalog(&self) -> crate::rule::CatalogQuiz {
        use crate::rule::{CatalogQuestion, QuestionKind as Kind};
        let questions = self
            .questions
            .iter()
            .map(|q| {
                let kind = match q.kind {
                    QuestionKind::Single => Kind::Single,
                    QuestionKind::Multi => Kind::Multi,
                    QuestionKind::Scale { .. } => Kind::Scale,
                    QuestionKind::Text => Kind::Text,
                    QuestionKind::Contact { .. } => Kind::Contact,
                };
                let options = q.answer_keys().into_iter().map(|(key, _)| key).collect();
                (q.key.clone(), CatalogQuestion { kind, options })
            })
            .collect();
        crate::rule::CatalogQuiz {
            questions,
            categories: self.categories().into_iter().collect(),
        }
    }

    /// Whether any question asks for an email (on some respondent's path;
    /// `flow::path_asks_for_email` says whether on a given one).
    pub fn asks_for_email(&self) -> bool {
        self.questions.iter().any(Question::asks_for_email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_round_trips_through_json() {
        let def = crate::quiz::demo::demo_growth_quiz();
        let json = serde_json::to_string(&def).unwrap();
        assert_eq!(serde_json::from_str::<QuizDefinition>(&json).unwrap(), def);
        assert!(json.contains(r#""kind":"scale","min":1,"max":5"#), "{json}");
    }

    #[test]
    fn a_minimal_definition_reads_with_defaults() {
        let def: QuizDefinition = serde_json::from_str(
            r#"{"title": "T", "questions": [
                {"key": "q", "kind": "single", "prompt": "Pick",
                 "options": [{"key": "a", "label": "A"}, {"key": "b", "label": "B", "points": 2}],
                 "branches": [{"when": {"op": "chose", "question": "q", "options": ["b"]}, "goto": "result"}]}
            ]}"#,
        )
        .unwrap();
        let q = &def.questions[0];
        assert!(q.required);
        assert_eq!(q.options[1].points, 2.0);
        assert_eq!(q.branches[0].goto, Target::Result);
        assert_eq!(def.lead_gate, LeadGate::BeforeResult);
        assert_eq!(def.theme.brand_color, "#4338ca");
    }

    /// The JSON shape of a definition, as the builder saves it.
    const SMALL_QUIZ: &str = r##"{
      "title": "Are you ready to scale?",
      "intro": "Three questions.",
      "theme": {"brand_color": "#0f766e", "logo_url": "https://example.com/logo.svg"},
      "lead_gate": "after_result",
      "categories": ["budget", "urgency"],
      "questions": [
        {"key": "budget", "kind": "single", "prompt": "Monthly budget?", "help": "", "required": true,
         "options": [
           {"key": "low", "label": "Under $1k", "points": 0},
           {"key": "high", "label": "Over $10k", "points": 3,
            "category_points": {"budget": 3, "urgency": 1}, "tags": ["enterprise"]}],
         "branches": [
           {"when": {"op": "all", "conditions": [{"op": "chose", "question": "budget", "options": ["low"]}]},
            "goto": "result"}]},
        {"key": "urgency", "kind": "scale", "min": 1, "max": 5, "prompt": "How urgent?",
         "branches": [{"when": {"op": "at_least", "question": "urgency", "value": 4},
                       "goto": {"question": "email"}}]},
        {"key": "email", "kind": "contact", "fields": ["email", "name", "consent"],
         "prompt": "Where should we send it?", "required": false}
      ],
      "outcomes": [
        {"key": "cold", "title": "Not yet", "body_markdown": "Start **small**.",
         "cta_label": "Read the guide", "cta_url": "/guide", "rule": {"by": "score_range", "min": 0, "max": 5}},
        {"key": "hot", "title": "Let's talk", "rule": {"by": "score_range", "min": 5, "max": 8}},
        {"key": "vip", "title": "Fast track", "rule": {"by": "tier", "segment": "fast-track"}}
      ]
    }"##;

    #[test]
    fn a_small_quiz_written_as_json_reads_and_publishes_cleanly() {
        let def: QuizDefinition = serde_json::from_str(SMALL_QUIZ).unwrap();
        assert_eq!(def.lead_gate, LeadGate::AfterResult);
        assert_eq!(
            def.questions[1].kind,
            QuestionKind::Scale { min: 1, max: 5 }
        );
        assert_eq!(
            def.questions[1].branches[0].goto,
            Target::Question("email".into())
        );
        assert_eq!(crate::quiz::score_bounds(&def), (0.0, 8.0));
        assert_eq!(crate::quiz::validate_for_publish(&def), vec![]);
    }

    #[test]
    fn categories_are_collected_from_options_unless_declared() {
        let mut def = crate::quiz::demo::demo_growth_quiz();
        def.categories.clear();
        assert_eq!(def.categories(), ["budget", "fit", "urgency"]);
        def.categories = vec!["urgency".into(), "budget".into(), "extra".into()];
        assert_eq!(def.categories(), ["budget", "extra", "urgency"]);
    }

    #[test]
    fn an_empty_all_always_holds_and_nested_any_of_it_too() {
        assert!(Condition::always().is_always());
        let any = Condition::Any {
            conditions: vec![Condition::always()],
        };
        assert!(any.is_always());
        let chose = Condition::Chose {
            question: "q".into(),
            options: vec!["a".into()],
        };
        assert!(!chose.is_always());
    }

    #[test]
    fn the_rule_catalog_names_questions_options_and_categories() {
        let catalog = crate::quiz::demo::demo_growth_quiz().rule_catalog();
        assert!(catalog.questions["budget"].options.contains("high"));
        assert_eq!(
            catalog.questions["urgency"].kind,
            crate::rule::QuestionKind::Scale
        );
        // A scale is matched by its values.
        let urgency: Vec<&str> = catalog.questions["urgency"]
            .options
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(urgency, ["1", "2", "3", "4", "5"]);
        assert!(catalog.categories.contains("fit"));
    }
}
