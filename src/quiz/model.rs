//! What a quiz is, as stored per draft and per published version (JSON).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum OutcomeRule {
    /// Total score in `min..max` (min included, max excluded).
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

    /// Every category any option awards points in.
    pub fn categories(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .questions
            .iter()
            .flat_map(|q| q.options.iter())
            .flat_map(|o| o.category_points.keys().cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether any question asks for an email.
    pub fn asks_for_email(&self) -> bool {
        self.questions.iter().any(|q| {
            matches!(&q.kind, QuestionKind::Contact { fields } if fields.contains(&ContactField::Email))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_round_trips_through_json() {
        let def = crate::quiz::demo::growth_quiz();
        let json = serde_json::to_string(&def).unwrap();
        assert_eq!(serde_json::from_str::<QuizDefinition>(&json).unwrap(), def);
        assert!(json.contains(r#""kind":"scale","min":1,"max":5"#), "{json}");
    }

    #[test]
    fn categories_are_collected_from_options() {
        let def = crate::quiz::demo::growth_quiz();
        assert_eq!(def.categories(), ["budget", "fit", "urgency"]);
    }
}
