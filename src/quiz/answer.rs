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

/// The longest name or company a contact step takes.
pub const MAX_CONTACT_TEXT_LEN: usize = 200;

/// Reads a question's answer from the posted form fields: `answer` (repeated
/// for multi), or `email`/`name`/`company`/`consent` for contact questions.
/// Values are trimmed and control characters other than line breaks and
/// tabs are dropped; an empty value counts as not given. Fields the
/// question does not ask for are ignored.
///
/// A required contact question needs its email when it asks for one, else
/// its name when it asks for one; consent is the respondent's to give.
pub fn parse_step(question: &Question, form: &[(String, String)]) -> Result<Answer, FieldError> {
    let values = |name: &str| -> Vec<String> {
        form.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| clean(v))
            .filter(|v| !v.is_empty())
            .collect()
    };
    let one = |name: &str| values(name).into_iter().next();
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
            let mut options: Vec<String> = Vec::new();
            for key in chosen {
                if !question.options.iter().any(|o| o.key == key) {
                    return Err(field_error(
                        "answer",
                        "that answer is not one of the choices",
                    ));
                }
                if !options.contains(&key) {
                    options.push(key);
                }
            }
            Ok(Answer::Choice { options })
        }
        QuestionKind::Scale { min, max } => {
            let given = values("answer");
            let out_of_range = || {
                field_error(
                    "answer",
                    format!("choose a whole number from {min} to {max}"),
                )
            };
            match given.as_slice() {
                [] if question.required => Err(missing()),
                [] => Ok(Answer::Skipped),
                [raw] => match raw.parse::<i64>() {
                    Ok(v) if (*min..=*max).contains(&v) => Ok(Answer::Scale { value: v }),
                    _ => Err(out_of_range()),
                },
                _ => Err(field_error("answer", "choose one number")),
            }
        }
        QuestionKind::Text => match one("answer") {
            None if question.required => Err(missing()),
            None => Ok(Answer::Skipped),
            Some(text) if text.chars().count() > MAX_TEXT_LEN => Err(field_error(
                "answer",
                "please keep your answer to 2,000 characters or fewer",
            )),
            Some(text) => Ok(Answer::Text { text }),
        },
        QuestionKind::Contact { fields } => {
            let asks = |f: ContactField| fields.contains(&f);
            let text = |name: &str, field: ContactField| -> Result<String, FieldError> {
                let v = if asks(field) {
                    one(name).unwrap_or_default()
                } else {
                    String::new()
                };
                if v.chars().count() > MAX_CONTACT_TEXT_LEN {
                    return Err(field_error(
                        name,
                        format!("please keep it to {MAX_CONTACT_TEXT_LEN} characters or fewer"),
                    ));
                }
                Ok(v)
            };
            let email = match one("email") {
                Some(raw) if asks(ContactField::Email) => {
                    Some(Email::parse(&raw).map_err(|e| field_error("email", e.to_string()))?)
                }
                _ => None,
            };
            if question.required && asks(ContactField::Email) && email.is_none() {
                return Err(field_error("email", "enter your email address"));
            }
            let name = text("name", ContactField::Name)?;
            if question.required
                && !asks(ContactField::Email)
                && asks(ContactField::Name)
                && name.is_empty()
            {
                return Err(field_error("name", "enter your name"));
            }
            Ok(Answer::Contact {
                email,
                name,
                company: text("company", ContactField::Company)?,
                consent: asks(ContactField::Consent)
                    && one("consent").is_some_and(|v| {
                        matches!(v.to_ascii_lowercase().as_str(), "on" | "yes" | "true" | "1")
                    }),
            })
        }
    }
}

/// Trimmed, without control characters other than line breaks and tabs
/// (a NUL byte cannot even be stored in Postgres).
fn clean(raw: &str) -> String {
    // A form post sends each line break as CRLF, where the browser counted
    // one character against the field's `maxlength`: stored as one, a
    // text that fitted the field fits the limit.
    let kept: String = raw
        .replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    kept.trim().to_string()
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
