//! Answers as respondents give them, read from plain form fields.

use super::model::{ContactField, Question, QuestionKind};
use crate::email::Email;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Free-text answers longer than this are refused.
pub const MAX_TEXT_LEN: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer {
    Choice {
        options: Vec<String>,
    },
    Scale {
        value: i64,
    },
    Text {
        text: String,
    },
    Contact {
        email: Option<Email>,
        name: String,
        company: String,
        consent: bool,
    },
    /// An optional question passed over.
    Skipped,
}

/// Answers by question key.
pub type Answers = BTreeMap<String, Answer>;

impl Answer {
    /// The option keys chosen (empty for other kinds).
    pub fn options(&self) -> &[String] {
        match self {
            Answer::Choice { options } => options,
            _ => &[],
        }
    }

    /// One stored row per chosen option, or one row with the value as text.
    pub fn rows(&self) -> Vec<(String, Option<String>)> {
        match self {
            Answer::Choice { options } => options.iter().map(|o| (o.clone(), None)).collect(),
            Answer::Scale { value } => vec![(String::new(), Some(value.to_string()))],
            Answer::Text { text } => vec![(String::new(), Some(text.clone()))],
            Answer::Contact { email, name, .. } => vec![(
                String::new(),
                Some(
                    email
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| name.clone()),
                ),
            )],
            Answer::Skipped => vec![],
        }
    }
}

/// Why a step's answer was refused, for the field it belongs next to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Reads a question's answer from the posted form fields: `answer` (repeated
/// for multi), or `email`/`name`/`company`/`consent` for contact questions.
pub fn parse_step(question: &Question, form: &[(String, String)]) -> Result<Answer, FieldError> {
    let values = |name: &str| -> Vec<&str> {
        form.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let one = |name: &str| values(name).first().map(|s| s.to_string());
    let missing = || field_error("answer", "please answer this question");
    match &question.kind {
        QuestionKind::Single | QuestionKind::Multi => {
            let chosen = values("answer");
            if chosen.is_empty() {
                return if question.required {
                    Err(missing())
                } else {
                    Ok(Answer::Skipped)
                };
            }
            if matches!(question.kind, QuestionKind::Single) && chosen.len() > 1 {
                return Err(field_error("answer", "choose one answer"));
            }
            let mut options = Vec::new();
            for key in chosen {
                if !question.options.iter().any(|o| o.key == key) {
                    return Err(field_error(
                        "answer",
                        "that answer is not one of the choices",
                    ));
                }
                if !options.iter().any(|o| o == key) {
                    options.push(key.to_string());
                }
            }
            Ok(Answer::Choice { options })
        }
        QuestionKind::Scale { min, max } => match one("answer") {
            None if question.required => Err(missing()),
            None => Ok(Answer::Skipped),
            Some(raw) => match raw.parse::<i64>() {
                Ok(v) if (*min..=*max).contains(&v) => Ok(Answer::Scale { value: v }),
                _ => Err(field_error(
                    "answer",
                    format!("choose a number from {min} to {max}"),
                )),
            },
        },
        QuestionKind::Text => match one("answer") {
            None if question.required => Err(missing()),
            None => Ok(Answer::Skipped),
            Some(text) if text.chars().count() > MAX_TEXT_LEN => Err(field_error(
                "answer",
                format!("please keep it under {MAX_TEXT_LEN} characters"),
            )),
            Some(text) => Ok(Answer::Text { text }),
        },
        QuestionKind::Contact { fields } => {
            let text = |name: &str| -> Result<String, FieldError> {
                let v = one(name).unwrap_or_default();
                if v.chars().count() > 200 {
                    return Err(field_error(name, "please keep it under 200 characters"));
                }
                Ok(v)
            };
            let email = match one("email") {
                Some(raw) if fields.contains(&ContactField::Email) => {
                    Some(Email::parse(&raw).map_err(|e| field_error("email", e.to_string()))?)
                }
                _ => None,
            };
            if question.required && fields.contains(&ContactField::Email) && email.is_none() {
                return Err(field_error("email", "enter your email address"));
            }
            Ok(Answer::Contact {
                email,
                name: text("name")?,
                company: text("company")?,
                consent: one("consent").is_some_and(|v| v == "on" || v == "yes" || v == "true"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::demo::growth_quiz;
    use proptest::prelude::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn question(key: &str) -> Question {
        growth_quiz().question(key).unwrap().clone()
    }

    #[test]
    fn single_choice_takes_a_known_option() {
        let a = parse_step(&question("budget"), &form(&[("answer", "high")])).unwrap();
        assert_eq!(a.options(), ["high"]);
    }

    #[test]
    fn tampered_option_key_is_refused() {
        let e = parse_step(&question("budget"), &form(&[("answer", "gold")])).unwrap_err();
        assert_eq!(e.field, "answer");
        assert!(e.message.contains("not one of the choices"));
    }

    #[test]
    fn missing_required_answer_is_refused() {
        let e = parse_step(&question("budget"), &form(&[])).unwrap_err();
        assert_eq!(e.message, "please answer this question");
    }

    #[test]
    fn multi_choice_keeps_each_option_once() {
        let a = parse_step(
            &question("channels"),
            &form(&[("answer", "ads"), ("answer", "seo"), ("answer", "ads")]),
        )
        .unwrap();
        assert_eq!(a.options(), ["ads", "seo"]);
    }

    #[test]
    fn scale_out_of_range_is_refused() {
        let e = parse_step(&question("urgency"), &form(&[("answer", "9")])).unwrap_err();
        assert!(e.message.contains("from 1 to 5"));
        let a = parse_step(&question("urgency"), &form(&[("answer", "4")])).unwrap();
        assert_eq!(a, Answer::Scale { value: 4 });
    }

    #[test]
    fn over_long_text_is_refused() {
        let long = "x".repeat(MAX_TEXT_LEN + 1);
        let e = parse_step(&question("blocker"), &form(&[("answer", &long)])).unwrap_err();
        assert!(e.message.contains("2000"));
    }

    #[test]
    fn contact_step_needs_a_valid_email() {
        let q = question("contact");
        let e = parse_step(&q, &form(&[("email", "nope"), ("name", "Ana")])).unwrap_err();
        assert_eq!(e.field, "email");
        let a = parse_step(
            &q,
            &form(&[
                ("email", "Ana@Example.com"),
                ("name", "Ana"),
                ("consent", "on"),
            ]),
        )
        .unwrap();
        match a {
            Answer::Contact {
                email,
                name,
                consent,
                ..
            } => {
                assert_eq!(email.unwrap().as_str(), "ana@example.com");
                assert_eq!(name, "Ana");
                assert!(consent);
            }
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #[test]
        fn parsing_any_form_never_panics(
            pairs in proptest::collection::vec(("[a-z]{1,8}", ".{0,40}"), 0..6),
            which in 0usize..7,
        ) {
            let def = growth_quiz();
            let q = &def.questions[which % def.questions.len()];
            let _ = parse_step(q, &pairs);
        }
    }
}
